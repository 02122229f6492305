//! The embedding strategies, as `--strategies` names them: how many texts go in one request and
//! whether requests go through the Batch API.

use std::fmt;
use std::str::FromStr;

/// One embedding strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmbedStrategy {
    /// One text per request, one request at a time: the baseline every other is compared to.
    Sequential,
    /// One text per request, C in flight.
    Concurrent(usize),
    /// K texts per request (the `input` array), one request at a time.
    Array(usize),
    /// One text per Batch API line (half price, up to 24 h).
    BatchApi,
    /// K texts per Batch API line.
    BatchApiArray(usize),
}

/// The strategies run when `--strategies` is not given.
pub fn defaults() -> Vec<EmbedStrategy> {
    vec![
        EmbedStrategy::Sequential,
        EmbedStrategy::Concurrent(8),
        EmbedStrategy::Array(64),
        EmbedStrategy::BatchApi,
        EmbedStrategy::BatchApiArray(64),
    ]
}

impl EmbedStrategy {
    /// Texts per request as asked (K), 1 for single-text strategies.
    pub fn inputs_per_request(self) -> usize {
        match self {
            EmbedStrategy::Array(k) | EmbedStrategy::BatchApiArray(k) => k,
            _ => 1,
        }
    }

    /// Requests in flight for ordinary requests.
    pub fn concurrency(self) -> usize {
        match self {
            EmbedStrategy::Concurrent(c) => c,
            _ => 1,
        }
    }

    /// Whether it goes through the Batch API.
    pub fn uses_batch_api(self) -> bool {
        matches!(
            self,
            EmbedStrategy::BatchApi | EmbedStrategy::BatchApiArray(_)
        )
    }

    /// Parses a comma-separated list; an error names the bad entry and lists the valid ones.
    pub fn parse_list(list: &str) -> Result<Vec<EmbedStrategy>, String> {
        let mut out: Vec<EmbedStrategy> = Vec::new();
        for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let s: EmbedStrategy = name.parse()?;
            if out.contains(&s) {
                return Err(format!("strategy {name} is listed twice"));
            }
            out.push(s);
        }
        if out.is_empty() {
            return Err("--strategies is empty".into());
        }
        Ok(out)
    }
}

/// Texts per request of a strategy label (1 for anything that is not `embed:*array:K`), for
/// summaries read back from rows.
pub fn inputs_per_request(label: &str) -> usize {
    label
        .parse::<EmbedStrategy>()
        .map_or(1, EmbedStrategy::inputs_per_request)
}

impl fmt::Display for EmbedStrategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EmbedStrategy::Sequential => write!(f, "embed:sequential"),
            EmbedStrategy::Concurrent(c) => write!(f, "embed:concurrent:{c}"),
            EmbedStrategy::Array(k) => write!(f, "embed:array:{k}"),
            EmbedStrategy::BatchApi => write!(f, "embed:batch-api"),
            EmbedStrategy::BatchApiArray(k) => write!(f, "embed:batch-api+array:{k}"),
        }
    }
}

const VALID: &str =
    "embed:sequential, embed:concurrent:C, embed:array:K, embed:batch-api, embed:batch-api+array:K";

fn positive(name: &str, n: &str, what: &str) -> Result<usize, String> {
    match n.parse::<usize>() {
        Ok(v) if v >= 1 => Ok(v),
        _ => Err(format!(
            "strategy {name:?}: {what} must be a whole number of at least 1"
        )),
    }
}

impl FromStr for EmbedStrategy {
    type Err = String;

    fn from_str(name: &str) -> Result<EmbedStrategy, String> {
        let unknown = || format!("unknown embedding strategy {name:?}; valid: {VALID}");
        let rest = name.strip_prefix("embed:").ok_or_else(unknown)?;
        Ok(match rest {
            "sequential" => EmbedStrategy::Sequential,
            "batch-api" => EmbedStrategy::BatchApi,
            _ => {
                if let Some(c) = rest.strip_prefix("concurrent:") {
                    EmbedStrategy::Concurrent(positive(name, c, "C")?)
                } else if let Some(k) = rest.strip_prefix("array:") {
                    EmbedStrategy::Array(positive(name, k, "K")?)
                } else if let Some(k) = rest.strip_prefix("batch-api+array:") {
                    EmbedStrategy::BatchApiArray(positive(name, k, "K")?)
                } else {
                    return Err(unknown());
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in defaults() {
            assert_eq!(s.to_string().parse::<EmbedStrategy>().unwrap(), s);
        }
        assert_eq!(inputs_per_request("embed:batch-api+array:16"), 16);
        assert_eq!(inputs_per_request("packed:8"), 1);
        assert!(
            "embed:array:0"
                .parse::<EmbedStrategy>()
                .unwrap_err()
                .contains("at least 1")
        );
        assert!(
            "sequential"
                .parse::<EmbedStrategy>()
                .unwrap_err()
                .contains("valid:")
        );
        assert!(EmbedStrategy::parse_list("embed:sequential,embed:sequential").is_err());
        assert_eq!(
            EmbedStrategy::parse_list("embed:array:4, embed:batch-api")
                .unwrap()
                .len(),
            2
        );
    }
}
