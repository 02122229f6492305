//! Packing several prompts into one request and unpacking the answer by item id.
//!
//! The user message lists the items, each in an `<item id="...">` block, and asks for one JSON
//! object mapping every id to its answer. Unpacking never trusts positions: it joins by id and
//! reports missing, extra, duplicated and unparsable items so they can be re-asked.

use std::collections::{HashMap, HashSet};
use std::fmt;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::{Value, json};

/// The user message for a packed request.
pub fn pack_user_message<'a>(items: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let items: Vec<(&str, &str)> = items.into_iter().collect();
    let example = items.first().map(|(id, _)| *id).unwrap_or("id");
    let mut out = format!(
        "Answer each of the {} items below on its own. Reply with only a JSON object that maps every item id to its answer, \
         for example {{\"{example}\": \"...\"}}. Include every id exactly once.\n",
        items.len()
    );
    for (id, text) in items {
        out.push_str("\n<item id=\"");
        out.push_str(id);
        out.push_str("\">\n");
        out.push_str(text);
        out.push_str("\n</item>\n");
    }
    out
}

/// The items of a packed user message, in order: (id, text). Used by the mock's oracle.
pub fn parse_items(message: &str) -> Vec<(String, String)> {
    let mut items = Vec::new();
    let mut rest = message;
    while let Some(start) = rest.find("<item id=\"") {
        let after = &rest[start + 10..];
        let Some(q) = after.find("\">") else { break };
        let id = &after[..q];
        let body = &after[q + 2..];
        let Some(end) = body.find("</item>") else {
            break;
        };
        items.push((id.to_string(), body[..end].trim_matches('\n').to_string()));
        rest = &body[end + 7..];
    }
    items
}

/// A strict JSON schema for the answer: one string property per item id, all required.
pub fn answer_schema<'a>(ids: impl IntoIterator<Item = &'a str>) -> Value {
    let ids: Vec<&str> = ids.into_iter().collect();
    let properties: serde_json::Map<String, Value> = ids
        .iter()
        .map(|id| (id.to_string(), json!({"type": "string"})))
        .collect();
    json!({"type": "object", "properties": properties, "required": ids, "additionalProperties": false})
}

/// What unpacking one packed answer found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Unpacked {
    /// Answers by item id, for the ids that were asked and answered once.
    pub answers: HashMap<String, String>,
    /// Asked ids with no answer (or an answer that is not a string, number or boolean).
    pub missing: Vec<String>,
    /// Ids in the answer that were not asked.
    pub extra: Vec<String>,
    /// Asked ids that appear more than once (their answers are not trusted).
    pub duplicated: Vec<String>,
    /// Set when the text holds no JSON object at all; then every id is missing.
    pub parse_error: Option<String>,
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
    let pairs = match parse_pairs(text) {
        Ok(p) => p,
        Err(e) => {
            out.parse_error = Some(e);
            out.missing = asked.iter().map(|s| s.to_string()).collect();
            return out;
        }
    };
    let asked_set: HashSet<&str> = asked.iter().copied().collect();
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for (k, _) in &pairs {
        *counts.entry(k.as_str()).or_default() += 1;
    }
    for (k, v) in &pairs {
        if !asked_set.contains(k.as_str()) {
            if !out.extra.contains(k) {
                out.extra.push(k.clone());
            }
            continue;
        }
        if counts[k.as_str()] > 1 {
            continue;
        }
        let answer = match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(if *b {
                "yes".to_string()
            } else {
                "no".to_string()
            }),
            _ => None,
        };
        if let Some(a) = answer {
            out.answers.insert(k.clone(), a);
        }
    }
    for id in asked {
        if counts.get(id).copied().unwrap_or(0) > 1 {
            out.duplicated.push(id.to_string());
        } else if !out.answers.contains_key(*id) {
            out.missing.push(id.to_string());
        }
    }
    out
}

