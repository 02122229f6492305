//! Answer normalisation and matching per task type.
//!
//! Models rarely answer in exactly the gold form: "The answer is 42.", "Positive.",
//! "Sentiment: negative", "Yes, 17 is prime". Each task type has one normal form, and an answer
//! counts as correct when its normal form equals the gold answer's normal form (numbers are
//! compared numerically).

/// How the answers of a task are normalised and compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskKind {
    /// A number: the first number in the text, compared numerically.
    Number,
    /// A class label (sentiment, topic, category): one lowercase word.
    Label,
    /// A yes/no answer, decided by the first word.
    YesNo,
    /// Free text: lowercase, whitespace collapsed, trailing punctuation stripped.
    Text,
}

impl TaskKind {
    /// The kind for a dataset's `task` field (case-insensitive); unknown or missing tasks are
    /// [`TaskKind::Text`].
    pub fn from_task(task: Option<&str>) -> TaskKind {
        let Some(task) = task else {
            return TaskKind::Text;
        };
        match task.trim().to_ascii_lowercase().as_str() {
            "arithmetic" | "math" | "number" | "numeric" => TaskKind::Number,
            "sentiment" | "topic" | "classification" | "label" | "category" => TaskKind::Label,
            "yesno" | "yes/no" | "boolean" | "bool" => TaskKind::YesNo,
            _ => TaskKind::Text,
        }
    }
}

/// The normal form of `raw` for answers of kind `kind`.
///
/// - `Number`: the first number in the text, without thousands separators, trailing zeros of
///   the fraction or a decimal point for integers ("1,234" → "1234", "12.50" → "12.5",
///   "The answer is 42." → "42", "$7" → "7", "-3" → "-3"). Text without a number falls back to
///   the `Text` form.
/// - `Label`: one lowercase word without surrounding punctuation or quotes: the first word
///   ("Positive." → "positive"), or the last word after a colon ("Sentiment: positive").
/// - `YesNo`: "yes" or "no" from the first word ("Yes, it is" → "yes", "False" → "no"), or from
///   the first word after a colon ("Answer: no"); anything else falls back to the `Text` form.
/// - `Text`: lowercase, trimmed, whitespace collapsed, trailing punctuation stripped.
pub fn normalise(kind: TaskKind, raw: &str) -> String {
    match kind {
        TaskKind::Number => first_number(raw).unwrap_or_else(|| normalise_text(raw)),
        TaskKind::Label => normalise_label(raw),
        TaskKind::YesNo => {
            normalise_yes_no(raw).map_or_else(|| normalise_text(raw), str::to_string)
        }
        TaskKind::Text => normalise_text(raw),
    }
}

/// Whether the answer `got` matches the gold answer `gold` for a task of type `task`.
///
/// Both are normalised with [`normalise`]; numbers are compared numerically with a tolerance of
/// 1e-9 (relative for numbers larger than 1). An empty answer is never correct.
pub fn is_correct(task: Option<&str>, got: &str, gold: &str) -> bool {
    let kind = TaskKind::from_task(task);
    let got = normalise(kind, got);
    let gold = normalise(kind, gold);
    if got.is_empty() || gold.is_empty() {
        return false;
    }
    if got == gold {
        return true;
    }
    if kind == TaskKind::Number {
        if let (Ok(a), Ok(b)) = (got.parse::<f64>(), gold.parse::<f64>()) {
            if a.is_finite() && b.is_finite() {
                return (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0);
            }
        }
    }
    false
}

/// Free text: lowercase, whitespace collapsed to single spaces, trailing punctuation stripped.
fn normalise_text(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for word in raw.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.chars().flat_map(char::to_lowercase));
    }
    let trimmed = out.trim_end_matches(|c: char| is_trailing_punctuation(c) || c.is_whitespace());
    trimmed.to_string()
}

fn is_trailing_punctuation(c: char) -> bool {
    matches!(
        c,
        '.' | ',' | ';' | ':' | '!' | '?' | '…' | '。' | '！' | '？'
    )
}

/// A word without the punctuation, quotes and markup around it, lowercased.
fn clean_word(word: &str) -> String {
    word.trim_matches(|c: char| !c.is_alphanumeric())
        .chars()
        .flat_map(char::to_lowercase)
        .collect()
}

fn normalise_label(raw: &str) -> String {
    for line in raw.lines() {
        let (segment, after_colon) = match line.rfind(':') {
            Some(i) => (&line[i + 1..], true),
            None => (line, false),
        };
        let mut words = segment
            .split_whitespace()
            .map(clean_word)
            .filter(|w| !w.is_empty());
        let word = if after_colon {
            words.next_back()
        } else {
            words.next()
        };
        if let Some(word) = word {
            return word;
        }
    }
    String::new()
}

