//! The newcomer's first command: `sesame demo` starts, prints working tokens, and
//! serves the demo school; `sesame token` mints a token the server accepts.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn get(url: &str, token: &str) -> (u16, serde_json::Value) {
    let response = std::process::Command::new("curl")
        .args([
            "-s",
            "-w",
            "\n%{http_code}",
            "-H",
            &format!("Authorization: Bearer {token}"),
            url,
        ])
        .output()
        .expect("curl runs");
    let text = String::from_utf8_lossy(&response.stdout).into_owned();
    let (body, status) = text.rsplit_once('\n').unwrap();
    (
        status.trim().parse().unwrap(),
        serde_json::from_str(body).unwrap_or(serde_json::Value::Null),
    )
}

#[test]
fn sesame_demo_serves_the_demo_school_and_prints_tokens_that_work() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_sesame"))
        .args(["demo", "--bind", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(dir.path())
        .env_remove("SESAME_JWT_KEY")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let server = Server(child);
    let mut tokens = std::collections::HashMap::new();
    let started = Instant::now();
    for line in stdout.lines() {
        let line = line.unwrap();
        for name in ["ADMIN", "TEACHER"] {
            if let Some(token) = line.trim().strip_prefix(&format!("export {name}=")) {
                tokens.insert(name, token.to_owned());
            }
        }
        if tokens.len() == 2 || started.elapsed() > Duration::from_secs(120) {
            break;
        }
    }
    assert_eq!(tokens.len(), 2, "the demo printed both tokens");
    let base = format!("http://127.0.0.1:{port}");
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
    drop(server);
}
