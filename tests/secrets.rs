//! API keys are never printed: a sentinel key goes in through the environment (and once through
//! `--api-key-file`), a standalone `batchbench mock` on 127.0.0.1 requires it, and every stream
//! and every file a command writes is searched for it, byte by byte: `run` (OpenAI and Anthropic,
//! sync, streamed and batch strategies), `sweep`, `compare`, `estimate`, and failing runs (a
//! wrong key answered 401, and a mock failing every request). The `Debug` forms of the resolved
//! structures are checked too.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use batchbench::provider::{ChatRequest, Client, Endpoint, ProviderKind, Timeouts};
use batchbench::secret::Secret;

/// The key under test. Its middle part is distinctive and is searched for on its own too.
const SENTINEL: &str = "sk-batchbench-SENTINEL-7f3a9c";
/// A second key, for the mock to expect when the sentinel must be refused.
const OTHER_KEY: &str = "sk-other-expected-key-000";

/// What must never appear: the key, its distinctive middle, and the key as HTTP Basic would
/// encode it. (The hex tail alone is not searched: six hex digits turn up in hashes by chance.)
fn needles() -> Vec<Vec<u8>> {
    vec![
        SENTINEL.as_bytes().to_vec(),
        b"SENTINEL-7f3a9c".to_vec(),
        b"batchbench-SENTINEL".to_vec(),
        b"sentinel-7f3a9c".to_vec(),
        base64(SENTINEL.as_bytes()).into_bytes(),
    ]
}

fn base64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

/// Fails if `bytes` (named `what`) holds any form of the sentinel.
fn assert_clean(what: &str, bytes: &[u8]) {
    for n in needles() {
        assert!(
            !find(bytes, &n),
            "{what} contains {:?}",
            String::from_utf8_lossy(&n)
        );
    }
}

/// Every file under `dir`, recursively; returns how many were checked.
fn assert_tree_clean(dir: &Path) -> usize {
    let mut count = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                assert_clean(&path.display().to_string(), &std::fs::read(&path).unwrap());
                count += 1;
            }
        }
    }
    count
}

struct Out {
    code: Option<i32>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

impl Out {
    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

/// Runs batchbench with the sentinel in both key variables (unless `env` says otherwise), every
/// log knob turned up, at most `limit` long.
fn bb(args: &[&str], env: &[(&str, &str)], limit: Duration) -> Out {
    let mut cmd = common::command(args);
    cmd.env("OPENAI_API_KEY", SENTINEL)
        .env("ANTHROPIC_API_KEY", SENTINEL)
        .env("RUST_LOG", "trace")
        .env("RUST_BACKTRACE", "1");
    for (k, v) in env {
        if v.is_empty() {
            cmd.env_remove(k);
        } else {
            cmd.env(k, v);
        }
    }
    let f = common::run_within(cmd, limit);
    let out = Out {
        code: f.code,
        stdout: f.stdout,
        stderr: f.stderr,
    };
    assert_clean(&format!("stdout of {args:?}"), &out.stdout);
    assert_clean(&format!("stderr of {args:?}"), &out.stderr);
    let err = out.stderr();
    assert!(!err.contains("panicked"), "{args:?} panicked: {err}");
    out
}

/// The shared standalone mock, whose own output is checked for the sentinel when dropped.
struct Mock(common::mock_process::MockProcess);

impl std::ops::Deref for Mock {
    type Target = common::mock_process::MockProcess;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl Mock {
    fn start(api_key: &str, config: Option<&str>) -> Mock {
        Mock(common::mock_process::MockProcess::start(api_key, config))
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            assert_clean("the mock's stdout", self.stdout().as_bytes());
            assert_clean("the mock's stderr", self.stderr().as_bytes());
        }
    }
}

fn run_args<'a>(provider: &'a str, base: &'a str, out: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec![
        "run",
        "--provider",
        provider,
        "--base-url",
        base,
        "--out",
        out,
        "--poll-max",
        "0.2",
    ];
    a.extend_from_slice(extra);
    a
}

