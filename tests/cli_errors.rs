//! Bad input on the command line and in datasets: one clear line naming file and line, exit 2,
//! no panic, nothing sent.

mod common;

use common::{batchbench, stderr};

fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> String {
    let p = dir.path().join(name);
    std::fs::write(&p, bytes).unwrap();
    p.display().to_string()
}

fn expect_usage_error(args: &[&str], needle: &str) {
    let o = batchbench(args);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "args {args:?}: {err}");
    assert!(
        err.contains(needle),
        "args {args:?}: expected {needle:?} in {err:?}"
    );
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "one line: {err:?}");
}

#[test]
fn dataset_errors_name_file_and_line() {
    let d = tempfile::tempdir().unwrap();
    let broken = write(
        &d,
        "broken.jsonl",
        b"{\"id\":\"a\",\"prompt\":\"p\"}\n{\"id\":\"b\",\"prompt\":\"p\"}\n{\"id\":\"c\"}\n",
    );
    expect_usage_error(
        &["run", "--dataset", &broken],
        &format!("{broken}:3: missing field \"prompt\""),
    );
    let dup = write(
        &d,
        "dup.jsonl",
        b"{\"id\":\"a\",\"prompt\":\"p\"}\n{\"id\":\"a\",\"prompt\":\"q\"}\n",
    );
    expect_usage_error(
        &["run", "--dataset", &dup],
        &format!("{dup}:2: duplicate id \"a\""),
    );
    let empty = write(&d, "empty.jsonl", b"");
    expect_usage_error(&["run", "--dataset", &empty], "holds no prompts");
    expect_usage_error(
        &["run", "--dataset", "/nonexistent/x.jsonl"],
        "/nonexistent/x.jsonl: cannot read dataset: no such file",
    );
    let bad = write(
        &d,
        "latin1.jsonl",
        b"{\"id\":\"a\",\"prompt\":\"caf\xe9\"}\n",
    );
    expect_usage_error(
        &["run", "--dataset", &bad],
        &format!("{bad}:1: not valid UTF-8"),
    );
    let csv = write(&d, "noprompt.csv", b"id,question\na,b\n");
    expect_usage_error(
        &["run", "--dataset", &csv],
        &format!("{csv}:1: missing column \"prompt\""),
    );
}

#[test]
fn bad_flags_are_usage_errors() {
    expect_usage_error(&["run", "--strategies", "packed:0"], "between 1 and");
    expect_usage_error(&["run", "--strategies", "warp-speed"], "unknown strategy");
    expect_usage_error(&["run", "--strategies", "packed:huge"], "whole number");
    expect_usage_error(&["run", "--limit", "0"], "--limit");
    expect_usage_error(&["run", "--answer-tokens", "0"], "--answer-tokens");
    expect_usage_error(&["run", "--time-scale=-1"], "--time-scale");
    expect_usage_error(
        &["run", "--model", "no-such-model-anywhere"],
        "--prices FILE",
    );
    expect_usage_error(
        &["prices", "--model", "no-such-model-anywhere"],
        "cannot price",
    );
    let o = batchbench(&["run", "--provider", "moon"]);
    assert_eq!(o.status.code(), Some(2));
    let o = batchbench(&["run", "--seed", "-4"]);
    assert_eq!(o.status.code(), Some(2));
    let o = batchbench(&["run", "--provider", "openai", "--limit", "1"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("OPENAI_API_KEY is not set"));
}

#[test]
fn help_has_examples() {
    for cmd in ["run", "prices", "gen", "mock"] {
        let o = batchbench(&[cmd, "--help"]);
        assert_eq!(o.status.code(), Some(0));
        assert!(common::stdout(&o).contains("Examples:"), "{cmd}");
    }
}

#[test]
fn an_unwritable_output_folder_exits_1_not_the_usage_code() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = write(&dir, "not-a-folder", b"x");
    let out = format!("{blocker}/run");
    let o = batchbench(&[
        "run",
        "--limit",
        "2",
        "--strategies",
        "sequential",
        "--out",
        &out,
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("cannot write") && err.contains("not-a-folder"),
        "{err}"
    );
}
