//! The history and sharding examples (two GitHub Actions workflows, a Kubernetes Indexed Job)
//! parse as YAML, do what docs/HISTORY.md says, and use only batchbench commands and flags
//! that exist.

mod common;

use yaml_rust2::{Yaml, YamlLoader};

fn load(path: &str) -> Vec<Yaml> {
    let text = std::fs::read_to_string(common::repo(path)).unwrap();
    YamlLoader::load_from_str(&text).unwrap()
}

/// Every shell line of every step or container, continuation lines joined.
fn scripts(y: &Yaml, out: &mut Vec<String>) {
    match y {
        Yaml::Hash(h) => {
            for (k, v) in h {
                if let (Some("run" | "args"), Some(s)) = (k.as_str(), v.as_str()) {
                    out.push(s.replace("\\\n", " "));
                }
                if let (Some("args"), Some(list)) = (k.as_str(), v.as_vec()) {
                    out.extend(list.iter().filter_map(|s| s.as_str()).map(str::to_string));
                }
                scripts(v, out);
            }
        }
        Yaml::Array(a) => a.iter().for_each(|v| scripts(v, out)),
        _ => {}
    }
}

/// Checks each `batchbench SUB --flag ...` against `batchbench SUB --help`.
fn commands_exist(text: &str) -> usize {
    text.lines().map(line_commands_exist).sum()
}

fn line_commands_exist(line: &str) -> usize {
    let words: Vec<&str> = line.split_whitespace().collect();
    let mut checked = 0;
    for (at, w) in words.iter().enumerate() {
        if !(*w == "batchbench" || w.ends_with("target/release/batchbench")) {
            continue;
        }
        let mut sub = vec![words[at + 1]];
        if sub[0] == "history" && words.get(at + 2) == Some(&"import") {
            sub.push("import");
        }
        let mut args = sub.clone();
        args.push("--help");
        let help = common::batchbench(&args);
        assert_eq!(help.status.code(), Some(0), "batchbench {sub:?} exists");
        let help = common::stdout(&help);
        for flag in words[at + 1..]
            .iter()
            .take_while(|w| !matches!(**w, "&&" | "||" | ";" | ">" | ">>" | "|"))
            .filter(|w| w.starts_with("--"))
        {
            let flag = flag.split('=').next().unwrap();
            assert!(help.contains(flag), "batchbench {sub:?} has no {flag}");
        }
        checked += 1;
    }
    checked
}

#[test]
fn history_workflow_keeps_the_file_comments_and_gates() {
    let doc = &load("examples/github-actions-history.yml")[0];
    let mut lines = Vec::new();
    scripts(doc, &mut lines);
    let all = lines.join("\n");
    for needle in [
        "--history \"$HISTORY\" --branch main",
        "compare history:main reports/run --history",
        "--format mermaid --charts",
        "gh pr comment",
        "GITHUB_STEP_SUMMARY",
        "report.md",
        "exit 1",
    ] {
        assert!(all.contains(needle), "missing {needle:?}");
    }
    let steps = doc["jobs"]["cost-history"]["steps"].as_vec().unwrap();
    let uses: Vec<&str> = steps.iter().filter_map(|s| s["uses"].as_str()).collect();
    assert!(uses.contains(&"actions/cache/restore@v4") && uses.contains(&"actions/cache/save@v4"));
    assert!(commands_exist(&all) >= 4);
}

#[test]
fn sharded_workflow_runs_a_matrix_and_merges_once() {
    let doc = &load("examples/github-actions-sharded.yml")[0];
    let matrix = doc["jobs"]["shard"]["strategy"]["matrix"]["shard"]
        .as_vec()
        .unwrap();
    assert_eq!(matrix.len(), 4);
    assert_eq!(
        doc["jobs"]["shard"]["env"]["BATCHBENCH_SHARD_INDEX"].as_str(),
        Some("${{ matrix.shard }}")
    );
    let mut lines = Vec::new();
    scripts(doc, &mut lines);
    let all = lines.join("\n");
    assert!(all.contains("--shard auto/4") && all.contains("batchbench merge"));
    assert!(commands_exist(&all) >= 2);
}

#[test]
fn kubernetes_example_is_an_indexed_job_with_a_merge_step() {
    let docs = load("examples/k8s-indexed-job.yaml");
    assert_eq!(docs.len(), 2);
    let shards = &docs[0];
    assert_eq!(shards["kind"].as_str(), Some("Job"));
    assert_eq!(shards["spec"]["completionMode"].as_str(), Some("Indexed"));
    assert_eq!(
        shards["spec"]["completions"].as_i64(),
        shards["spec"]["parallelism"].as_i64()
    );
    let mut lines = Vec::new();
    scripts(&docs[0], &mut lines);
    let shard_cmd = lines.join("\n");
    assert!(shard_cmd.contains("--shard auto/4") && shard_cmd.contains("$JOB_COMPLETION_INDEX"));
    let mut lines = Vec::new();
    scripts(&docs[1], &mut lines);
    let merge_cmd = lines.join("\n");
    assert!(
        merge_cmd.contains("batchbench merge") && merge_cmd.contains("--history /tmp/h.sqlite")
    );
    assert!(commands_exist(&format!("{shard_cmd}\n{merge_cmd}")) >= 3);
}