const STRATEGIES: &str = "sequential,packed:4,batch-api";

/// One sentinel run against `mock`, checked, returning its folder.
fn sentinel_run(
    mock: &Mock,
    provider: &str,
    out: &Path,
    extra: &[&str],
    env: &[(&str, &str)],
) -> Out {
    let base = if provider == "openai" {
        mock.openai_url()
    } else {
        mock.anthropic_url()
    };
    let out_s = out.display().to_string();
    let o = bb(
        &run_args(provider, &base, &out_s, extra),
        env,
        Duration::from_secs(300),
    );
    if out.exists() {
        assert!(assert_tree_clean(out) > 0);
    }
    o
}

#[test]
fn run_openai_sentinel_key_from_env_not_leaked() {
    let mock = Mock::start(SENTINEL, None);
    let d = tempfile::tempdir().unwrap();
    let o = sentinel_run(
        &mock,
        "openai",
        d.path(),
        &["--limit", "20", "--strategies", STRATEGIES],
        &[],
    );
    assert_eq!(o.code, Some(0), "{}", o.stderr());
    let files = assert_tree_clean(d.path());
    assert!(files >= 5, "report files written and searched: {files}");
    let stats = mock.stats();
    assert!(
        stats["statuses"]["200"].as_u64().unwrap_or(0) > 0,
        "the mock accepted the sentinel: {stats}"
    );
}

#[test]
fn run_anthropic_sentinel_key_from_env_not_leaked() {
    let mock = Mock::start(SENTINEL, None);
    let d = tempfile::tempdir().unwrap();
    let o = sentinel_run(
        &mock,
        "anthropic",
        d.path(),
        &["--limit", "20", "--strategies", STRATEGIES],
        &[],
    );
    assert_eq!(o.code, Some(0), "{}", o.stderr());
    assert!(assert_tree_clean(d.path()) >= 5);
}

#[test]
fn run_sentinel_key_from_api_key_file_not_leaked() {
    let mock = Mock::start(SENTINEL, None);
    let keys = tempfile::tempdir().unwrap();
    let key_file = keys.path().join("openai.key");
    std::fs::write(&key_file, format!("{SENTINEL}\n")).unwrap();
    let key_file = key_file.display().to_string();
    let d = tempfile::tempdir().unwrap();
    // No key in the environment at all: the file is the only source. Streamed, to cover SSE.
    let env = [("OPENAI_API_KEY", ""), ("ANTHROPIC_API_KEY", "")];
    let extra = [
        "--limit",
        "8",
        "--strategies",
        "sequential,concurrent:4",
        "--stream",
        "--api-key-file",
        &key_file,
    ];
    let o = sentinel_run(&mock, "openai", d.path(), &extra, &env);
    assert_eq!(o.code, Some(0), "{}", o.stderr());
}

#[test]
fn sweep_sentinel_key_not_leaked() {
    let mock = Mock::start(SENTINEL, None);
    let d = tempfile::tempdir().unwrap();
    let out = d.path().display().to_string();
    let base = mock.openai_url();
    let args = [
        "sweep",
        "--provider",
        "openai",
        "--base-url",
        &base,
        "--sizes",
        "1,4",
        "--limit",
        "16",
        "--out",
        &out,
        "--poll-max",
        "0.2",
    ];
    let o = bb(&args, &[], Duration::from_secs(300));
    assert_eq!(o.code, Some(0), "{}", o.stderr());
    assert!(d.path().join("sweep.csv").exists());
    assert!(assert_tree_clean(d.path()) >= 5);
}

