//! A seeded synthetic prompt generator with gold answers it can verify itself.
//!
//! Three task types rotate: `arithmetic` word problems (gold: a non-negative integer),
//! `sentiment` of short reviews (gold: positive, negative or neutral) and `yesno` factual
//! questions the generator checks itself (gold: yes or no, exactly balanced in pairs).
//!
//! Every prompt is derived from its own ChaCha8 stream (the stream number is the prompt's
//! index), so the output is the same on every platform, prompt `i` does not depend on how many
//! prompts are generated, and any number of prompts can be streamed in constant memory.

use std::io::Write;

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::Prompt;

/// Shared instructions for generated sets: sent once per request, the prefix packing and caching
/// exploit.
pub const DEFAULT_INSTRUCTIONS: &str = "You are a careful assistant that answers short questions of three kinds. \
Answer each question with only the answer and nothing else: no explanation, no units, no punctuation.\n\n\
Arithmetic word problems: work out the result and give only the final number, written in digits \
(for example 42, never forty-two). Quantities are whole numbers and results are never negative.\n\
Example: \"A baker made 24 rolls in the morning and 18 rolls in the afternoon. How many rolls did the baker make?\" -> 42\n\
Example: \"Mia had 50 stickers and gave 13 of them to her brother. How many stickers does Mia have left?\" -> 37\n\
Example: \"A crate holds 6 rows of 8 apples. How many apples are in 3 crates?\" -> 144\n\n\
Reviews: give the sentiment of the review as one word: positive, negative or neutral. \
A review that is mixed, lukewarm or merely factual is neutral.\n\
Example: \"The battery lasts all day and the screen is gorgeous.\" -> positive\n\
Example: \"It broke after a week and support never answered.\" -> negative\n\
Example: \"The film was fine; some scenes worked, others dragged.\" -> neutral\n\n\
Yes/no questions: answer yes or no, in lowercase, after checking the facts the question states.\n\
Example: \"Is 21 a prime number?\" -> no\n\
Example: \"Is 56 greater than 47?\" -> yes\n\
Example: \"Does the word 'garden' contain the letter 'd'?\" -> yes\n\
Example: \"Is 2/5 larger than 1/2?\" -> no";

/// The prefix of generated ids: prompt 1 is `q000001`.
pub const ID_PREFIX: &str = "q";

/// Generates `count` prompts from `seed` (ids `q000001`, `q000002`, ...), held in memory.
///
/// Use [`prompts`] or [`generate_to`] to stream large sets instead.
pub fn generate(count: usize, seed: u64) -> Vec<Prompt> {
    prompts(count, seed).collect()
}

/// Streams `count` prompts from `seed`, one at a time; the same prompts as [`generate`].
pub fn prompts(count: usize, seed: u64) -> impl Iterator<Item = Prompt> {
    let generator = Generator::new(seed);
    (1..=count).map(move |index| generator.prompt(index))
}

/// Writes a JSONL dataset: the header record `{"instructions": ...}`, then one line per prompt.
pub fn write_jsonl(
    out: &mut impl Write,
    instructions: &str,
    prompts: impl IntoIterator<Item = Prompt>,
) -> std::io::Result<()> {
    #[derive(serde::Serialize)]
    struct Header<'a> {
        instructions: &'a str,
    }
    let mut line = Vec::with_capacity(512);
    serde_json::to_writer(&mut line, &Header { instructions })?;
    line.push(b'\n');
    out.write_all(&line)?;
    for prompt in prompts {
        line.clear();
        serde_json::to_writer(&mut line, &prompt)?;
        line.push(b'\n');
        out.write_all(&line)?;
    }
    out.flush()
}

/// Streams a generated dataset of `count` prompts from `seed`, with [`DEFAULT_INSTRUCTIONS`] as
/// its header, in constant memory.
pub fn generate_to(out: &mut impl Write, count: usize, seed: u64) -> std::io::Result<()> {
    write_jsonl(out, DEFAULT_INSTRUCTIONS, prompts(count, seed))
}

