//! The packed item format: several prompts in one user message, each in an `<item id="...">`
//! block. The client writes it; the mock's oracle reads it back to answer item by item.

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_round_trip_in_order() {
        let msg = pack_user_message([("a", "x\ny"), ("b", "")]);
        assert!(msg.starts_with("Answer each of the 2 items below on its own."));
        assert_eq!(
            parse_items(&msg),
            vec![
                ("a".to_string(), "x\ny".to_string()),
                ("b".to_string(), String::new())
            ]
        );
    }

    #[test]
    fn unterminated_item_is_dropped() {
        assert_eq!(
            parse_items("<item id=\"a\">\nhi\n</item>\n<item id=\"b\">\nno end"),
            vec![("a".to_string(), "hi".to_string())]
        );
        assert!(parse_items("no items").is_empty());
    }
}
