//! The newcomer's first command: `sesame demo` starts, prints working tokens, and
//! serves the demo school; `sesame token` mints a token the server accepts.

mod common;

use common::{get, start_demo};
use std::process::Command;

#[test]
fn sesame_demo_serves_the_demo_school_and_prints_tokens_that_work() {
    let dir = tempfile::tempdir().unwrap();
    let demo = start_demo(dir.path(), &[], &[]);
    let (base, tokens) = (&demo.base, &demo.tokens);
    let (status, classes) = get(&format!("{base}/v1/classes"), &tokens["TEACHER"]);
    assert_eq!(status, 200);
    assert_eq!(
        classes["items"].as_array().unwrap().len(),
        1,
        "the teacher sees their class"
    );
    let (status, accounts) = get(&format!("{base}/v1/accounts?limit=1"), &tokens["ADMIN"]);
    assert_eq!(status, 200);
    assert_eq!(
        accounts["total"], 125,
        "60 students, 59 parents, 4 teachers, 2 staff"
    );

    let minted = Command::new(env!("CARGO_BIN_EXE_sesame"))
        .args([
            "token",
            "--school",
            "demo",
            "--role",
            "secondary_admin",
            "--sub",
            "someone",
            "--ttl",
            "5m",
            "--data-dir",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    let minted = String::from_utf8(minted.stdout).unwrap();
    assert_eq!(get(&format!("{base}/v1/audit"), minted.trim()).0, 200);
    drop(demo);
}

#[test]
fn the_aws_backend_is_refused_clearly_by_a_build_without_it() {
    if cfg!(feature = "aws") {
        return assert!(
            Command::new(env!("CARGO_BIN_EXE_sesame"))
                .args(["aws", "--help"])
                .status()
                .unwrap()
                .success()
        );
    }
    let output = Command::new(env!("CARGO_BIN_EXE_sesame"))
        .args(["aws", "bootstrap", "--table", "t"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--features aws"));
}
