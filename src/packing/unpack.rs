//! Reading a model's packed answer back into answers by item id.
//!
//! Real models rarely reply with exactly the JSON object that was asked for. They wrap it in a
//! markdown fence or in prose, answer with an array of `{"id", "answer"}` objects, nest the
//! answer (`{"q1": {"answer": "4"}}`) or the whole map (`{"answers": {...}}`), write one object
//! per item, reply with numbers and booleans, change the case of an id, or stop at `max_tokens`
//! in the middle of the JSON. Every one of these is read here; positions are never trusted, only
//! ids.

use std::collections::{HashMap, HashSet};
use std::fmt;

use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

/// What unpacking one packed answer found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Unpacked {
    /// Answers by item id, for the ids that were asked and answered once.
    pub answers: HashMap<String, String>,
    /// Asked ids with no answer (or an answer that is not a string, number or boolean).
    pub missing: Vec<String>,
    /// Ids in the answer that were not asked.
    pub extra: Vec<String>,
    /// Asked ids that appear more than once with different answers (not trusted).
    pub duplicated: Vec<String>,
    /// Set when the text holds no JSON at all; then every id is missing.
    pub parse_error: Option<String>,
    /// The JSON stops before its end (output cut at `max_tokens`): the complete pairs before
    /// the cut are kept, the rest are missing.
    pub truncated: bool,
}

impl Unpacked {
    /// The ids that must be re-asked one by one.
    pub fn to_reask(&self) -> Vec<String> {
        let mut ids = self.missing.clone();
        ids.extend(self.duplicated.iter().cloned());
        ids
    }
}

/// Splits a packed answer back to items by id.
pub fn unpack(text: &str, asked: &[&str]) -> Unpacked {
    let mut out = Unpacked::default();
    let found = find_pairs(text);
    out.truncated = found.truncated;
    if let Some(e) = found.error {
        out.parse_error = Some(e);
        out.missing = asked.iter().map(|s| s.to_string()).collect();
        return out;
    }
    let ids = IdMatcher::new(asked);
    let pairs = flatten(found.pairs, &ids, 0);
    let mut seen: HashMap<&str, Vec<Option<String>>> = HashMap::new();
    for (key, value) in &pairs {
        match ids.find(key) {
            Some(id) => seen.entry(id).or_default().push(answer_text(value)),
            None if !out.extra.contains(key) => out.extra.push(key.clone()),
            None => {}
        }
    }
    for id in asked {
        let answers: Vec<&String> = seen.get(id).into_iter().flatten().flatten().collect();
        match answers.as_slice() {
            [] => out.missing.push(id.to_string()),
            [first, rest @ ..] if rest.iter().all(|a| a == first) => {
                out.answers.insert(id.to_string(), (*first).clone());
            }
            _ => out.duplicated.push(id.to_string()),
        }
    }
    out
}

/// The key/value pairs found in a text, in order, duplicates kept.
struct Found {
    pairs: Vec<(String, Value)>,
    truncated: bool,
    /// Why no pair was found, when none was.
    error: Option<String>,
}

/// Scans the text for JSON objects and arrays (inside fences, between prose, one after another)
/// and collects their pairs. A value cut off by the end of the text keeps its complete pairs.
fn find_pairs(text: &str) -> Found {
    let mut pairs = Vec::new();
    let mut truncated = false;
    let mut i = 0;
    while let Some(off) = text[i..].find(['{', '[']) {
        let start = i + off;
        let mut stream = serde_json::Deserializer::from_str(&text[start..]).into_iter::<Pairs>();
        match stream.next() {
            Some(Ok(Pairs(found))) => {
                pairs.extend(found);
                i = start + stream.byte_offset().max(1);
            }
            Some(Err(e)) if e.is_eof() => {
                truncated = true;
                let closed = close_truncated(&text[start..]);
                if let Some(Ok(Pairs(found))) = closed.as_deref().map(serde_json::from_str) {
                    pairs.extend(found);
                }
                break;
            }
            _ => i = start + 1,
        }
    }
    let error = match (pairs.is_empty(), truncated) {
        (false, _) => None,
        (true, true) => Some("the JSON stops before its first complete answer".into()),
        (true, false) => Some("no JSON object with answers in the reply".into()),
    };
    Found {
        pairs,
        truncated,
        error,
    }
}

