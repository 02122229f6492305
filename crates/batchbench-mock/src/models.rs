//! The model ids the mock accepts: what genai-prices prices for each provider (for Gemini, the
//! `gemini-*` and `gemma-*` ids of its `google` provider), their dated and `-latest` variants
//! (`gpt-4o-mini-2024-07-18`, `claude-haiku-4-5-20251001`; Gemini's `-001` style), and any
//! model named in the configuration. Anything else is a 404, as on the real APIs.

use std::collections::BTreeSet;

use super::errors::Api;

/// Known model ids per provider.
#[derive(Debug, Clone, Default)]
pub struct KnownModels {
    openai: BTreeSet<String>,
    anthropic: BTreeSet<String>,
    gemini: BTreeSet<String>,
    extra: BTreeSet<String>,
    any: bool,
}

impl KnownModels {
    /// From the bundled price data plus `extra` ids; `any` accepts every model.
    pub fn new(extra: &[String], any: bool) -> KnownModels {
        KnownModels {
            openai: bases("openai"),
            anthropic: bases("anthropic"),
            gemini: bases("google")
                .into_iter()
                .filter(|id| id.starts_with("gemini") || id.starts_with("gemma"))
                .collect(),
            extra: extra.iter().cloned().collect(),
            any,
        }
    }

    /// Whether `model` is served on `api`.
    pub fn accepts(&self, api: Api, model: &str) -> bool {
        if self.any || self.extra.contains(model) {
            return true;
        }
        let set = self.set(api);
        if set.contains(model) {
            return true;
        }
        // A dated or -latest variant of a known base id.
        let mut end = model.len();
        while let Some(i) = model[..end].rfind('-') {
            let suffix = &model[i + 1..];
            let gemini_revision = api == Api::Gemini && suffix.len() == 3 && digits(suffix);
            if set.contains(&model[..i]) && (is_version_suffix(suffix) || gemini_revision) {
                return true;
            }
            end = i;
        }
        false
    }

    fn set(&self, api: Api) -> &BTreeSet<String> {
        match api {
            Api::OpenAi => &self.openai,
            Api::Anthropic => &self.anthropic,
            Api::Gemini => &self.gemini,
        }
    }

    /// The ids listed by `GET /v1/models` (OpenAI's and, for Anthropic clients, Anthropic's) and
    /// `GET /v1beta/models` (Gemini's).
    pub fn list(&self, api: Api) -> Vec<String> {
        self.set(api)
            .iter()
            .chain(self.extra.iter())
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    }
}

fn digits(t: &str) -> bool {
    !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit())
}

/// `2024-07-18`, `20241022` or `latest` (after the model's base id).
fn is_version_suffix(s: &str) -> bool {
    if s == "latest" || (s.len() == 8 && digits(s)) {
        return true;
    }
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 3 && parts[0].len() == 4 && parts.iter().all(|p| digits(p))
}

fn bases(provider: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let calc = genai_prices::Calculator::bundled();
    if let Ok(Some(p)) = calc.find_provider(Some(provider), None) {
        for m in p.models() {
            let id = m.id().to_string();
            if let Some(base) = id.strip_suffix("-latest") {
                out.insert(base.to_string());
            }
            if let Some(base) = id.strip_suffix("-0") {
                out.insert(base.to_string());
            }
            out.insert(id);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_variants() {
        let k = KnownModels::new(&["my-model".to_string()], false);
        assert!(k.accepts(Api::OpenAi, "gpt-4o-mini"));
        assert!(k.accepts(Api::OpenAi, "gpt-4o-mini-2024-07-18"));
        assert!(k.accepts(Api::OpenAi, "gpt-5"));
        assert!(!k.accepts(Api::OpenAi, "gpt-4o-mini-banana"));
        assert!(!k.accepts(Api::OpenAi, "claude-haiku-4-5"));
        assert!(k.accepts(Api::Anthropic, "claude-haiku-4-5"));
        assert!(k.accepts(Api::Anthropic, "claude-haiku-4-5-20251001"));
        assert!(k.accepts(Api::Anthropic, "claude-3-5-haiku-20241022"));
        assert!(k.accepts(Api::Anthropic, "claude-sonnet-4-20250514"));
        assert!(k.accepts(Api::Anthropic, "my-model"));
        assert!(!k.accepts(Api::Anthropic, "nope"));
        assert!(KnownModels::new(&[], true).accepts(Api::OpenAi, "anything"));
        assert!(k.list(Api::OpenAi).contains(&"gpt-4o".to_string()));
        assert!(k.accepts(Api::Gemini, "gemini-2.5-flash"));
        assert!(k.accepts(Api::Gemini, "gemini-2.0-flash-001"));
        assert!(!k.accepts(Api::Gemini, "claude-haiku-4-5"));
        assert!(!k.accepts(Api::Gemini, "gemini-9-ultra"));
        assert!(!k.accepts(Api::OpenAi, "gemini-2.5-flash"));
    }
}