/// Derives every prompt from the seed and its index alone.
struct Generator {
    seed: u64,
    key: [u8; 32],
}

impl Generator {
    fn new(seed: u64) -> Self {
        Generator {
            seed,
            key: ChaCha8Rng::seed_from_u64(seed).get_seed(),
        }
    }

    /// The prompt with 1-based index `index`.
    fn prompt(&self, index: usize) -> Prompt {
        let mut rng = Rng::new(self.key, index as u64);
        // Tasks rotate; `ordinal` counts the prompts of the same task before this one.
        let ordinal = (index as u64 - 1) / 3;
        let (task, text, answer) = match (index - 1) % 3 {
            0 => {
                let (text, answer) = arithmetic(&mut rng);
                ("arithmetic", text, answer.to_string())
            }
            1 => {
                let label = self.sentiment_label(ordinal);
                ("sentiment", sentiment(&mut rng, label), label.to_string())
            }
            _ => {
                let yes = self.yes_wanted(ordinal);
                (
                    "yesno",
                    yes_no(&mut rng, yes),
                    if yes { "yes" } else { "no" }.to_string(),
                )
            }
        };
        Prompt {
            id: format!("{ID_PREFIX}{index:06}"),
            prompt: text,
            answer: Some(answer),
            task: Some(task.to_string()),
        }
    }

    /// Yes/no golds come in pairs holding one yes and one no, in a seeded order.
    fn yes_wanted(&self, ordinal: u64) -> bool {
        let flip = self.block_hash(0x79e5_0001, ordinal / 2) & 1 == 1;
        (ordinal % 2 == 0) != flip
    }

    /// Sentiment golds come in triples holding each label once, in a seeded order.
    fn sentiment_label(&self, ordinal: u64) -> &'static str {
        const ORDERS: [[usize; 3]; 6] = [
            [0, 1, 2],
            [0, 2, 1],
            [1, 0, 2],
            [1, 2, 0],
            [2, 0, 1],
            [2, 1, 0],
        ];
        const LABELS: [&str; 3] = ["positive", "negative", "neutral"];
        let order = ORDERS[(self.block_hash(0x5e47_0002, ordinal / 3) % 6) as usize];
        LABELS[order[(ordinal % 3) as usize]]
    }

    fn block_hash(&self, salt: u64, block: u64) -> u64 {
        splitmix64(self.seed ^ splitmix64(block ^ (salt << 32)))
    }
}

fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A ChaCha8 stream with portable helpers (plain modulo on 64-bit draws: the bias is below
/// 1e-16 for the small ranges used here, and the mapping can never change under us).
struct Rng(ChaCha8Rng);

impl Rng {
    fn new(key: [u8; 32], stream: u64) -> Self {
        let mut rng = ChaCha8Rng::from_seed(key);
        rng.set_stream(stream);
        Rng(rng)
    }

    /// A number in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.0.next_u64() % (hi - lo + 1)
    }

    /// An index below `n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.0.next_u64() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    fn coin(&mut self) -> bool {
        self.0.next_u64() & 1 == 1
    }
}

const NAMES: [&str; 24] = [
    "Amara", "Ben", "Chloe", "Dmitri", "Elena", "Farid", "Grace", "Hiro", "Isla", "Jonas", "Kemi",
    "Liam", "Maya", "Noah", "Olga", "Priya", "Quinn", "Rosa", "Sami", "Tariq", "Uma", "Victor",
    "Wen", "Zara",
];

const ITEMS: [&str; 18] = [
    "apples",
    "pencils",
    "marbles",
    "stickers",
    "books",
    "cookies",
    "stamps",
    "cards",
    "oranges",
    "coins",
    "eggs",
    "balloons",
    "tickets",
    "shells",
    "buttons",
    "crayons",
    "cupcakes",
    "postcards",
];

/// (plural, singular)
const CONTAINERS: [(&str, &str); 6] = [
    ("boxes", "box"),
    ("bags", "bag"),
    ("packs", "pack"),
    ("crates", "crate"),
    ("jars", "jar"),
    ("baskets", "basket"),
];