/// The longest prefix of cut-off JSON that ends after a complete member or element, with the
/// brackets still open closed: `{"a": "1", "b": "Pos` becomes `{"a": "1"}`.
fn close_truncated(json: &str) -> Option<String> {
    let mut open: Vec<u8> = Vec::new();
    let (mut in_string, mut escaped) = (false, false);
    let mut best: Option<(usize, Vec<u8>)> = None;
    for (pos, b) in json.bytes().enumerate() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => open.push(b),
            b'}' | b']' => {
                open.pop();
                if !open.is_empty() {
                    best = Some((pos + 1, open.clone()));
                }
            }
            b',' if !open.is_empty() => best = Some((pos, open.clone())),
            _ => {}
        }
    }
    let (end, open) = best?;
    let mut out = json[..end].to_string();
    out.extend(
        open.iter()
            .rev()
            .map(|b| if *b == b'{' { '}' } else { ']' }),
    );
    Some(out)
}

/// Unwraps the shapes that hold the pairs one level down: a wrapper key that is not an item id
/// (`{"answers": {...}}`, `{"results": [...]}`), and objects that are one `{id, answer}` item.
fn flatten(pairs: Vec<(String, Value)>, ids: &IdMatcher, depth: usize) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for (key, value) in pairs {
        let nested = matches!(value, Value::Object(_) | Value::Array(_));
        if nested && depth < 2 && ids.find(&key).is_none() {
            out.extend(flatten(value_pairs(value), ids, depth + 1));
        } else {
            out.push((key, value));
        }
    }
    out
}

/// The pairs inside a nested value: an object's entries, or the items of an array.
fn value_pairs(value: Value) -> Vec<(String, Value)> {
    match value {
        Value::Object(map) => item_or_entries(map.into_iter().collect()),
        Value::Array(items) => items
            .into_iter()
            .filter(Value::is_object)
            .flat_map(value_pairs)
            .collect(),
        _ => Vec::new(),
    }
}

/// An object's entries, or its one pair when it is an `{id, answer}` item.
fn item_or_entries(entries: Vec<(String, Value)>) -> Vec<(String, Value)> {
    match id_answer_pair(&entries) {
        Some(pair) => vec![pair],
        None => entries,
    }
}

/// Keys naming the item in an `{id, answer}` object.
const ID_KEYS: [&str; 3] = ["id", "item_id", "item"];
/// Keys holding the answer, in an `{id, answer}` object or a nested value.
const ANSWER_KEYS: [&str; 4] = ["answer", "label", "result", "value"];

