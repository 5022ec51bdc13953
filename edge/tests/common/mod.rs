//! Helpers of the command-line tests: a child server killed on drop, free ports,
//! HTTP through curl, and the tokens `sesame demo` prints.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Server(pub Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `curl` with extra arguments; answers the status and the body as JSON (or Null).
pub fn curl(args: &[&str]) -> (u16, String) {
    let output = Command::new("curl")
        .arg("-s")
        .args(["-w", "\n%{http_code}"])
        .args(args)
        .output()
        .expect("curl runs");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let (body, status) = text.rsplit_once('\n').unwrap();
    (status.trim().parse().unwrap(), body.to_owned())
}

pub fn get(url: &str, token: &str) -> (u16, serde_json::Value) {
    let (status, body) = curl(&["-H", &format!("Authorization: Bearer {token}"), url]);
    (
        status,
        serde_json::from_str(&body).unwrap_or(serde_json::Value::Null),
    )
}

/// Starts `sesame demo` with `extra` arguments and environment; answers the server
/// and the tokens it printed (`ADMIN`, `TEACHER`).
pub fn start_demo(
    port: u16,
    data_dir: &std::path::Path,
    extra: &[&str],
    env: &[(&str, &str)],
) -> (Server, std::collections::HashMap<&'static str, String>) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sesame"));
    command
        .args(["demo", "--bind", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(data_dir)
        .args(extra)
        .env_remove("SESAME_JWT_KEY")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command.spawn().unwrap();
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
    (server, tokens)
}
