//! `kill -9` during an export (SPEC §5): after a restart the export ends within a
//! minute, never `running` for ever, and a failed one changed no password.

mod common;

use common::{curl, get, start_demo};
use std::time::{Duration, Instant};

#[test]
fn an_export_killed_mid_run_ends_after_the_restart_and_changed_no_password() {
    let dir = tempfile::tempdir().unwrap();
    let demo = start_demo(dir.path(), &[], &[]);
    let admin = demo.tokens["ADMIN"].clone();
    let before = password_states(&demo.base, &admin);
    let body = r#"{"filter": {}, "content": "credentials", "format": "pdf"}"#;
    let (status, queued) = curl(&[
        "-H",
        &format!("Authorization: Bearer {admin}"),
        "-H",
        "Content-Type: application/json",
        "-d",
        body,
        &format!("{}/v1/exports", demo.base),
    ]);
    assert_eq!(status, 202, "{queued}");
    let id = serde_json::from_str::<serde_json::Value>(&queued).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut server = demo.server;
    // SIGKILL: no clean shutdown of anything.
    server.0.kill().unwrap();
    server.0.wait().unwrap();

    let again = start_demo(dir.path(), &[], &[]);
    let deadline = Instant::now() + Duration::from_secs(60);
    let state = loop {
        let (status, state) = get(&format!("{}/v1/exports/{id}", again.base), &admin);
        assert_eq!(status, 200, "{state}");
        if !matches!(state["status"].as_str(), Some("queued" | "running")) {
            break state;
        }
        assert!(
            Instant::now() < deadline,
            "still {state} a minute after the restart"
        );
        std::thread::sleep(Duration::from_millis(100));
    };

    match state["status"].as_str() {
        Some("failed") => assert_eq!(
            password_states(&again.base, &admin),
            before,
            "a failed export changed no password"
        ),
        Some("done") => assert!(state["download_url"].is_string(), "{state}"),
        other => panic!("the export ended {other:?}: {state}"),
    }
}

/// Each account's password state as the API shows it.
fn password_states(base: &str, token: &str) -> Vec<(String, String)> {
    let (status, list) = get(&format!("{base}/v1/accounts?limit=500"), token);
    assert_eq!(status, 200, "{list}");
    let mut states: Vec<(String, String)> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let state = format!(
                "{} {}",
                a["must_change_password"], a["temporary_password_expires_at"]
            );
            (a["id"].as_str().unwrap().to_owned(), state)
        })
        .collect();
    states.sort();
    states
}