/// An arithmetic word problem and its (non-negative) result.
fn arithmetic(rng: &mut Rng) -> (String, u64) {
    let n_idx = rng.below(NAMES.len());
    let name = NAMES[n_idx];
    let other = NAMES[(n_idx + 1 + rng.below(NAMES.len() - 1)) % NAMES.len()];
    let item = rng.pick(&ITEMS);
    let (boxes, a_box) = CONTAINERS[rng.below(CONTAINERS.len())];
    let template = rng.below(3);
    match rng.below(4) {
        0 => {
            let (a, b) = (rng.range(2, 99), rng.range(2, 99));
            let text = match template {
                0 => format!(
                    "{name} has {a} {item}. {other} gives {name} {b} more {item}. How many {item} does {name} have now?"
                ),
                1 => format!(
                    "A shop sold {a} {item} in the morning and {b} {item} in the afternoon. How many {item} did the shop sell that day?"
                ),
                _ => format!(
                    "{name} collected {a} {item} on Monday and {b} {item} on Tuesday. How many {item} did {name} collect over the two days?"
                ),
            };
            (text, a + b)
        }
        1 => {
            let a = rng.range(10, 99);
            let b = rng.range(2, a);
            let text = match template {
                0 => format!(
                    "{name} had {a} {item} and gave {b} of them to {other}. How many {item} does {name} have left?"
                ),
                1 => format!(
                    "A cupboard held {a} {item}. {name} took out {b} {item}. How many {item} are still in the cupboard?"
                ),
                _ => format!(
                    "{name} needs {a} {item} for a school project and already has {b}. How many more {item} does {name} need?"
                ),
            };
            (text, a - b)
        }
        2 => {
            let (a, b) = (rng.range(2, 12), rng.range(2, 12));
            let text = match template {
                0 => format!(
                    "{name} buys {a} {boxes} of {item}. Each {a_box} holds {b} {item}. How many {item} does {name} buy in total?"
                ),
                1 => format!(
                    "There are {a} tables in a classroom, and each table has {b} {item} on it. How many {item} are there altogether?"
                ),
                _ => format!(
                    "{name} fills {a} {boxes} and puts {b} {item} into each {a_box}. How many {item} does {name} pack?"
                ),
            };
            (text, a * b)
        }
        _ => match template {
            0 => {
                let (a, b, c) = (rng.range(2, 50), rng.range(2, 9), rng.range(2, 12));
                let d = rng.range(2, a + b * c);
                let text = format!(
                    "{name} has {a} {item} and buys {b} {boxes} with {c} {item} in each. Then {name} gives {d} {item} to {other}. How many {item} does {name} have now?"
                );
                (text, a + b * c - d)
            }
            1 => {
                let a = rng.range(10, 60);
                let (b, c) = (rng.range(2, a), rng.range(2, 40));
                let text = format!(
                    "{name} starts with {a} {item}, gives {b} to {other}, and then finds {c} more. How many {item} does {name} have now?"
                );
                (text, a - b + c)
            }
            _ => {
                let a = rng.range(5, 60);
                let b = rng.range(2, a);
                let text = format!(
                    "{name} and {other} each have {a} {item}. {name} gives away {b} of them. How many {item} do they have together now?"
                );
                (text, 2 * a - b)
            }
        },
    }
}

const REVIEW_DOMAINS: [(&str, [&str; 6]); 3] = [
    (
        "restaurant",
        [
            "The pasta",
            "The soup",
            "Our waiter",
            "The dessert",
            "The pizza",
            "The curry",
        ],
    ),
    (
        "product",
        [
            "This blender",
            "The headphones",
            "This phone charger",
            "The backpack",
            "This kettle",
            "The desk lamp",
        ],
    ),
    (
        "film",
        [
            "The film",
            "The plot",
            "The lead actor",
            "The soundtrack",
            "The ending",
            "This sequel",
        ],
    ),
];

