//! Planning an embedding strategy: which texts go in which request. Arrays take consecutive
//! texts up to K, lowered to the per-request limits (2,048 inputs, 300,000 tokens summed:
//! [`batchbench_core::embed`]); a text over the per-input limit travels alone, so the server's
//! refusal fails only that text.

use batchbench_core::embed::{
    MAX_INPUTS_PER_REQUEST, MAX_TOKENS_PER_INPUT, MAX_TOKENS_PER_REQUEST,
};

use super::strategy::EmbedStrategy;

/// One text with its client-side token count.
#[derive(Debug, Clone, PartialEq)]
pub struct Text<'a> {
    /// Its id.
    pub id: &'a str,
    /// The text.
    pub text: &'a str,
    /// Tokens by the model's encoding.
    pub tokens: u64,
}

/// One planned request.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    /// Its id (the batch `custom_id`).
    pub id: String,
    /// The texts' ids, in input order.
    pub ids: Vec<String>,
    /// The texts.
    pub inputs: Vec<String>,
    /// Each text's client-side token count.
    pub tokens: Vec<u64>,
}

/// A strategy's requests and what planning had to change.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// The requests, in order.
    pub requests: Vec<Planned>,
    /// Limits that lowered K, and texts over the per-input limit.
    pub warnings: Vec<String>,
}

/// Plans `strategy` over `texts`; `per_input_limit`: whether the model has OpenAI's 8,192-token
/// input limit (self-hosted servers set their own).
pub fn plan(strategy: EmbedStrategy, texts: &[Text<'_>], per_input_limit: bool) -> Plan {
    let label = strategy.to_string();
    let asked = strategy.inputs_per_request();
    let k = asked.min(MAX_INPUTS_PER_REQUEST);
    let mut out = Plan::default();
    if k < asked {
        out.warnings.push(format!(
            "{label}: K lowered from {asked} to {MAX_INPUTS_PER_REQUEST}, the most inputs one request takes"
        ));
    }
    let mut token_capped = 0;
    let mut oversized = 0;
    let mut current: Vec<&Text<'_>> = Vec::new();
    let flush = |current: &mut Vec<&Text<'_>>, out: &mut Plan| {
        if current.is_empty() {
            return;
        }
        out.requests.push(Planned {
            id: format!("e{:05}", out.requests.len() + 1),
            ids: current.iter().map(|t| t.id.to_string()).collect(),
            inputs: current.iter().map(|t| t.text.to_string()).collect(),
            tokens: current.iter().map(|t| t.tokens).collect(),
        });
        current.clear();
    };
    for t in texts {
        if per_input_limit && t.tokens > MAX_TOKENS_PER_INPUT {
            oversized += 1;
            flush(&mut current, &mut out);
            current.push(t);
            flush(&mut current, &mut out);
            continue;
        }
        let sum: u64 = current.iter().map(|x| x.tokens).sum();
        if !current.is_empty() && sum + t.tokens > MAX_TOKENS_PER_REQUEST {
            token_capped += 1;
            flush(&mut current, &mut out);
        }
        current.push(t);
        if current.len() == k {
            flush(&mut current, &mut out);
        }
    }
    flush(&mut current, &mut out);
    if token_capped > 0 {
        out.warnings.push(format!(
            "{label}: {token_capped} request(s) closed before K texts to stay under {MAX_TOKENS_PER_REQUEST} tokens per request"
        ));
    }
    if oversized > 0 {
        out.warnings.push(format!(
            "{label}: {oversized} text(s) over the model's {MAX_TOKENS_PER_INPUT}-token input limit were sent alone (the server will refuse them)"
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(tokens: &[u64]) -> Vec<(String, u64)> {
        tokens
            .iter()
            .enumerate()
            .map(|(i, t)| (format!("t{i}"), *t))
            .collect()
    }

    fn view(v: &[(String, u64)]) -> Vec<Text<'_>> {
        v.iter()
            .map(|(id, t)| Text {
                id,
                text: id,
                tokens: *t,
            })
            .collect()
    }

    fn sizes(p: &Plan) -> Vec<usize> {
        p.requests.iter().map(|r| r.ids.len()).collect()
    }

    #[test]
    fn arrays_take_k_and_the_last_takes_the_rest() {
        let t = texts(&[5; 10]);
        assert_eq!(
            sizes(&plan(EmbedStrategy::Array(4), &view(&t), true)),
            vec![4, 4, 2]
        );
        assert_eq!(
            sizes(&plan(EmbedStrategy::Sequential, &view(&t), true)),
            vec![1; 10]
        );
        let p = plan(EmbedStrategy::BatchApiArray(3), &view(&t), true);
        assert_eq!(p.requests[3].ids, vec!["t9"]);
        assert!(p.warnings.is_empty());
    }

    #[test]
    fn limits_lower_k() {
        let t = texts(&[1; 5000]);
        let p = plan(EmbedStrategy::Array(5000), &view(&t), true);
        assert_eq!(sizes(&p), vec![2048, 2048, 904]);
        assert!(p.warnings[0].contains("lowered from 5000 to 2048"));
        // 8,000-token texts: 37 fit under 300,000 (296,000), the 38th starts the next request.
        let t = texts(&[8000; 40]);
        let p = plan(EmbedStrategy::Array(64), &view(&t), true);
        assert_eq!(sizes(&p), vec![37, 3]);
        assert!(p.warnings[0].contains("300000 tokens"));
        let t = texts(&[3, 9000, 3]);
        let p = plan(EmbedStrategy::Array(8), &view(&t), true);
        assert_eq!(sizes(&p), vec![1, 1, 1]);
        assert_eq!(
            sizes(&plan(EmbedStrategy::Array(8), &view(&t), false)),
            vec![3]
        );
    }
}
