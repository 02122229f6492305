//! Which commit a run measured: `--commit`/`--branch` when given, else CI's variables, else the
//! git checkout of the working directory. Runs the `git` program rather than linking libgit2:
//! three read-only queries do not justify a C library in the build.

use std::process::Command;

/// The commit a run belongs to; every field is optional (a run outside any checkout has none).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GitInfo {
    /// Full commit SHA.
    pub commit_sha: Option<String>,
    /// Branch name.
    pub branch: Option<String>,
    /// Commit time (RFC 3339, committer date).
    pub commit_time: Option<String>,
}

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!s.is_empty()).then_some(s)
}

fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The branch named by CI: GitHub Actions' `GITHUB_HEAD_REF` (pull requests) or
/// `GITHUB_REF_NAME`, GitLab's `CI_COMMIT_REF_NAME`. In a CI checkout `HEAD` is often detached,
/// so these are preferred over `git`.
fn ci_branch() -> Option<String> {
    ["GITHUB_HEAD_REF", "GITHUB_REF_NAME", "CI_COMMIT_REF_NAME"]
        .into_iter()
        .find_map(env_nonempty)
}

/// Resolves the commit facts: explicit values win; the rest comes from git when available.
pub fn detect(commit: Option<&str>, branch: Option<&str>) -> GitInfo {
    let commit_sha = commit
        .map(str::to_string)
        .or_else(|| git(&["rev-parse", "HEAD"]));
    let branch = branch
        .map(str::to_string)
        .or_else(ci_branch)
        .or_else(|| git(&["rev-parse", "--abbrev-ref", "HEAD"]).filter(|b| b != "HEAD"));
    let commit_time = commit_sha
        .as_deref()
        .and_then(|sha| git(&["show", "-s", "--format=%cI", sha]));
    GitInfo {
        commit_sha,
        branch,
        commit_time,
    }
}
