//! OpenAI wire types: the `chat.completion` object and its usage as serde structs (the hot
//! path serialises them without building a JSON tree), and the list-page and optional-field
//! rules of the OpenAPI spec.

use serde_json::{Value, json};

/// Leaves out the named keys of an object whose value is null: the OpenAPI spec types them
/// as plain strings or integers that are optional but not nullable, so an unset one is absent
/// (the SDKs read an absent field as unset).
pub fn omit_nulls(mut value: Value, keys: &[&str]) -> Value {
    if let Some(map) = value.as_object_mut() {
        for key in keys {
            if map.get(*key).is_some_and(Value::is_null) {
                map.remove(*key);
            }
        }
    }
    value
}

/// An OpenAI list page: `first_id` / `last_id` are the page's ends, left out when it is empty.
pub fn list_page(page: Vec<Value>, has_more: bool) -> Value {
    let first = page.first().and_then(|v| v.get("id")).cloned();
    let last = page.last().and_then(|v| v.get("id")).cloned();
    omit_nulls(
        json!({
            "object": "list",
            "data": page,
            "first_id": first,
            "last_id": last,
            "has_more": has_more,
        }),
        &["first_id", "last_id"],
    )
}
