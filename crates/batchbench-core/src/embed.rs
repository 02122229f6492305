//! Embedding facts both the client and the mock bill and validate by: OpenAI's per-request
//! limits, each model's native width, the `base64` wire encoding of a vector, and cosine
//! similarity (how the client measures agreement and how the mock's perturbation is defined).

use base64::Engine as _;

/// Most inputs in one `/v1/embeddings` request. Source: openai/openai-python,
/// `types/embedding_create_params.py` (`input`: "any array must be 2048 dimensions or less").
pub const MAX_INPUTS_PER_REQUEST: usize = 2048;

/// Most tokens summed over the inputs of one request. Source: the same docstring ("we also
/// limit the maximum number of tokens summed across inputs to 300,000 tokens in a single
/// request").
pub const MAX_TOKENS_PER_REQUEST: u64 = 300_000;

/// Most tokens in one input for the OpenAI embedding models. Source: the same docstring
/// ("8192 tokens for all embedding models").
pub const MAX_TOKENS_PER_INPUT: u64 = 8192;

/// Most embedding inputs summed over every line of one Batch API job. Source:
/// openai/openai-openapi, `CreateBatchRequest.endpoint` ("`/v1/embeddings` batches are also
/// restricted to a maximum of 50,000 embedding inputs across all requests in the batch").
pub const MAX_INPUTS_PER_BATCH: usize = 50_000;

/// The width a model returns without `dimensions`. Source: ../shared/API-NOTES.md (OpenAI's
/// embeddings guide): text-embedding-3-small 1,536, -large 3,072, ada-002 1,536; other
/// (self-hosted) models: `None`, the server decides.
pub fn native_dimensions(model: &str) -> Option<usize> {
    let m = model.to_ascii_lowercase();
    let m = m.rsplit('/').next().unwrap_or(&m);
    if m.starts_with("text-embedding-3-large") {
        Some(3072)
    } else if m.starts_with("text-embedding-3-small") || m.starts_with("text-embedding-ada-002") {
        Some(1536)
    } else {
        None
    }
}

/// Whether a model takes `dimensions` (only text-embedding-3 and later; ada-002 refuses it).
pub fn accepts_dimensions(model: &str) -> bool {
    !model.to_ascii_lowercase().contains("text-embedding-ada")
}

/// A vector as `encoding_format: "base64"` sends it: its f32 values, little-endian, in
/// standard base64 (what the official SDK decodes with `np.frombuffer(..., dtype="float32")`).
pub fn to_base64(vector: &[f32]) -> String {
    let mut bytes = Vec::with_capacity(vector.len() * 4);
    for v in vector {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Reads a `base64` vector back; an error says what is wrong with the text.
pub fn from_base64(text: &str) -> Result<Vec<f32>, String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| format!("embedding is not valid base64: {e}"))?;
    if bytes.len() % 4 != 0 {
        return Err(format!(
            "base64 embedding has {} bytes, not a whole number of float32 values",
            bytes.len()
        ));
    }
    Ok(bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect())
}

/// Cosine similarity in f64; exactly 1 for bitwise-equal vectors, `None` when the lengths
/// differ or a vector is all zeros (no direction to compare).
pub fn cosine(a: &[f32], b: &[f32]) -> Option<f64> {
    if a.len() != b.len() || a.is_empty() {
        return None;
    }
    if a == b {
        return a.iter().any(|v| *v != 0.0).then_some(1.0);
    }
    let (mut dot, mut na, mut nb) = (0.0f64, 0.0f64, 0.0f64);
    for (x, y) in a.iter().zip(b) {
        let (x, y) = (f64::from(*x), f64::from(*y));
        dot += x * y;
        na += x * x;
        nb += y * y;
    }
    (na > 0.0 && nb > 0.0).then(|| (dot / (na.sqrt() * nb.sqrt())).clamp(-1.0, 1.0))
}

/// Scales a vector to unit length in place (no-op for the zero vector).
pub fn normalise(v: &mut [f32]) {
    let norm = v.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    if norm > 0.0 {
        v.iter_mut()
            .for_each(|x| *x = (f64::from(*x) / norm) as f32);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_is_little_endian_f32() {
        // 1.0f32 = 0x3f800000 → bytes 00 00 80 3f → "AACAPw==".
        assert_eq!(to_base64(&[1.0]), "AACAPw==");
        assert_eq!(from_base64("AACAPw==").unwrap(), vec![1.0]);
        let v = vec![0.25, -0.5, 3.0e-7];
        assert_eq!(from_base64(&to_base64(&v)).unwrap(), v);
        assert!(from_base64("AACA").unwrap_err().contains("whole number"));
        assert!(from_base64("!!").is_err());
    }

    #[test]
    fn cosine_cases() {
        assert_eq!(cosine(&[0.6, 0.8], &[0.6, 0.8]), Some(1.0));
        assert_eq!(cosine(&[1.0, 0.0], &[0.0, 1.0]), Some(0.0));
        assert_eq!(cosine(&[1.0, 0.0], &[-2.0, 0.0]), Some(-1.0));
        assert_eq!(cosine(&[1.0], &[1.0, 0.0]), None);
        assert_eq!(cosine(&[0.0, 0.0], &[0.0, 0.0]), None);
        let c = cosine(&[1.0, 0.0], &[1.0, 1.0]).unwrap();
        assert!((c - std::f64::consts::FRAC_1_SQRT_2).abs() < 1e-12);
    }

    #[test]
    fn widths() {
        assert_eq!(native_dimensions("text-embedding-3-small"), Some(1536));
        assert_eq!(native_dimensions("text-embedding-3-large"), Some(3072));
        assert_eq!(native_dimensions("nomic-embed"), None);
        assert!(!accepts_dimensions("text-embedding-ada-002"));
    }
}
