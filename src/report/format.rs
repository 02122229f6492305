//! Number formatting every exporter shares, kept apart from the exporters so that the finding
//! modules they call can use it too without importing them back.

/// A whole number with thousands separators: `12,345`.
pub fn fmt_int(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands() {
        assert_eq!(super::fmt_int(0), "0");
        assert_eq!(super::fmt_int(999), "999");
        assert_eq!(super::fmt_int(1_000), "1,000");
        assert_eq!(super::fmt_int(12_345_678), "12,345,678");
    }
}