fn yes_no_word(word: &str) -> Option<&'static str> {
    match clean_word(word).as_str() {
        "yes" | "y" | "true" | "correct" => Some("yes"),
        "no" | "n" | "false" | "incorrect" => Some("no"),
        _ => None,
    }
}

fn normalise_yes_no(raw: &str) -> Option<&'static str> {
    if let Some(verdict) = raw.split_whitespace().next().and_then(yes_no_word) {
        return Some(verdict);
    }
    let (_, after) = raw.split_once(':')?;
    after.split_whitespace().next().and_then(yes_no_word)
}

/// The first number in `raw`, in canonical form, or `None` when there is none.
fn first_number(raw: &str) -> Option<String> {
    let chars: Vec<char> = raw.chars().collect();
    let n = chars.len();
    let digit = |i: usize| i < n && chars[i].is_ascii_digit();
    let mut i = 0;
    while i < n {
        let starts_integer = digit(i);
        let starts_fraction =
            chars[i] == '.' && digit(i + 1) && (i == 0 || !chars[i - 1].is_ascii_digit());
        if !starts_integer && !starts_fraction {
            i += 1;
            continue;
        }
        // A sign counts when it directly precedes the number and does not join two words
        // ("-3" is negative, "3-4" and "COVID-19" are not).
        let negative = i > 0
            && matches!(chars[i - 1], '-' | '\u{2212}')
            && (i < 2 || !chars[i - 2].is_alphanumeric());
        let mut int_part = String::new();
        let mut j = i;
        while digit(j) {
            int_part.push(chars[j]);
            j += 1;
            // Thousands separator: a comma followed by exactly three digits.
            if j < n
                && chars[j] == ','
                && !int_part.is_empty()
                && digit(j + 1)
                && digit(j + 2)
                && digit(j + 3)
                && !digit(j + 4)
            {
                j += 1;
            }
        }
        let mut frac_part = String::new();
        if j < n && chars[j] == '.' && digit(j + 1) {
            j += 1;
            while digit(j) {
                frac_part.push(chars[j]);
                j += 1;
            }
        }
        return Some(canonical_number(negative, &int_part, &frac_part));
    }
    None
}

