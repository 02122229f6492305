//! Packing several prompts into one request and unpacking the answer by item id.
//!
//! The user message lists the items, each in an `<item id="...">` block, and asks for one JSON
//! object mapping every id to its answer. Unpacking never trusts positions: it joins by id and
//! reports missing, extra, duplicated and unparsable items so they can be re-asked (see
//! [`unpack`] for the shapes of real answers it reads).

mod unpack;

use serde_json::{Value, json};

pub use unpack::{Unpacked, unpack};

pub use batchbench_core::items::{pack_user_message, parse_items};

/// A strict JSON schema for the answer: one string property per item id, all required.
pub fn answer_schema<'a>(ids: impl IntoIterator<Item = &'a str>) -> Value {
    let ids: Vec<&str> = ids.into_iter().collect();
    let properties: serde_json::Map<String, Value> = ids
        .iter()
        .map(|id| (id.to_string(), json!({"type": "string"})))
        .collect();
    json!({"type": "object", "properties": properties, "required": ids, "additionalProperties": false})
}

/// Output tokens a packed answer needs around its answers: the object's braces, plus room for a
/// markdown fence (` ```json ` … ` ``` `) that models without a response format often add.
pub const JSON_ENVELOPE_TOKENS: u64 = 2 + 6;

/// Output tokens each item adds beside its answer and its id: the quotes around the id and the
/// answer, the colon and the separator (`"id": "…", `), about one token each.
pub const JSON_TOKENS_PER_ITEM: u64 = 6;

/// The `max_tokens` for a packed request: every item's answer budget, id and JSON punctuation,
/// plus the envelope. `id_tokens` holds the token count of each item's id.
pub fn packed_max_tokens(answer_tokens: u64, id_tokens: &[u64]) -> u64 {
    JSON_ENVELOPE_TOKENS
        + id_tokens
            .iter()
            .map(|id| answer_tokens + id + JSON_TOKENS_PER_ITEM)
            .sum::<u64>()
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
        let u = unpack("} {", &["a"]);
        assert!(u.parse_error.is_some());
        let u = unpack("{\"a\": \"Posi", &["a"]);
        assert!(u.parse_error.is_some() && u.truncated);
    }

    #[test]
    fn max_tokens_budget() {
        // 3 items, answers of 16 tokens, ids of 2, 2 and 3 tokens:
        // 8 envelope + (16+2+6) + (16+2+6) + (16+3+6) = 8 + 24 + 24 + 25 = 81
        assert_eq!(packed_max_tokens(16, &[2, 2, 3]), 81);
        assert_eq!(packed_max_tokens(16, &[]), 8);
        assert_eq!(packed_max_tokens(0, &[1]), 15);
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