const POSITIVE: [&str; 6] = [
    "was absolutely wonderful",
    "exceeded all my expectations",
    "was a real delight",
    "was excellent in every way",
    "impressed me from start to finish",
    "was far better than I had hoped",
];
const NEGATIVE: [&str; 6] = [
    "was a huge disappointment",
    "was truly awful",
    "was a complete waste of money",
    "left me angry and frustrated",
    "was far worse than I had feared",
    "was poor in every way",
];
const NEUTRAL: [&str; 6] = [
    "was about average",
    "was neither good nor bad",
    "was fairly ordinary",
    "was okay, nothing more and nothing less",
    "was neither impressive nor disappointing",
    "was middle of the road",
];
const POSITIVE_CLOSERS: [&str; 5] = [
    "I would happily recommend it.",
    "Five stars from me.",
    "Highly recommended.",
    "I am very pleased.",
    "Absolutely worth it.",
];
const NEGATIVE_CLOSERS: [&str; 5] = [
    "I would not recommend it.",
    "One star at most.",
    "Avoid it.",
    "I am very unhappy.",
    "Not worth it at all.",
];
const NEUTRAL_CLOSERS: [&str; 5] = [
    "Three stars.",
    "I have no strong feelings either way.",
    "It was fine overall.",
    "Nothing stood out.",
    "It was an average experience.",
];

/// A short review with the polarity `label`.
fn sentiment(rng: &mut Rng, label: &str) -> String {
    let (domain, subjects) = REVIEW_DOMAINS[rng.below(REVIEW_DOMAINS.len())];
    let subject = rng.pick(&subjects);
    let (predicates, closers) = match label {
        "positive" => (POSITIVE, POSITIVE_CLOSERS),
        "negative" => (NEGATIVE, NEGATIVE_CLOSERS),
        _ => (NEUTRAL, NEUTRAL_CLOSERS),
    };
    let predicate = rng.pick(&predicates);
    let closer = rng.pick(&closers);
    format!("What is the sentiment of this {domain} review? \"{subject} {predicate}. {closer}\"")
}

const LEAD_INS: [&str; 6] = [
    "A student is checking facts for homework.",
    "Here is a quick question to verify.",
    "This is a short factual question.",
    "Please settle this small question.",
    "Think carefully before you answer this.",
    "Here is a question from a quiz.",
];

const WORDS: [&str; 40] = [
    "banana", "apple", "orange", "window", "garden", "planet", "river", "candle", "pencil",
    "jacket", "rabbit", "tomato", "guitar", "button", "silver", "forest", "bridge", "castle",
    "dragon", "lemon", "mirror", "pocket", "rocket", "saddle", "tunnel", "violin", "walnut",
    "yellow", "zebra", "marble", "harbor", "kitten", "meadow", "basket", "copper", "dolphin",
    "feather", "island", "ladder", "muffin",
];

/// The primes below 200.
const PRIMES: [u64; 46] = [
    2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97,
    101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167, 173, 179, 181, 191, 193,
    197, 199,
];