/// Leading zeros of the integer part and trailing zeros of the fraction dropped; "-0" is "0".
fn canonical_number(negative: bool, int_part: &str, frac_part: &str) -> String {
    let int_part = int_part.trim_start_matches('0');
    let frac_part = frac_part.trim_end_matches('0');
    let mut out = String::with_capacity(int_part.len() + frac_part.len() + 3);
    if negative && !(int_part.is_empty() && frac_part.is_empty()) {
        out.push('-');
    }
    out.push_str(if int_part.is_empty() { "0" } else { int_part });
    if !frac_part.is_empty() {
        out.push('.');
        out.push_str(frac_part);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn task_kinds() {
        for t in ["arithmetic", "math", "Number", "NUMERIC", " math "] {
            assert_eq!(TaskKind::from_task(Some(t)), TaskKind::Number, "{t}");
        }
        for t in ["sentiment", "Topic", "classification", "label", "category"] {
            assert_eq!(TaskKind::from_task(Some(t)), TaskKind::Label, "{t}");
        }
        for t in ["yesno", "YES/NO", "boolean", "bool"] {
            assert_eq!(TaskKind::from_task(Some(t)), TaskKind::YesNo, "{t}");
        }
        for t in ["", "summary", "translation", "yes no"] {
            assert_eq!(TaskKind::from_task(Some(t)), TaskKind::Text, "{t}");
        }
        assert_eq!(TaskKind::from_task(None), TaskKind::Text);
    }

    #[test]
    fn numbers() {
        let cases = [
            ("42", "42"),
            ("-3", "-3"),
            ("1,234", "1234"),
            ("1,234,567 apples", "1234567"),
            ("12.50", "12.5"),
            ("12.0", "12"),
            ("The answer is 42.", "42"),
            ("$7", "7"),
            ("$1,299.99 in total", "1299.99"),
            ("007", "7"),
            ("0", "0"),
            ("-0", "0"),
            ("-0.0", "0"),
            ("0.50", "0.5"),
            (".5", "0.5"),
            ("about 3-4 hours", "3"),
            ("COVID-19", "19"),
            ("x = -12", "-12"),
            ("\u{2212}8 degrees", "-8"),
            ("50%", "50"),
            ("1, 2, 3", "1"),
            ("1,23", "1"),
            ("12,3456", "12"),
            ("Answer: 17\nExplanation: 10 + 7", "17"),
            ("  **30** days", "30"),
            ("v1.2.3", "1.2"),
            ("3.14159", "3.14159"),
            ("100.", "100"),
        ];
        for (raw, want) in cases {
            assert_eq!(normalise(TaskKind::Number, raw), want, "{raw:?}");
        }
        assert_eq!(normalise(TaskKind::Number, "No idea."), "no idea");
        assert_eq!(normalise(TaskKind::Number, ""), "");
    }

    #[test]
    fn labels() {
        let cases = [
            ("positive", "positive"),
            ("Positive.", "positive"),
            ("  NEGATIVE  ", "negative"),
            ("\"neutral\"", "neutral"),
            ("'Neutral'", "neutral"),
            ("**Positive**", "positive"),
            ("Sentiment: positive", "positive"),
            ("Sentiment: Negative.", "negative"),
            ("label: very positive", "positive"),
            ("Positive. The reviewer loved it.", "positive"),
            ("Negative\nBecause the food was cold.", "negative"),
            ("Sci-Fi", "sci-fi"),
            ("(neutral)", "neutral"),
            ("Answer:\nnegative", "negative"),
            ("", ""),
            ("...", ""),
        ];
        for (raw, want) in cases {
            assert_eq!(normalise(TaskKind::Label, raw), want, "{raw:?}");
        }
    }

    #[test]
    fn yes_no() {
        let cases = [
            ("yes", "yes"),
            ("Yes.", "yes"),
            ("YES!", "yes"),
            ("y", "yes"),
            ("True", "yes"),
            ("correct", "yes"),
            ("Yes, 17 is a prime number.", "yes"),
            ("no", "no"),
            ("No.", "no"),
            ("N", "no"),
            ("false", "no"),
            ("Incorrect", "no"),
            ("No, 48 is smaller than 84.", "no"),
            ("Answer: yes", "yes"),
            ("Answer: No.", "no"),
            ("\"yes\"", "yes"),
            ("Maybe.", "maybe"),
            ("", ""),
        ];
        for (raw, want) in cases {
            assert_eq!(normalise(TaskKind::YesNo, raw), want, "{raw:?}");
        }
    }

    #[test]
    fn text() {
        let cases = [
            ("Paris", "paris"),
            ("  Paris.  ", "paris"),
            ("The   Eiffel\tTower!", "the eiffel tower"),
            ("Hello,\n world?!", "hello, world"),
            ("f(x)", "f(x)"),
            ("", ""),
            ("...", ""),
        ];
        for (raw, want) in cases {
            assert_eq!(normalise(TaskKind::Text, raw), want, "{raw:?}");
        }
    }

    #[test]
    fn correctness() {
        assert!(is_correct(Some("arithmetic"), "The answer is 42.", "42"));
        assert!(is_correct(Some("arithmetic"), "12.50", "12.5"));
        assert!(is_correct(Some("math"), "1,234", "1234"));
        assert!(is_correct(Some("number"), "$7", "7"));
        assert!(is_correct(Some("number"), "0.30000000000000004", "0.3"));
        assert!(!is_correct(Some("number"), "41", "42"));
        assert!(!is_correct(Some("number"), "0.3001", "0.3"));
        assert!(!is_correct(Some("number"), "-3", "3"));
        assert!(!is_correct(Some("number"), "no idea", "42"));
        assert!(is_correct(
            Some("sentiment"),
            "Sentiment: Positive.",
            "positive"
        ));
        assert!(!is_correct(Some("sentiment"), "negative", "positive"));
        assert!(is_correct(Some("yesno"), "Yes, it is.", "yes"));
        assert!(is_correct(Some("yesno"), "false", "no"));
        assert!(!is_correct(Some("yesno"), "No.", "yes"));
        assert!(is_correct(None, "  Paris. ", "paris"));
        assert!(!is_correct(None, "London", "Paris"));
        assert!(!is_correct(None, "", ""));
        assert!(!is_correct(Some("yesno"), "   ", "yes"));
        let huge = "9".repeat(400);
        assert!(is_correct(Some("number"), &huge, &huge));
        assert!(!is_correct(Some("number"), &huge, &format!("{huge}8")));
    }

    const KINDS: [TaskKind; 4] = [
        TaskKind::Number,
        TaskKind::Label,
        TaskKind::YesNo,
        TaskKind::Text,
    ];

    proptest! {
        #[test]
        fn normalise_never_panics(raw in any::<String>(), task in any::<Option<String>>()) {
            for kind in KINDS {
                let _ = normalise(kind, &raw);
            }
            let _ = is_correct(task.as_deref(), &raw, &raw);
            let _ = is_correct(Some("number"), &raw, "1");
        }

        #[test]
        fn normalise_is_idempotent_on_ascii(raw in "[ -~\t\n]{0,40}") {
            for kind in KINDS {
                let once = normalise(kind, &raw);
                prop_assert_eq!(normalise(kind, &once), once.clone(), "{:?} {:?}", kind, raw);
            }
        }

        #[test]
        fn numbers_round_trip(n in any::<i64>()) {
            prop_assert_eq!(normalise(TaskKind::Number, &format!("The result is {n}.")), n.to_string());
            let padded = format!("{}.00", n);
            prop_assert!(is_correct(Some("arithmetic"), &padded, &n.to_string()));
        }
    }
}