fn field<'a>(pairs: &'a [(String, Value)], names: &[&str]) -> Option<&'a Value> {
    names.iter().find_map(|name| {
        pairs
            .iter()
            .find(|(k, _)| k.trim().eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

/// `{"id": "q1", "answer": "4"}` as the pair `("q1", "4")`.
fn id_answer_pair(pairs: &[(String, Value)]) -> Option<(String, Value)> {
    let id = match field(pairs, &ID_KEYS)? {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    Some((id, field(pairs, &ANSWER_KEYS)?.clone()))
}

/// The text of an answer value: strings as they are, numbers in JSON form, booleans as yes/no,
/// `{"answer": …}` and one-element arrays unwrapped.
pub(super) fn answer_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(if *b { "yes" } else { "no" }.to_string()),
        Value::Object(map) => {
            let entries: Vec<(String, Value)> =
                map.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            match field(&entries, &ANSWER_KEYS) {
                Some(v) => answer_text(v),
                None if entries.len() == 1 => answer_text(&entries[0].1),
                None => None,
            }
        }
        Value::Array(items) if items.len() == 1 => answer_text(&items[0]),
        _ => None,
    }
}

/// Matches the keys of an answer to the asked ids: exactly, or when they differ only in case,
/// whitespace or the quotes and brackets around them and that loose form names one asked id.
struct IdMatcher<'a> {
    exact: HashSet<&'a str>,
    loose: HashMap<String, Option<&'a str>>,
}

impl<'a> IdMatcher<'a> {
    fn new(asked: &[&'a str]) -> IdMatcher<'a> {
        let mut loose: HashMap<String, Option<&'a str>> = HashMap::new();
        for id in asked {
            loose
                .entry(loose_id(id))
                .and_modify(|v| {
                    if *v != Some(*id) {
                        *v = None
                    }
                })
                .or_insert(Some(id));
        }
        IdMatcher {
            exact: asked.iter().copied().collect(),
            loose,
        }
    }

    fn find(&self, key: &str) -> Option<&'a str> {
        if let Some(id) = self.exact.get(key) {
            return Some(id);
        }
        self.loose.get(&loose_id(key)).copied().flatten()
    }
}

fn loose_id(id: &str) -> String {
    id.trim_matches(|c: char| c.is_whitespace() || "\"'`<>[]()#".contains(c))
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The pairs of one complete JSON object (its entries, duplicates kept) or array (its items'
/// pairs).
struct Pairs(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Pairs {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(PairsVisitor)
    }
}

struct PairsVisitor;

impl<'de> Visitor<'de> for PairsVisitor {
    type Value = Pairs;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object or array")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Pairs, A::Error> {
        let mut pairs = Vec::new();
        while let Some((k, v)) = map.next_entry::<String, Value>()? {
            pairs.push((k, v));
        }
        Ok(Pairs(item_or_entries(pairs)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Pairs, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Value>()? {
            items.push(item);
        }
        Ok(Pairs(value_pairs(Value::Array(items))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::answer::is_correct;
    use proptest::prelude::*;
    use serde_json::json;

    fn answers(u: &Unpacked, ids: &[&str]) -> Vec<Option<String>> {
        ids.iter().map(|id| u.answers.get(*id).cloned()).collect()
    }

    fn some(v: &[&str]) -> Vec<Option<String>> {
        v.iter().map(|s| Some(s.to_string())).collect()
    }

    /// Real-output shapes (seen from llama.cpp-served small models and hosted models) and the
    /// answers each must give, for the ids q1 and q2.
    #[test]
    fn real_output_shapes() {
        let ids = ["q1", "q2"];
        let cases: [(&str, [&str; 2]); 18] = [
            // 1. the asked shape
            (
                r#"{"q1": "positive", "q2": "negative"}"#,
                ["positive", "negative"],
            ),
            // 2. markdown fence
            ("```json\n{\"q1\": \"4\", \"q2\": \"9\"}\n```", ["4", "9"]),
            // 3. fence without a language, prose before and after
            (
                "Sure! Here are the answers:\n```\n{\"q1\": \"yes\", \"q2\": \"no\"}\n```\nLet me know if you need more.",
                ["yes", "no"],
            ),
            // 4. prose with braces before the JSON
            (
                "Format {id: answer} as asked: {\"q1\": \"a\", \"q2\": \"b\"}",
                ["a", "b"],
            ),
            // 5. top-level array of {id, answer}
            (
                r#"[{"id": "q1", "answer": "positive"}, {"id": "q2", "answer": "neutral"}]"#,
                ["positive", "neutral"],
            ),
            // 6. object values
            (
                r#"{"q1": {"answer": "42"}, "q2": {"answer": 7}}"#,
                ["42", "7"],
            ),
            // 7. numbers and booleans
            (r#"{"q1": 18, "q2": true}"#, ["18", "yes"]),
            // 8. floats and false
            (r#"{"q1": 2.5, "q2": false}"#, ["2.5", "no"]),
            // 9. ids in another case and with whitespace
            (r#"{"Q1": "x", " q2 ": "y"}"#, ["x", "y"]),
            // 10. a wrapper key around the map
            (r#"{"answers": {"q1": "cat", "q2": "dog"}}"#, ["cat", "dog"]),
            // 11. a wrapper key around an array
            (
                r#"{"results": [{"id": "q1", "answer": "1"}, {"id": "q2", "answer": "2"}]}"#,
                ["1", "2"],
            ),
            // 12. one object per item, one per line
            ("{\"q1\": \"red\"}\n{\"q2\": \"blue\"}", ["red", "blue"]),
            // 13. one {id, answer} object per line (JSON lines)
            (
                "{\"id\": \"q1\", \"answer\": \"up\"}\n{\"id\": \"q2\", \"answer\": \"down\"}",
                ["up", "down"],
            ),
            // 14. array of single-entry objects
            (r#"[{"q1": "left"}, {"q2": "right"}]"#, ["left", "right"]),
            // 15. array values with one element, and a `label` key
            (
                r#"{"q1": ["spam"], "q2": {"label": "ham"}}"#,
                ["spam", "ham"],
            ),
            // 16. ids in brackets and quotes as the model echoed them
            (r#"{"<q1>": "one", "'Q2'": "two"}"#, ["one", "two"]),
            // 17. escaped quotes and braces inside answers
            (
                r#"{"q1": "say \"hi\" {now}", "q2": "a, b"}"#,
                ["say \"hi\" {now}", "a, b"],
            ),
            // 18. same answer twice is not a conflict
            (r#"{"q1": "4", "q2": "5", "q1": "4"}"#, ["4", "5"]),
        ];
        for (n, (text, want)) in cases.iter().enumerate() {
            let u = unpack(text, &ids);
            assert_eq!(answers(&u, &ids), some(want), "case {} {text:?}", n + 1);
            assert!(u.to_reask().is_empty(), "case {} {u:?}", n + 1);
            assert!(u.parse_error.is_none() && !u.truncated, "case {}", n + 1);
        }
    }

    #[test]
    fn cut_at_max_tokens_keeps_the_complete_pairs() {
        let ids = ["q1", "q2", "q3"];
        let u = unpack(r#"{"q1": "positive", "q2": "neg"#, &ids);
        assert!(u.truncated && u.parse_error.is_none());
        assert_eq!(answers(&u, &ids), vec![Some("positive".into()), None, None]);
        assert_eq!(u.to_reask(), vec!["q2", "q3"]);

        let u = unpack(
            "```json\n[{\"id\": \"q1\", \"answer\": \"4\"}, {\"id\": \"q2\", \"answer\": \"5\"}, {\"id\": \"q3\", \"ans",
            &ids,
        );
        assert!(u.truncated);
        assert_eq!(
            answers(&u, &ids),
            vec![Some("4".into()), Some("5".into()), None]
        );

        let u = unpack(
            r#"{"answers": {"q1": "a", "q2": {"answer": "b"}, "q3""#,
            &ids,
        );
        assert_eq!(
            answers(&u, &ids),
            vec![Some("a".into()), Some("b".into()), None]
        );
        assert_eq!(u.missing, vec!["q3"]);

        // The pair before the cut is complete even without its comma.
        let u = unpack(r#"{"q1": "x", "q2": "y""#, &ids);
        assert_eq!(answers(&u, &ids), vec![Some("x".into()), None, None]);
    }

    #[test]
    fn loose_ids_that_collide_match_only_exactly() {
        let ids = ["a1", "A1"];
        let u = unpack(r#"{"a1": "x", " A1": "y"}"#, &ids);
        assert_eq!(u.answers.get("a1").map(String::as_str), Some("x"));
        assert_eq!(u.missing, vec!["A1"]);
        assert_eq!(u.extra, vec![" A1"]);
    }

    #[test]
    fn conflicting_and_null_answers_are_reasked() {
        let ids = ["q1", "q2", "q3"];
        let u = unpack(
            r#"{"q1": "4", "Q1": "5", "q2": null, "q3": {"a": 1, "b": 2}}"#,
            &ids,
        );
        assert_eq!(u.duplicated, vec!["q1"]);
        assert_eq!(u.missing, vec!["q2", "q3"]);
    }

    /// Unpacked answers graded as a grader would.
    #[test]
    fn graded_answers() {
        let text = r#"{"q1": "Positive.", "q2": "**42**", "q3": "The answer is $18.", "q4": "18 dollars", "q5": "Yes, because 7 has no divisors."}"#;
        let ids = ["q1", "q2", "q3", "q4", "q5"];
        let u = unpack(text, &ids);
        let got = |id: &str| u.answers[id].as_str();
        assert!(is_correct(Some("sentiment"), got("q1"), "positive"));
        assert!(is_correct(Some("arithmetic"), got("q2"), "42"));
        assert!(is_correct(Some("arithmetic"), got("q3"), "18"));
        assert!(is_correct(Some("arithmetic"), got("q4"), "18"));
        assert!(is_correct(Some("yesno"), got("q5"), "yes"));
        assert!(!is_correct(Some("arithmetic"), got("q4"), "19"));
    }

    /// How a model might lay out the answers it was asked for.
    fn shape(ids: &[String], answers: &[String], style: u8, fenced: bool, upper: bool) -> String {
        let key = |id: &String| if upper { id.to_uppercase() } else { id.clone() };
        let body = match style {
            0 => json!(
                ids.iter()
                    .map(key)
                    .zip(answers)
                    .map(|(k, a)| (k, json!(a)))
                    .collect::<serde_json::Map<_, _>>()
            )
            .to_string(),
            1 => json!(
                ids.iter()
                    .zip(answers)
                    .map(|(id, a)| json!({"id": key(id), "answer": a}))
                    .collect::<Vec<_>>()
            )
            .to_string(),
            2 => json!(
                ids.iter()
                    .map(key)
                    .zip(answers)
                    .map(|(k, a)| (k, json!({"answer": a})))
                    .collect::<serde_json::Map<_, _>>()
            )
            .to_string(),
            _ => ids
                .iter()
                .zip(answers)
                .map(|(id, a)| json!({key(id): a}).to_string())
                .collect::<Vec<_>>()
                .join("\n"),
        };
        if fenced {
            format!("Here you go:\n```json\n{body}\n```\nDone.")
        } else {
            body
        }
    }

    proptest! {
        #[test]
        fn pack_then_model_shaped_output_round_trips(
            answers in proptest::collection::vec("[A-Za-z0-9 .,{}\\[\\]\"]{1,16}", 1..12),
            style in 0u8..4, fenced: bool, upper: bool, cut in 0usize..400,
        ) {
            let ids: Vec<String> = (0..answers.len()).map(|i| format!("item-{i}")).collect();
            let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
            let text = shape(&ids, &answers, style, fenced, upper);
            let u = unpack(&text, &refs);
            prop_assert!(u.to_reask().is_empty(), "{:?} {}", u, text);
            for (id, a) in ids.iter().zip(&answers) {
                prop_assert_eq!(u.answers.get(id), Some(a));
            }
            // Cut anywhere: whatever is kept is right, and every id is accounted for.
            let end = text.char_indices().map(|(i, _)| i).nth(cut).unwrap_or(text.len());
            let u = unpack(&text[..end], &refs);
            prop_assert_eq!(u.answers.len() + u.missing.len() + u.duplicated.len(), ids.len());
            for (id, got) in &u.answers {
                let i = ids.iter().position(|x| x == id).unwrap();
                prop_assert_eq!(got, &answers[i]);
            }
        }
    }
}
