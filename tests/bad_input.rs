//! Bad input everywhere batchbench reads it: `bench.toml`, price override files, `--prices-data`,
//! `mock.toml`, command-line values, `compare` inputs and dataset encodings. Each case expects exit
//! code 2 and one `error:` line naming the file or flag (or the value) at fault, and never a panic.
//! Nothing is sent anywhere: every case fails before a request, or runs the in-process mock on
//! 127.0.0.1. (Dataset line errors already covered by tests/cli_errors.rs are not repeated here.)

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

/// What a finished batchbench process left behind.
struct Out {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs batchbench in the repository root with no keys or base URLs in the environment, waiting at
/// most `limit` (then it is killed and the test fails).
fn bb_within(args: &[&str], limit: Duration) -> Out {
    let f = common::run_within(common::command(args), limit);
    Out {
        code: f.code,
        stdout: String::from_utf8_lossy(&f.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&f.stderr).into_owned(),
    }
}

fn bb(args: &[&str]) -> Out {
    bb_within(args, Duration::from_secs(120))
}

fn no_panic(o: &Out, args: &[&str]) {
    for text in [&o.stdout, &o.stderr] {
        assert!(
            !text.contains("panicked")
                && !text.contains("RUST_BACKTRACE")
                && !text.contains("stack backtrace"),
            "{args:?} panicked: {text}"
        );
    }
}

/// Exit 2, exactly one line on stderr, `error: ...` holding every needle.
fn expect_error(args: &[&str], needles: &[&str]) -> String {
    let o = bb(args);
    no_panic(&o, args);
    let err = o.stderr.trim_end();
    assert_eq!(o.code, Some(2), "{args:?}: exit code; stderr: {err}");
    assert_eq!(
        err.lines().count(),
        1,
        "{args:?}: one line expected: {err:?}"
    );
    assert!(err.starts_with("error: "), "{args:?}: {err:?}");
    for n in needles {
        assert!(err.contains(n), "{args:?}: expected {n:?} in {err:?}");
    }
    err.to_string()
}

/// Exit 2 from the argument parser (clap): its first line is the one `error:` line and names the
/// flag or value; clap then adds a usage hint, which is allowed.
fn expect_parse_error(args: &[&str], needles: &[&str]) -> String {
    let o = bb(args);
    no_panic(&o, args);
    assert_eq!(o.code, Some(2), "{args:?}: exit code; stderr: {}", o.stderr);
    let errors: Vec<&str> = o
        .stderr
        .lines()
        .filter(|l| l.starts_with("error:"))
        .collect();
    assert_eq!(
        errors.len(),
        1,
        "{args:?}: one error line expected: {:?}",
        o.stderr
    );
    for n in needles {
        assert!(
            errors[0].contains(n),
            "{args:?}: expected {n:?} in {:?}",
            errors[0]
        );
    }
    errors[0].to_string()
}

fn write(dir: &Path, name: &str, text: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// Common tail for `run` cases that would otherwise start: a private out folder, tiny and fast.
fn run_args<'a>(out: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec!["run", "--quiet", "--out", out];
    a.extend_from_slice(extra);
    a
}

// ---------------------------------------------------------------------------------------------
// bench.toml
// ---------------------------------------------------------------------------------------------

#[test]
fn bench_toml_unknown_key() {
    let d = tmp();
    let f = write(
        d.path(),
        "bench.toml",
        b"model = \"gpt-4o-mini\"\nsede = 3\n",
    );
    expect_error(&["run", "--config", &f], &[&format!("{f}:2"), "sede"]);
}

#[test]
fn bench_toml_wrong_type() {
    let d = tmp();
    let f = write(d.path(), "bench.toml", b"seed = \"three\"\n");
    expect_error(&["run", "--config", &f], &[&format!("{f}:1"), "three"]);
    let f = write(d.path(), "bench2.toml", b"strategies = 8\n");
    expect_error(&["run", "--config", &f], &[&format!("{f}:1")]);
}

#[test]
fn bench_toml_bad_toml_syntax() {
    let d = tmp();
    let f = write(d.path(), "bench.toml", b"# ok\nmodel = \"unterminated\n");
    expect_error(
        &["run", "--config", &f],
        &[&format!("{f}:2"), "invalid TOML"],
    );
}

#[test]
fn bench_toml_negative_seed() {
    let d = tmp();
    let f = write(d.path(), "bench.toml", b"seed = -3\n");
    expect_error(&["run", "--config", &f], &[&format!("{f}:1"), "-3"]);
}

#[test]
fn bench_toml_bad_inline_price_override() {
    let d = tmp();
    let f = write(
        d.path(),
        "bench.toml",
        b"[models.\"mine\"]\ninput_mtok = -2.0\noutput_mtok = 1.0\n",
    );
    expect_error(&["run", "--config", &f], &[&f, "input_mtok"]);
}

#[test]
fn bench_toml_missing_file() {
    expect_error(
        &["run", "--config", "/nonexistent/bench.toml"],
        &["/nonexistent/bench.toml"],
    );
}

// ---------------------------------------------------------------------------------------------
// Price override files (--prices) and price data files (--prices-data)
// ---------------------------------------------------------------------------------------------

#[test]
fn prices_override_negative_rate() {
    let d = tmp();
    let f = write(
        d.path(),
        "p.toml",
        b"[models.\"m\"]\ninput_mtok = -1.0\noutput_mtok = 1.0\n",
    );
    expect_error(
        &["prices", "--prices", &f],
        &[&f, "input_mtok", "non-negative"],
    );
    let f = write(
        d.path(),
        "nan.toml",
        b"[models.\"m\"]\ninput_mtok = 1.0\noutput_mtok = nan\n",
    );
    expect_error(&["prices", "--prices", &f], &[&f, "output_mtok"]);
}

#[test]
fn prices_override_missing_output_mtok() {
    let d = tmp();
    let f = write(d.path(), "p.toml", b"[models.\"m\"]\ninput_mtok = 1.0\n");
    expect_error(&["prices", "--prices", &f], &[&f, "output_mtok"]);
}

#[test]
fn prices_override_unknown_key() {
    let d = tmp();
    let f = write(
        d.path(),
        "p.toml",
        b"[models.\"m\"]\ninput_mtok = 1.0\noutput_mtok = 1.0\nbogus = 3\n",
    );
    expect_error(&["prices", "--prices", &f], &[&format!("{f}:4"), "bogus"]);
}

#[test]
fn prices_override_batch_discount_above_one() {
    let d = tmp();
    let f = write(
        d.path(),
        "p.toml",
        b"[models.\"m\"]\ninput_mtok = 1.0\noutput_mtok = 1.0\nbatch_discount = 1.5\n",
    );
    expect_error(&["prices", "--prices", &f], &[&f, "batch_discount"]);
}

#[test]
fn prices_override_bad_file_given_to_run() {
    let d = tmp();
    let out = d.path().join("out").display().to_string();
    let f = write(
        d.path(),
        "p.toml",
        b"[models.\"m\"]\ninput_mtok = 1.0\noutput_mtok = -1.0\n",
    );
    expect_error(&run_args(&out, &["--prices", &f]), &[&f, "output_mtok"]);
    assert!(
        !Path::new(&out).exists(),
        "nothing written for a bad price file"
    );
}

#[test]
fn prices_data_not_json() {
    let d = tmp();
    let f = write(d.path(), "data.json", b"this is not json\n");
    expect_error(
        &["prices", "--prices-data", &f],
        &[&f, "not a genai-prices data file"],
    );
}

#[test]
fn prices_data_wrong_shape() {
    let d = tmp();
    let f = write(d.path(), "data.json", b"{\"providers\": 3}\n");
    expect_error(
        &["prices", "--prices-data", &f],
        &[&f, "not a genai-prices data file"],
    );
}

#[test]
fn prices_data_empty_provider_list_cannot_price_a_run() {
    // `[]` parses as a data file with no providers: `run` must still refuse before sending.
    let d = tmp();
    let out = d.path().join("out").display().to_string();
    let f = write(d.path(), "data.json", b"[]\n");
    expect_error(
        &run_args(&out, &["--prices-data", &f]),
        &["cannot price", "gpt-4o-mini"],
    );
}

#[test]
fn prices_data_missing_file() {
    expect_error(
        &["prices", "--prices-data", "/nonexistent/prices.json"],
        &["/nonexistent/prices.json"],
    );
}

// ---------------------------------------------------------------------------------------------
// mock.toml
// ---------------------------------------------------------------------------------------------

#[test]
fn mock_toml_fault_rate_above_one() {
    let d = tmp();
    let out = d.path().join("out").display().to_string();
    let f = write(d.path(), "mock.toml", b"[faults]\nrate_429 = 2.0\n");
    expect_error(&run_args(&out, &["--mock-config", &f]), &[&f, "rate_429"]);
}

#[test]
fn mock_toml_unknown_key() {
    let d = tmp();
    let out = d.path().join("out").display().to_string();
    let f = write(d.path(), "mock.toml", b"bogus = 1\n");
    expect_error(&run_args(&out, &["--mock-config", &f]), &[&f, "bogus"]);
}

// ---------------------------------------------------------------------------------------------
// Command-line values
// ---------------------------------------------------------------------------------------------

#[test]
fn strategy_k_zero() {
    // packed:0 is in tests/cli_errors.rs; the other strategies that take a number:
    for s in [
        "concurrent:0",
        "batch-api+packed:0",
        "naive-multi-message:0",
    ] {
        expect_error(&["run", "--strategies", s], &[s, "between 1 and"]);
    }
}

#[test]
fn strategy_negative_k() {
    for s in ["packed:-4", "concurrent:-1", "batch-api+packed:-8"] {
        expect_error(&["run", "--strategies", s], &[s]);
    }
}

#[test]
fn strategy_huge_k() {
    for s in [
        "packed:99999999999999999999",
        "concurrent:100000",
        "batch-api+packed:18446744073709551616",
    ] {
        expect_error(&["run", "--strategies", s], &[s]);
    }
}

#[test]
fn strategy_unknown_or_empty() {
    expect_error(
        &["run", "--strategies", "sequential,teleport"],
        &["unknown strategy", "teleport"],
    );
    expect_error(&["run", "--strategies", "packed:"], &["packed:"]);
    expect_error(&["run", "--strategies", ""], &["no strategies"]);
    expect_error(&["run", "--strategies", ",,"], &["no strategies"]);
}

#[test]
fn huge_numbers_in_flags() {
    expect_parse_error(
        &["run", "--limit", "99999999999999999999999"],
        &["--limit", "99999999999999999999999"],
    );
    expect_parse_error(
        &["run", "--answer-tokens", "99999999999"],
        &["--answer-tokens"],
    );
    expect_parse_error(&["run", "--seed", "99999999999999999999999"], &["--seed"]);
    expect_error(
        &["run", "--answer-tokens", "4000000000"],
        &["--answer-tokens"],
    );
    expect_error(&["run", "--max-retries", "1000"], &["--max-retries"]);
    expect_error(&["run", "--poll-max", "1e308"], &["--poll-max"]);
    expect_error(&["run", "--time-scale", "1e400"], &["--time-scale"]);
}

#[test]
fn negative_numbers_in_flags_with_sign_check() {
    expect_error(&["run", "--temperature=-1"], &["--temperature"]);
    expect_error(&["run", "--poll-max=-1"], &["--poll-max"]);
    expect_error(&["run", "--time-scale=NaN"], &["--time-scale"]);
    expect_error(
        &["compare", "a", "b", "--max-cost-increase=-5%"],
        &["--max-cost-increase"],
    );
    expect_error(
        &["compare", "a", "b", "--max-cost-increase", "lots"],
        &["--max-cost-increase", "lots"],
    );
    expect_error(
        &["sweep", "--max-accuracy-drop=-1"],
        &["--max-accuracy-drop"],
    );
}

#[test]
fn negative_numbers_for_unsigned_flags_exit_2() {
    // clap refuses these; the exit code is right and nothing runs.
    for flag in ["--limit", "--answer-tokens", "--max-retries"] {
        let o = bb(&["run", flag, "-1"]);
        no_panic(&o, &[flag]);
        assert_eq!(o.code, Some(2), "{flag}: {}", o.stderr);
        assert!(
            o.stderr.lines().next().unwrap_or("").starts_with("error:"),
            "{flag}: {}",
            o.stderr
        );
    }
}

#[test]
fn negative_numbers_for_unsigned_flags_name_the_flag() {
    for flag in ["--limit", "--answer-tokens", "--max-retries"] {
        expect_parse_error(&["run", flag, "-1"], &[flag]);
    }
}

#[test]
fn shard_out_of_range() {
    for s in ["0/3", "4/3", "1/0", "abc", "1/3/5", "-1/3"] {
        expect_error(&["run", &format!("--shard={s}")], &["--shard", s]);
    }
}

#[test]
fn sweep_sizes_zero() {
    expect_error(&["sweep", "--sizes", "0"], &["--sizes", "0"]);
    expect_error(&["sweep", "--sizes", "1,0,4"], &["--sizes", "0"]);
}

#[test]
fn sweep_sizes_negative_huge_and_repeated() {
    expect_error(&["sweep", "--sizes=-1"], &["--sizes", "-1"]);
    expect_error(
        &["sweep", "--sizes", "99999999999999999999"],
        &["--sizes", "99999999999999999999"],
    );
    expect_error(&["sweep", "--sizes", "20000"], &["--sizes", "20000"]);
    expect_error(&["sweep", "--sizes", "4,4"], &["--sizes", "twice"]);
    expect_error(&["sweep", "--sizes", ","], &["--sizes"]);
}

#[test]
fn sweep_latency_slo_soon_exits_2() {
    expect_error(
        &["sweep", "--latency-slo", "soon"],
        &["\"soon\"", "duration"],
    );
    expect_error(&["sweep", "--latency-slo=-2s"], &["-2s"]);
    expect_error(&["sweep", "--latency-slo", "0ms"], &["0ms"]);
}

#[test]
fn sweep_latency_slo_soon_names_the_flag() {
    expect_error(
        &["sweep", "--latency-slo", "soon"],
        &["--latency-slo", "soon"],
    );
}

#[test]
fn base_url_not_http() {
    let d = tmp();
    let out = d.path().join("out").display().to_string();
    let args = run_args(
        &out,
        &[
            "--provider",
            "openai",
            "--base-url",
            "ftp://127.0.0.1/v1",
            "--limit",
            "1",
        ],
    );
    expect_error(&args, &["ftp://127.0.0.1/v1", "http://"]);
}

#[test]
fn api_key_file_missing_or_empty() {
    let d = tmp();
    let out = d.path().join("out").display().to_string();
    let base = "http://127.0.0.1:9/v1";
    let args = run_args(
        &out,
        &[
            "--provider",
            "openai",
            "--base-url",
            base,
            "--api-key-file",
            "/nonexistent/key",
            "--limit",
            "1",
        ],
    );
    expect_error(&args, &["/nonexistent/key", "API key file"]);
    let empty = write(d.path(), "empty.key", b"\n  \n");
    let args = run_args(
        &out,
        &[
            "--provider",
            "openai",
            "--base-url",
            base,
            "--api-key-file",
            &empty,
            "--limit",
            "1",
        ],
    );
    expect_error(&args, &[&empty, "empty"]);
}

// ---------------------------------------------------------------------------------------------
// compare
// ---------------------------------------------------------------------------------------------

/// A tiny run against the in-process mock: 3 prompts, one strategy, no simulated delay.
fn small_run(dir: &Path, dataset: &str) -> PathBuf {
    let out = dir.display().to_string();
    let o = bb_within(
        &[
            "run",
            "--quiet",
            "--time-scale",
            "0",
            "--limit",
            "3",
            "--strategies",
            "sequential",
            "--dataset",
            dataset,
            "--out",
            &out,
        ],
        Duration::from_secs(180),
    );
    no_panic(&o, &["run"]);
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    dir.to_path_buf()
}

#[test]
fn compare_missing_file() {
    let d = tmp();
    let real = d.path().join("missing-baseline");
    let r = real.display().to_string();
    expect_error(
        &["compare", &r, "/nonexistent/current"],
        &[&r, "cannot read"],
    );
}

#[test]
fn compare_not_json_file() {
    let d = tmp();
    let f = write(d.path(), "report.json", b"<html>not json</html>");
    expect_error(&["compare", &f, &f], &[&f, "invalid JSON"]);
}

#[test]
fn compare_other_schema_version_and_other_dataset() {
    let d = tmp();
    let other = write(
        d.path(),
        "other.jsonl",
        b"{\"id\":\"x1\",\"prompt\":\"What is 2+2?\",\"answer\":\"4\"}\n{\"id\":\"x2\",\"prompt\":\"Is water wet?\",\"answer\":\"yes\"}\n",
    );
    let a = small_run(&d.path().join("a"), "datasets/default.jsonl");
    let b = small_run(&d.path().join("b"), &other);
    let (a_s, b_s) = (a.display().to_string(), b.display().to_string());

    // Different datasets without --allow-dataset-change: exit 2, naming the flag.
    expect_error(
        &["compare", &a_s, &b_s],
        &["different datasets", "--allow-dataset-change"],
    );
    let o = bb(&["compare", &a_s, &b_s, "--allow-dataset-change"]);
    no_panic(&o, &["compare"]);
    assert!(matches!(o.code, Some(0 | 1)), "{}", o.stderr);

    // Another schema version, as a folder and as report.json.
    let old = d.path().join("old");
    std::fs::create_dir_all(&old).unwrap();
    for f in ["run.json", "summary.csv", "report.json"] {
        std::fs::copy(a.join(f), old.join(f)).unwrap();
    }
    for f in ["run.json", "report.json"] {
        let text = std::fs::read_to_string(old.join(f)).unwrap();
        let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
        v["schema_version"] = serde_json::json!(999);
        std::fs::write(old.join(f), v.to_string()).unwrap();
    }
    let old_s = old.display().to_string();
    expect_error(
        &["compare", &old_s, &a_s],
        &["run.json", "schema version 999"],
    );
    let old_report = old.join("report.json").display().to_string();
    expect_error(
        &["compare", &old_report, &a_s],
        &[&old_report, "schema version 999"],
    );
}

// ---------------------------------------------------------------------------------------------
// Dataset encodings that must be accepted
// ---------------------------------------------------------------------------------------------

#[test]
fn dataset_bom_at_start_accepted() {
    let d = tmp();
    let jsonl = write(
        d.path(),
        "bom.jsonl",
        b"\xef\xbb\xbf{\"id\":\"a\",\"prompt\":\"p\"}\n{\"id\":\"b\",\"prompt\":\"q\"}\n",
    );
    let set = batchbench::dataset::load(Path::new(&jsonl), None).unwrap();
    assert_eq!(
        set.prompts
            .iter()
            .map(|p| p.id.as_str())
            .collect::<Vec<_>>(),
        ["a", "b"]
    );
    let csv = write(d.path(), "bom.csv", b"\xef\xbb\xbfid,prompt\na,p\nb,q\n");
    let set = batchbench::dataset::load(Path::new(&csv), None).unwrap();
    assert_eq!(
        set.prompts
            .iter()
            .map(|p| p.id.as_str())
            .collect::<Vec<_>>(),
        ["a", "b"]
    );
}

#[test]
fn dataset_crlf_line_endings_accepted() {
    let d = tmp();
    let jsonl = write(
        d.path(),
        "crlf.jsonl",
        b"{\"instructions\":\"Be brief.\"}\r\n{\"id\":\"a\",\"prompt\":\"p\",\"answer\":\"1\"}\r\n\r\n{\"id\":\"b\",\"prompt\":\"q\"}\r\n",
    );
    let set = batchbench::dataset::load(Path::new(&jsonl), None).unwrap();
    assert_eq!(set.instructions, "Be brief.");
    assert_eq!(set.prompts.len(), 2);
    assert_eq!(set.prompts[0].answer.as_deref(), Some("1"));
    assert!(set.prompts.iter().all(|p| !p.prompt.contains('\r')));
    let csv = write(
        d.path(),
        "crlf.csv",
        b"id,prompt,answer\r\na,p,1\r\nb,\"two\r\nlines\",2\r\n",
    );
    let set = batchbench::dataset::load(Path::new(&csv), None).unwrap();
    assert_eq!(set.prompts.len(), 2);
    assert_eq!(set.prompts[0].answer.as_deref(), Some("1"));
    assert!(!set.prompts[0].prompt.contains('\r'));
}

#[test]
fn dataset_bom_and_crlf_run_end_to_end() {
    let d = tmp();
    let f = write(
        d.path(),
        "bom-crlf.jsonl",
        b"\xef\xbb\xbf{\"id\":\"a\",\"prompt\":\"What is 2+2?\",\"answer\":\"4\"}\r\n{\"id\":\"b\",\"prompt\":\"Is ice cold?\",\"answer\":\"yes\"}\r\n",
    );
    let out = d.path().join("out");
    small_run(&out, &f);
    let prompts = std::fs::read_to_string(out.join("prompts.csv")).unwrap();
    assert_eq!(prompts.lines().count(), 3, "header + 2 prompts: {prompts}");
}

#[test]
fn dataset_csv_header_with_newline_is_one_line_error() {
    // Found by tests/proptest_decoders.rs: the "found:" list echoed a quoted header cell's newline.
    let d = tmp();
    let f = write(d.path(), "nl.csv", b"\"id\nx\",question\na,b\n");
    expect_error(
        &["run", "--dataset", &f],
        &[&format!("{f}:1"), "missing column"],
    );
}

#[test]
fn dataset_is_a_directory() {
    let d = tmp();
    let p = d.path().display().to_string();
    expect_error(&["run", "--dataset", &p], &[&p]);
}