#[test]
fn compare_sentinel_runs_not_leaked() {
    let mock = Mock::start(SENTINEL, None);
    let d = tempfile::tempdir().unwrap();
    let (a, b) = (d.path().join("a"), d.path().join("b"));
    for (dir, seed) in [(&a, "1"), (&b, "2")] {
        let o = sentinel_run(
            &mock,
            "openai",
            dir,
            &[
                "--limit",
                "6",
                "--strategies",
                "sequential,packed:3",
                "--seed",
                seed,
            ],
            &[],
        );
        assert_eq!(o.code, Some(0), "{}", o.stderr());
    }
    let (a_s, b_s) = (a.display().to_string(), b.display().to_string());
    for format in ["table", "md", "json"] {
        let o = bb(
            &["compare", &a_s, &b_s, "--format", format],
            &[],
            Duration::from_secs(60),
        );
        assert!(matches!(o.code, Some(0 | 1)), "{}", o.stderr());
    }
    let o = bb(
        &[
            "compare",
            &a_s,
            &b.join("report.json").display().to_string(),
        ],
        &[],
        Duration::from_secs(60),
    );
    assert!(matches!(o.code, Some(0 | 1)), "{}", o.stderr());
    assert_tree_clean(d.path());
}

#[test]
fn estimate_sentinel_key_not_leaked() {
    let mock = Mock::start(SENTINEL, None);
    let d = tempfile::tempdir().unwrap();
    let run = d.path().join("run");
    let o = sentinel_run(
        &mock,
        "openai",
        &run,
        &["--limit", "10", "--strategies", "sequential,packed:4"],
        &[],
    );
    assert_eq!(o.code, Some(0), "{}", o.stderr());
    let run_s = run.display().to_string();
    for format in ["table", "json", "md"] {
        let o = bb(
            &[
                "estimate",
                "--sizes",
                "1,4",
                "--per-day",
                "1000",
                "--from-run",
                &run_s,
                "--format",
                format,
                "--quiet",
            ],
            &[],
            Duration::from_secs(120),
        );
        assert_eq!(o.code, Some(0), "{}", o.stderr());
    }
    let o = bb(
        &["estimate", "--model", "claude-haiku-4-5", "--quiet"],
        &[],
        Duration::from_secs(120),
    );
    assert_eq!(o.code, Some(0), "{}", o.stderr());
    assert_tree_clean(d.path());
}

#[test]
fn failing_run_wrong_key_401_not_leaked() {
    // The mock expects another key: the sentinel is refused with 401 (whose message, like
    // OpenAI's, echoes the key's first characters).
    let mock = Mock::start(OTHER_KEY, None);
    for provider in ["openai", "anthropic"] {
        let d = tempfile::tempdir().unwrap();
        let o = sentinel_run(
            &mock,
            provider,
            d.path(),
            &["--limit", "4", "--strategies", "sequential,batch-api"],
            &[],
        );
        assert_eq!(o.code, Some(1), "{provider}: {}", o.stderr());
    }
    let stats = mock.stats();
    assert!(
        stats["statuses"]["401"].as_u64().unwrap_or(0) > 0,
        "the sentinel was refused: {stats}"
    );
}

#[test]
fn failing_run_every_request_faulted_not_leaked() {
    // Every synchronous request answered 500, every batch line a 500 error line.
    let mock = Mock::start(SENTINEL, Some("[faults]\nrate_500 = 1.0\n"));
    let d = tempfile::tempdir().unwrap();
    let o = sentinel_run(
        &mock,
        "openai",
        d.path(),
        &[
            "--limit",
            "4",
            "--strategies",
            "sequential,packed:2,batch-api",
            "--max-retries",
            "1",
        ],
        &[],
    );
    assert_eq!(o.code, Some(1), "{}", o.stderr());
    let prompts = std::fs::read_to_string(d.path().join("prompts.csv")).unwrap();
    assert!(prompts.contains("failed"), "{prompts}");
}

