//! A standalone `batchbench mock` child process on 127.0.0.1 (a random port), killed when
//! dropped, with its stdout and stderr kept in files for the test to read.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `batchbench mock --port 0` that requires `api_key`.
pub struct MockProcess {
    child: Child,
    /// The port it listens on.
    pub port: u16,
    logs: tempfile::TempDir,
}

impl MockProcess {
    /// Starts the mock with the default dataset, no latency and, when given, a mock config.
    pub fn start(api_key: &str, config: Option<&str>) -> MockProcess {
        let logs = tempfile::tempdir().unwrap();
        let mut args: Vec<String> = ["mock", "--port", "0", "--time-scale", "0"]
            .map(String::from)
            .to_vec();
        args.extend(["--api-key".into(), api_key.into()]);
        args.extend(["--dataset".into(), "datasets/default.jsonl".into()]);
        if let Some(text) = config {
            let p = logs.path().join("mock.toml");
            std::fs::write(&p, text).unwrap();
            args.extend(["--config".into(), p.display().to_string()]);
        }
        let child = Command::new(env!("CARGO_BIN_EXE_batchbench"))
            .args(&args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env_remove("OPENAI_API_KEY")
            .env_remove("ANTHROPIC_API_KEY")
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(logs.path().join("mock.stdout")).unwrap())
            .stderr(std::fs::File::create(logs.path().join("mock.stderr")).unwrap())
            .spawn()
            .expect("start batchbench mock");
        let mut mock = MockProcess {
            child,
            port: 0,
            logs,
        };
        mock.wait_for_port();
        mock
    }

    fn wait_for_port(&mut self) {
        let start = Instant::now();
        loop {
            if let Some(rest) = self.stdout().split("listening on http://127.0.0.1:").nth(1) {
                let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                self.port = digits.parse().unwrap();
                return;
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("mock exited with {status}: {}", self.stderr());
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "mock did not start within 60 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// What the mock printed so far.
    pub fn stdout(&self) -> String {
        std::fs::read_to_string(self.logs.path().join("mock.stdout")).unwrap_or_default()
    }

    /// What the mock wrote to stderr so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.logs.path().join("mock.stderr")).unwrap_or_default()
    }

    /// The OpenAI base URL (with `/v1`).
    pub fn openai_url(&self) -> String {
        format!("http://127.0.0.1:{}/v1", self.port)
    }

    /// The Anthropic base URL.
    pub fn anthropic_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The mock's `/_mock/stats`, fetched over loopback (no key needed).
    pub fn stats(&self) -> serde_json::Value {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let url = format!("http://127.0.0.1:{}/_mock/stats", self.port);
        rt.block_on(async {
            let c = reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap();
            c.get(url).send().await.unwrap().json().await.unwrap()
        })
    }
}

impl Drop for MockProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