/// Finds the JSON object in a model's answer (inside a code fence or surrounding prose) and reads
/// its key/value pairs in order, keeping duplicated keys.
fn parse_pairs(text: &str) -> Result<Vec<(String, Value)>, String> {
    let start = text.find('{').ok_or("no JSON object in the answer")?;
    let end = text.rfind('}').ok_or("no JSON object in the answer")?;
    if end < start {
        return Err("no JSON object in the answer".into());
    }
    let mut de = serde_json::Deserializer::from_str(&text[start..=end]);
    let pairs = de
        .deserialize_map(PairsVisitor)
        .map_err(|e| format!("invalid JSON object: {e}"))?;
    Ok(pairs)
}

struct PairsVisitor;

impl<'de> Visitor<'de> for PairsVisitor {
    type Value = Vec<(String, Value)>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut pairs = Vec::new();
        while let Some((k, v)) = map.next_entry::<String, Value>()? {
            pairs.push((k, v));
        }
        Ok(pairs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn round_trip_items() {
        let msg = pack_user_message([("q1", "What is 2+2?"), ("q2", "Is 7 prime?\nThink.")]);
        assert!(msg.starts_with("Answer each of the 2 items"));
        assert_eq!(
            parse_items(&msg),
            vec![
                ("q1".to_string(), "What is 2+2?".to_string()),
                ("q2".to_string(), "Is 7 prime?\nThink.".to_string())
            ]
        );
        let schema = answer_schema(["q1", "q2"]);
        assert_eq!(schema["required"], json!(["q1", "q2"]));
        assert_eq!(schema["additionalProperties"], false);
    }

    #[test]
    fn unpack_clean_answer() {
        let u = unpack("{\"q1\": \"4\", \"q2\": \"yes\"}", &["q1", "q2"]);
        assert_eq!(u.answers.len(), 2);
        assert!(u.to_reask().is_empty() && u.extra.is_empty() && u.parse_error.is_none());
    }

    #[test]
    fn unpack_detects_every_defect() {
        let text = "Here you go:\n```json\n{\"q1\": \"4\", \"q1\": \"5\", \"q3\": 7, \"zz\": \"?\", \"q4\": null}\n```";
        let u = unpack(text, &["q1", "q2", "q3", "q4"]);
        assert_eq!(u.answers.get("q3").map(String::as_str), Some("7"));
        assert_eq!(u.duplicated, vec!["q1"]);
        assert_eq!(u.missing, vec!["q2", "q4"]);
        assert_eq!(u.extra, vec!["zz"]);
        assert_eq!(u.to_reask(), vec!["q2", "q4", "q1"]);
    }

    #[test]
    fn unpack_unparsable() {
        let u = unpack("I cannot answer that.", &["a", "b"]);
        assert!(u.parse_error.is_some());
        assert_eq!(u.missing, vec!["a", "b"]);
        let u = unpack("{\"a\": \"1\", \"b\": ", &["a", "b"]);
        assert!(u.parse_error.is_some());
        let u = unpack("} {", &["a"]);
        assert!(u.parse_error.is_some());
    }

    proptest! {
        #[test]
        fn unpack_never_panics_and_accounts_for_every_id(text in ".{0,200}", n in 1usize..6) {
            let ids: Vec<String> = (0..n).map(|i| format!("q{i}")).collect();
            let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
            let u = unpack(&text, &refs);
            prop_assert_eq!(u.answers.len() + u.missing.len() + u.duplicated.len(), n);
        }

        #[test]
        fn packed_answers_round_trip(answers in proptest::collection::vec("[a-z0-9 ]{0,12}", 1..20)) {
            let ids: Vec<String> = (0..answers.len()).map(|i| format!("id-{i}")).collect();
            let obj: serde_json::Map<String, Value> = ids.iter().cloned().zip(answers.iter().map(|a| json!(a))).collect();
            let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
            let u = unpack(&Value::Object(obj).to_string(), &refs);
            prop_assert!(u.to_reask().is_empty());
            for (id, a) in ids.iter().zip(&answers) {
                prop_assert_eq!(u.answers.get(id), Some(a));
            }
        }
    }
}