/// A factual yes/no question whose true answer is yes when `yes` is true, no otherwise.
fn yes_no(rng: &mut Rng, yes: bool) -> String {
    let lead = rng.pick(&LEAD_INS);
    let question = match rng.below(9) {
        0 => {
            let n = if yes {
                PRIMES[rng.below(PRIMES.len())]
            } else {
                let p = rng.range(2, 13);
                p * rng.range(2, 199 / p)
            };
            format!("Is {n} a prime number?")
        }
        1 => {
            let a = rng.range(10, 999);
            let reversed: u64 = a
                .to_string()
                .chars()
                .rev()
                .collect::<String>()
                .parse()
                .unwrap_or(a);
            let mut b = if rng.below(3) == 0 && reversed != a && reversed >= 10 {
                reversed
            } else {
                10 + (a - 10 + 1 + rng.range(0, 988)) % 990
            };
            let mut a = a;
            let greater = rng.coin();
            if (if greater { a > b } else { a < b }) != yes {
                std::mem::swap(&mut a, &mut b);
            }
            let relation = if greater { "greater" } else { "less" };
            format!("Is {a} {relation} than {b}?")
        }
        2 => {
            let word = rng.pick(&WORDS);
            let letters: Vec<char> = ('a'..='z').filter(|c| word.contains(*c) == yes).collect();
            let letter = letters[rng.below(letters.len())];
            format!("Does the word '{word}' contain the letter '{letter}'?")
        }
        3 => {
            let (mut b, mut d) = (rng.range(2, 12), rng.range(2, 12));
            let (mut a, mut c) = (rng.range(1, b - 1), rng.range(1, d - 1));
            if a * d == c * b {
                // Equal fractions (such as 1/2 and 3/6) have no yes/no answer: make c/d smaller.
                d += 1;
            }
            if (a * d > c * b) != yes {
                std::mem::swap(&mut a, &mut c);
                std::mem::swap(&mut b, &mut d);
            }
            format!("Is {a}/{b} larger than {c}/{d}?")
        }
        4 => {
            let mut n = rng.range(2, 998);
            let even = rng.coin();
            if (n % 2 == 0) != (even == yes) {
                n += 1;
            }
            format!("Is {n} an {} number?", if even { "even" } else { "odd" })
        }
        5 => {
            let d = rng.range(3, 9);
            let mut n = d * rng.range(2, 60);
            if !yes {
                n += rng.range(1, d - 1);
            }
            format!("Is {n} divisible by {d}?")
        }
        6 => {
            let (a, b) = (rng.range(2, 99), rng.range(2, 99));
            let delta = rng.range(1, 9);
            let c = if yes {
                a + b
            } else if rng.coin() {
                a + b + delta
            } else {
                a + b - delta.min(a + b - 1)
            };
            format!("Is {a} plus {b} equal to {c}?")
        }
        7 => {
            let word = rng.pick(&WORDS);
            let len = word.len() as u64;
            let k = if yes {
                rng.range(2, len - 1)
            } else {
                rng.range(len, len + 3)
            };
            format!("Does the word '{word}' have more than {k} letters?")
        }
        _ => {
            let i = rng.below(WORDS.len());
            let j = (i + 1 + rng.below(WORDS.len() - 1)) % WORDS.len();
            let (mut first, mut second) = (WORDS[i], WORDS[j]);
            if (first < second) != yes {
                std::mem::swap(&mut first, &mut second);
            }
            format!("Does the word '{first}' come before '{second}' in alphabetical order?")
        }
    };
    format!("{lead} {question}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::answer::{TaskKind, is_correct, normalise};
    use std::collections::HashSet;
    use std::path::Path;

    fn is_prime(n: u64) -> bool {
        n >= 2 && (2..).take_while(|d| d * d <= n).all(|d| n % d != 0)
    }

    fn numbers(text: &str) -> Vec<u64> {
        text.split(|c: char| !c.is_ascii_digit())
            .filter(|s| !s.is_empty())
            .filter_map(|s| s.parse().ok())
            .collect()
    }

    fn quoted(text: &str) -> Vec<&str> {
        text.split('\'').skip(1).step_by(2).collect()
    }

    /// Solves a generated word problem from its text alone.
    fn solve_arithmetic(text: &str) -> u64 {
        let n = numbers(text);
        if text.contains("gives away") {
            2 * n[0] - n[1]
        } else if text.contains("in each. Then") {
            n[0] + n[1] * n[2] - n[3]
        } else if text.contains("then finds") {
            n[0] - n[1] + n[2]
        } else if text.contains("Each ")
            || text.contains("each table")
            || text.contains("into each")
        {
            n[0] * n[1]
        } else if text.contains(" gave ")
            || text.contains("took out")
            || text.contains("already has")
        {
            n[0] - n[1]
        } else {
            assert!(
                text.contains("more") || text.contains("sold") || text.contains("collected"),
                "{text}"
            );
            n[0] + n[1]
        }
    }

    /// Answers a generated yes/no question from its text alone.
    fn solve_yes_no(text: &str) -> bool {
        let n = numbers(text);
        let q = quoted(text);
        if text.contains("prime number") {
            is_prime(n[0])
        } else if text.contains("greater than") {
            n[0] > n[1]
        } else if text.contains("less than") {
            n[0] < n[1]
        } else if text.contains("contain the letter") {
            q[0].contains(q[1])
        } else if text.contains('/') {
            n[0] * n[3] > n[2] * n[1]
        } else if text.contains("even number") {
            n[0] % 2 == 0
        } else if text.contains("odd number") {
            n[0] % 2 == 1
        } else if text.contains("divisible by") {
            n[0] % n[1] == 0
        } else if text.contains(" plus ") {
            n[0] + n[1] == n[2]
        } else if text.contains("letters?") {
            q[0].len() as u64 > n[0]
        } else {
            assert!(text.contains("alphabetical order"), "{text}");
            q[0] < q[1]
        }
    }

    fn bytes(count: usize, seed: u64) -> Vec<u8> {
        let mut out = Vec::new();
        generate_to(&mut out, count, seed).unwrap();
        out
    }

    #[test]
    fn deterministic_per_seed() {
        assert_eq!(generate(600, 7), generate(600, 7));
        assert_ne!(generate(600, 7), generate(600, 8));
        assert_eq!(bytes(300, 1), bytes(300, 1));
        assert_ne!(bytes(300, 1), bytes(300, 2));
        // Prompt i depends on the seed and i alone.
        assert_eq!(generate(10, 3)[..], generate(100, 3)[..10]);
        assert!(generate(0, 3).is_empty());
        assert_eq!(String::from_utf8(bytes(0, 3)).unwrap().lines().count(), 1);
    }

    #[test]
    fn tasks_and_answers_are_balanced() {
        let set = generate(3000, 11);
        let count = |task: &str| {
            set.iter()
                .filter(|p| p.task.as_deref() == Some(task))
                .count()
        };
        assert_eq!(
            (count("arithmetic"), count("sentiment"), count("yesno")),
            (1000, 1000, 1000)
        );
        let answers = |task: &str, answer: &str| {
            set.iter()
                .filter(|p| p.task.as_deref() == Some(task) && p.answer.as_deref() == Some(answer))
                .count()
        };
        assert_eq!(answers("yesno", "yes"), 500);
        assert_eq!(answers("yesno", "no"), 500);
        for label in ["positive", "negative", "neutral"] {
            let n = answers("sentiment", label);
            assert!((333..=334).contains(&n), "{label}: {n}");
        }
        // Not a fixed pattern: the first ten yes/no answers are not strictly alternating.
        let yes: Vec<bool> = set
            .iter()
            .filter(|p| p.task.as_deref() == Some("yesno"))
            .map(|p| p.answer.as_deref() == Some("yes"))
            .collect();
        assert!(yes.windows(2).any(|w| w[0] == w[1]));
    }

    #[test]
    fn arithmetic_golds_are_correct() {
        let set = generate(9000, 5);
        for p in set
            .iter()
            .filter(|p| p.task.as_deref() == Some("arithmetic"))
        {
            let gold: u64 = p.answer.as_deref().unwrap().parse().unwrap();
            assert_eq!(solve_arithmetic(&p.prompt), gold, "{}: {}", p.id, p.prompt);
            assert!(is_correct(
                p.task.as_deref(),
                &format!("The answer is {gold}."),
                &gold.to_string()
            ));
        }
    }

    #[test]
    fn yes_no_and_sentiment_golds_are_correct() {
        let set = generate(9000, 9);
        for p in &set {
            let gold = p.answer.as_deref().unwrap();
            match p.task.as_deref() {
                Some("yesno") => {
                    let want = if solve_yes_no(&p.prompt) { "yes" } else { "no" };
                    assert_eq!(gold, want, "{}: {}", p.id, p.prompt);
                }
                Some("sentiment") => {
                    let pools: [(&str, &[&str]); 3] = [
                        ("positive", &POSITIVE),
                        ("negative", &NEGATIVE),
                        ("neutral", &NEUTRAL),
                    ];
                    let found: Vec<&str> = pools
                        .iter()
                        .filter(|(_, pool)| pool.iter().any(|phrase| p.prompt.contains(phrase)))
                        .map(|(label, _)| *label)
                        .collect();
                    assert_eq!(found, [gold], "{}", p.prompt);
                }
                _ => {}
            }
            assert_eq!(
                normalise(TaskKind::from_task(p.task.as_deref()), gold),
                gold
            );
        }
    }

    #[test]
    fn ids_unique_and_prompts_short() {
        let set = generate(30_000, 3);
        assert_eq!(set[0].id, "q000001");
        assert_eq!(set[29_999].id, "q030000");
        let ids: HashSet<&str> = set.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids.len(), set.len());
        for p in &set {
            let words = p.prompt.split_whitespace().count();
            assert!((10..=40).contains(&words), "{words} words: {}", p.prompt);
            crate::dataset::validate("gen", p).unwrap();
        }
        assert_eq!(Generator::new(3).prompt(1_000_001).id, "q1000001");
        assert!(PRIMES.iter().all(|&p| is_prime(p)));
        assert_eq!((2..200).filter(|&n| is_prime(n)).count(), PRIMES.len());
    }

    #[test]
    fn written_file_loads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gen.jsonl");
        let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        generate_to(&mut file, 500, 77).unwrap();
        drop(file);
        let set = crate::dataset::load(&path, None).unwrap();
        assert_eq!(set.instructions, DEFAULT_INSTRUCTIONS);
        assert_eq!(set.prompts, generate(500, 77));
        let mut custom = Vec::new();
        write_jsonl(&mut custom, "Be brief.", generate(2, 1)).unwrap();
        let text = String::from_utf8(custom).unwrap();
        assert!(
            text.starts_with("{\"instructions\":\"Be brief.\"}\n{\"id\":\"q000001\","),
            "{text}"
        );
        assert_eq!(text.lines().count(), 3);
    }

    #[test]
    fn shipped_default_matches_generator() {
        let shipped = include_str!("../../datasets/default.jsonl");
        let generated = String::from_utf8(bytes(240, 42)).unwrap();
        assert!(
            shipped == generated,
            "datasets/default.jsonl differs from generate_to(240, 42)"
        );
    }

    #[test]
    fn shipped_long_context_set() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/long-context.jsonl");
        let set = crate::dataset::load(&path, None).unwrap();
        let tokens = tiktoken_rs::o200k_base_singleton().count_ordinary(&set.instructions);
        // Over 4,096 tokens: cacheable on every model, Anthropic Haiku 4.5 and Opus included.
        assert!(
            (4_200..=8_000).contains(&tokens),
            "{tokens} tokens of instructions"
        );
        println!("long-context instructions: {tokens} tokens");
        let answered: Vec<&Prompt> = set.prompts.iter().filter(|p| p.answer.is_some()).collect();
        assert!(answered.len() >= 50, "{} answered prompts", answered.len());
        let mut yes_no = (0, 0);
        for p in &set.prompts {
            let gold = p.answer.as_deref().unwrap();
            match TaskKind::from_task(p.task.as_deref()) {
                TaskKind::Number => assert!(gold.parse::<f64>().is_ok(), "{}: {gold}", p.id),
                TaskKind::YesNo => match gold {
                    "yes" => yes_no.0 += 1,
                    "no" => yes_no.1 += 1,
                    _ => panic!("{}: {gold}", p.id),
                },
                other => panic!("{}: unexpected task kind {other:?}", p.id),
            }
        }
        assert!(yes_no.0 >= 5 && yes_no.1 >= 5, "{yes_no:?}");
    }

    #[test]
    fn default_instructions_cover_every_task() {
        // Few-shot instructions: long enough that packing has a shared prefix to save on.
        let tokens = tiktoken_rs::o200k_base_singleton().count_ordinary(DEFAULT_INSTRUCTIONS);
        assert!((250..=600).contains(&tokens), "{tokens}");
        for needle in ["number", "positive", "negative", "neutral", "yes or no"] {
            assert!(DEFAULT_INSTRUCTIONS.contains(needle), "{needle}");
        }
    }
}
