//! The GitHub Actions example parses as YAML, has the steps the README promises, and every
//! batchbench command and flag it uses exists.

mod common;

use yaml_rust2::{Yaml, YamlLoader};

fn workflow() -> Yaml {
    let text = std::fs::read_to_string(common::repo("examples/github-actions.yml")).unwrap();
    YamlLoader::load_from_str(&text).unwrap().remove(0)
}

fn run_lines(doc: &Yaml) -> Vec<String> {
    let steps = doc["jobs"]["cost-gate"]["steps"].as_vec().expect("steps");
    steps
        .iter()
        .filter_map(|s| s["run"].as_str())
        .map(|s| s.replace("\\\n", " "))
        .collect()
}

#[test]
fn parses_with_the_promised_steps() {
    let doc = workflow();
    assert!(
        !doc["on"]["pull_request"].is_badvalue(),
        "runs on pull requests"
    );
    let steps = doc["jobs"]["cost-gate"]["steps"].as_vec().unwrap();
    let uses: Vec<&str> = steps.iter().filter_map(|s| s["uses"].as_str()).collect();
    assert!(uses.iter().any(|u| u.starts_with("actions/checkout@")));
    assert!(
        uses.iter()
            .any(|u| u.starts_with("actions/upload-artifact@"))
    );
    let all = run_lines(&doc).join("\n");
    for needle in [
        "cargo build --release",
        "batchbench run",
        "batchbench compare benchmarks/baseline",
        "GITHUB_STEP_SUMMARY",
        "report.md",
    ] {
        assert!(all.contains(needle), "missing {needle:?}");
    }
    assert!(
        common::repo("benchmarks/baseline/run.json").is_file(),
        "the baseline the workflow compares with is committed"
    );
    assert!(common::repo("benchmarks/baseline/summary.csv").is_file());
}

#[test]
fn every_batchbench_command_and_flag_exists() {
    let doc = workflow();
    for line in run_lines(&doc) {
        for cmd in line
            .split('\n')
            .filter(|l| l.contains("target/release/batchbench "))
        {
            let words: Vec<&str> = cmd.split_whitespace().collect();
            let at = words
                .iter()
                .position(|w| w.ends_with("target/release/batchbench"))
                .unwrap();
            let sub = words[at + 1];
            let help = common::batchbench(&[sub, "--help"]);
            assert_eq!(help.status.code(), Some(0), "batchbench {sub} exists");
            let help = common::stdout(&help);
            for flag in words[at + 2..].iter().filter(|w| w.starts_with("--")) {
                assert!(help.contains(flag), "batchbench {sub} has no {flag}");
            }
        }
    }
}
