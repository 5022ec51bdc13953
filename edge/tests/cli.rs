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

fn sesame_in(dir: &std::path::Path, args: &[&str]) -> String {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_sesame"))
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .env_remove("SESAME_JWT_KEY")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn temporary_password(printed: &str) -> String {
    let (_, rest) = printed
        .split_once("temporary password ")
        .unwrap_or_else(|| panic!("no password in {printed:?}"));
    rest.split_whitespace().next().unwrap().to_owned()
}

#[test]
fn the_first_admin_of_a_new_school_signs_in_with_the_printed_temporary_password() {
    let dir = tempfile::tempdir().unwrap();
    let port = common::free_port();
    let public = format!("http://127.0.0.1:{port}");
    let school = [
        "school",
        "--id",
        "north",
        "--name",
        "Collège du Nord",
        "--admin-login",
        "h.garnier",
        "--public-url",
        &public,
    ];
    let first = sesame_in(dir.path(), &school);
    assert!(first.contains("created school north"), "{first}");
    let password = temporary_password(&first);
    // Again: the same administrator, a new password; the first one stops working.
    let again = sesame_in(dir.path(), &school);
    assert!(again.contains("already exists"), "{again}");
    let second = temporary_password(&again);
    assert_ne!(password, second);

    let _server = common::Server(
        std::process::Command::new(env!("CARGO_BIN_EXE_sesame"))
            .args(["serve", "--bind", &format!("127.0.0.1:{port}"), "--data-dir"])
            .arg(dir.path())
            .env_remove("SESAME_JWT_KEY")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let health = format!("{public}/healthz");
    for _ in 0..200 {
        if common::curl(&[&health]).0 == 200 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let login = |password: &str| {
        let body = serde_json::json!({"login": "h.garnier", "password": password}).to_string();
        common::curl(&[
            "-H",
            "Content-Type: application/json",
            "-d",
            &body,
            &format!("{public}/v1/auth/login"),
        ])
    };
    assert_eq!(login(&password).0, 401, "the first password was replaced");
    let (status, body) = login(&second);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"must_change_password\":true"), "{body}");
    // Cards and mail of the new school point at this server.
    let token = sesame_in(
        dir.path(),
        &[
            "token",
            "--school",
            "north",
            "--role",
            "admin",
            "--sub",
            "h.garnier",
        ],
    );
    let (_, settings) = common::get(&format!("{public}/v1/settings"), token.trim());
    assert_eq!(settings["login_url"], format!("{public}/"));
}

#[test]
fn the_demo_prints_a_console_sign_in_that_works() {
    let dir = tempfile::tempdir().unwrap();
    let demo = start_demo(dir.path(), &[], &[]);
    let jar = dir.path().join("cookies.txt");
    let jar = jar.to_str().unwrap();
    let (status, form) = common::curl(&["-c", jar, &format!("{}/", demo.base)]);
    assert_eq!(status, 200);
    let at = form.find("name=\"csrf\" value=\"").expect("a CSRF field") + 19;
    let csrf = form[at..].split('"').next().unwrap();
    let (status, _) = common::curl(&[
        "-b",
        jar,
        "-c",
        jar,
        "--data-urlencode",
        &format!("csrf={csrf}"),
        "--data-urlencode",
        "login=helene.garnier",
        "--data-urlencode",
        &format!("password={}", sesame::demo::DEMO_STAFF_PASSWORD),
        &format!("{}/sign-in", demo.base),
    ]);
    assert_eq!(status, 303);
    let (status, console) = common::curl(&["-b", jar, &format!("{}/console", demo.base)]);
    assert_eq!(status, 200, "{console}");
    assert!(console.contains("Hélène"), "{console}");
}
