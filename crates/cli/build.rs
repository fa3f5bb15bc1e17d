//! Records the git commit the binary is built from (`CORRUPTENCODER_COMMIT`), so every run
//! can say which code made it; `-dirty` marks uncommitted changes to tracked files.
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn main() {
    let commit = git(&["rev-parse", "--short=12", "HEAD"]);
    let dirty =
        git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
    let text = match commit {
        Some(c) if dirty => format!("{c}-dirty"),
        Some(c) => c,
        None => "unknown".into(),
    };
    println!("cargo:rustc-env=CORRUPTENCODER_COMMIT={text}");
    // Rebuilt when HEAD moves or the index changes (a commit, a checkout, `git add`).
    // `--git-path` finds each file in a worktree too (its HEAD and index are its own, the
    // branch refs are the main checkout's).
    let head_ref = git(&["symbolic-ref", "-q", "HEAD"]);
    for file in ["HEAD", "index"].into_iter().map(String::from).chain(head_ref) {
        if let Some(path) = git(&["rev-parse", "--git-path", &file]) {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    println!("cargo:rerun-if-changed=build.rs");
}