#[test]
fn failing_run_connection_refused_not_leaked() {
    // Nothing listens on the port: connection errors, retried, then failed prompts.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}/v1");
    let d = tempfile::tempdir().unwrap();
    let out = d.path().display().to_string();
    let o = bb(
        &run_args(
            "openai",
            &base,
            &out,
            &[
                "--limit",
                "2",
                "--strategies",
                "sequential",
                "--max-retries",
                "1",
            ],
        ),
        &[],
        Duration::from_secs(120),
    );
    assert!(matches!(o.code, Some(1)), "{}", o.stderr());
    if d.path().exists() {
        assert_tree_clean(d.path());
    }
}

#[test]
fn debug_of_resolved_structs_hides_the_key() {
    let endpoint = Endpoint {
        kind: ProviderKind::Openai,
        base_url: "http://127.0.0.1:9/v1".into(),
        key: Secret::new(format!("{SENTINEL}\n")),
        timeouts: Timeouts::default(),
    };
    assert_eq!(endpoint.key.expose(), SENTINEL);
    assert_clean(
        "Endpoint Debug",
        format!("{endpoint:?} {endpoint:#?}").as_bytes(),
    );
    let client = Client::new(endpoint.clone()).unwrap();
    assert_clean("Client Debug", format!("{client:?} {client:#?}").as_bytes());
    assert_clean("Secret Display", format!("{}", endpoint.key).as_bytes());

    // The resolved run plan (key file given by path; the key itself is read later and wrapped).
    let keys = tempfile::tempdir().unwrap();
    let key_file: PathBuf = keys.path().join("k");
    std::fs::write(&key_file, SENTINEL).unwrap();
    let args = batchbench::cli::RunArgs {
        provider: Some(ProviderKind::Openai),
        base_url: Some("http://127.0.0.1:9/v1".into()),
        api_key_file: Some(key_file),
        limit: Some(2),
        out: Some(keys.path().join("out")),
        ..Default::default()
    };
    let plan = batchbench::app::resolve_run(&args).unwrap();
    assert_clean("RunPlan Debug", format!("{plan:?}").as_bytes());
}

#[test]
fn call_errors_from_a_refused_key_hide_it() {
    // The library's own error values, not only what the binary prints.
    let mock = Mock::start(OTHER_KEY, None);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for (kind, base) in [
        (ProviderKind::Openai, mock.openai_url()),
        (ProviderKind::Anthropic, mock.anthropic_url()),
    ] {
        let client = Client::new(Endpoint {
            kind,
            base_url: base,
            key: Secret::new(SENTINEL),
            timeouts: Timeouts::default(),
        })
        .unwrap();
        let request = ChatRequest::new(kind.default_model(), None, "2+2?", 8);
        let (chat, _) = batchbench::provider::api::build(client);
        let e = rt.block_on(chat.chat(&request)).unwrap_err();
        assert_eq!(e.status, Some(401), "{e}");
        assert_clean("CallError", format!("{e} {e:?}").as_bytes());
    }
}

#[test]
fn the_scanner_finds_every_form_of_the_sentinel() {
    // So that the searches above cannot pass vacuously.
    for leaked in [
        format!("Authorization: Bearer {SENTINEL}"),
        "key=...batchbench-SENTINEL...".to_string(),
        SENTINEL.to_ascii_lowercase(),
        format!("Basic {}", base64(SENTINEL.as_bytes())),
    ] {
        let caught = std::panic::catch_unwind(|| assert_clean("sample", leaked.as_bytes()));
        assert!(caught.is_err(), "not caught: {leaked}");
    }
    assert_eq!(base64(b"Man"), "TWFu");
    assert_eq!(base64(b"Ma"), "TWE=");
    assert_eq!(base64(b"M"), "TQ==");
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(d.path().join("a/b")).unwrap();
    std::fs::write(d.path().join("a/b/deep.txt"), format!("x{SENTINEL}x")).unwrap();
    assert!(
        std::panic::catch_unwind(|| assert_tree_clean(d.path())).is_err(),
        "nested files are searched"
    );
}
