//! Secrets at rest on the edge (SPEC §3): the data folder is private to the
//! service's user, and a key file that is empty or too short is refused at start.

mod common;

use common::start_demo;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn the_data_folder_and_everything_in_it_are_private_to_the_service() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(data.join("outbox")).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    let old_mail = data.join("outbox").join("old.eml");
    std::fs::write(&old_mail, "Subject: a code\r\n\r\nK7MPQ2XR\r\n").unwrap();
    std::fs::set_permissions(&old_mail, std::fs::Permissions::from_mode(0o644)).unwrap();

    let demo = start_demo(&data, &[], &[]);

    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join("outbox")), 0o700);
    assert_eq!(mode(&old_mail), 0o600, "existing files are tightened");
    for file in ["sesame.db", "sesame.db-wal", "jwt.key", "data.key"] {
        assert_eq!(mode(&data.join(file)), 0o600, "{file}");
    }
    drop(demo);
}

#[test]
fn an_empty_key_file_is_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("jwt.key"), "").unwrap();

    let output = Command::new(env!("CARGO_BIN_EXE_sesame"))
        .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .env_remove("SESAME_JWT_KEY")
        .output()
        .unwrap();

    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("empty or too short"), "{stderr}");
}
