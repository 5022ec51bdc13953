//! `sesame backup` copies a live database consistently, even while a bulk reset
//! writes; `sesame restore` refuses while a server uses the folder, and what it
//! restores serves the demo again.

mod common;

use common::{curl, get, start_demo};
use std::process::Command;

fn sesame(args: &[&str], dir: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_sesame"))
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .output()
        .unwrap()
}

#[test]
fn a_backup_taken_during_a_bulk_reset_restores_to_a_database_that_serves_the_demo() {
    let work = tempfile::tempdir().unwrap();
    let (live, restored) = (work.path().join("live"), work.path().join("restored"));
    let demo = start_demo(&live, &[], &[]);
    let admin = demo.tokens["ADMIN"].clone();
    let (_, list) = get(&format!("{}/v1/accounts?limit=100", demo.base), &admin);
    let ids: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["source"] == "local")
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    let body = serde_json::json!({"account_ids": ids, "method": "temporary"}).to_string();
    let url = format!("{}/v1/accounts/reset-password", demo.base);
    let auth = format!("Authorization: Bearer {admin}");
    let reset = std::thread::spawn(move || {
        curl(&[
            "-H",
            &auth,
            "-H",
            "Content-Type: application/json",
            "-d",
            &body,
            &url,
        ])
        .0
    });
    std::thread::sleep(std::time::Duration::from_millis(150));

    let file = work.path().join("backup.db");
    let backup = sesame(&["backup", file.to_str().unwrap()], &live);
    assert!(
        backup.status.success(),
        "{}",
        String::from_utf8_lossy(&backup.stderr)
    );
    assert_eq!(reset.join().unwrap(), 200);

    let refused = sesame(&["restore", file.to_str().unwrap()], &live);
    assert!(
        !refused.status.success(),
        "a restore under a running server is refused"
    );
    assert!(String::from_utf8_lossy(&refused.stderr).contains("stop it first"));
    drop(demo);

    std::fs::create_dir_all(&restored).unwrap();
    for key in ["jwt.key", "data.key"] {
        std::fs::copy(live.join(key), restored.join(key)).unwrap();
    }
    let restore = sesame(&["restore", file.to_str().unwrap()], &restored);
    assert!(
        restore.status.success(),
        "{}",
        String::from_utf8_lossy(&restore.stderr)
    );
    let again = start_demo(&restored, &[], &[]);
    let (status, accounts) = get(&format!("{}/v1/accounts?limit=1", again.base), &admin);
    assert_eq!(status, 200, "{accounts}");
    assert_eq!(accounts["total"], 125);
}

#[test]
fn a_file_that_is_not_a_database_is_never_restored() {
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("notes.txt");
    std::fs::write(&file, "not a database").unwrap();

    let restore = sesame(&["restore", file.to_str().unwrap()], &work.path().join("data"));

    assert!(!restore.status.success());
    assert!(!work.path().join("data").join("sesame.db").exists());
}
