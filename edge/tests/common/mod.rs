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
    let (body, status) = text
        .rsplit_once('\n')
        .unwrap_or_else(|| panic!("curl {args:?}: {output:?}"));
    if status.trim() == "000" {
        eprintln!(
            "curl {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    (status.trim().parse().unwrap(), body.to_owned())
}

pub fn get(url: &str, token: &str) -> (u16, serde_json::Value) {
    let (status, body) = curl(&["-H", &format!("Authorization: Bearer {token}"), url]);
    (
        status,
        serde_json::from_str(&body).unwrap_or(serde_json::Value::Null),
    )
}

/// What `sesame demo` printed: its base URL and the tokens (`ADMIN`, `TEACHER`).
pub struct Demo {
    pub server: Server,
    pub base: String,
    pub tokens: std::collections::HashMap<&'static str, String>,
}

/// Starts `sesame demo` on a port of its choosing with `extra` arguments and
/// environment.
pub fn start_demo(data_dir: &std::path::Path, extra: &[&str], env: &[(&str, &str)]) -> Demo {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sesame"));
    command
        .args(["demo", "--bind", "127.0.0.1:0", "--data-dir"])
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
    // Read stdout to its end on a thread of its own: a server whose pipe is closed
    // dies on its next line of output.
    let (lines, received) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stdout.lines().map_while(Result::ok) {
            // Nobody may be listening any more: keep draining all the same.
            let _ = lines.send(line);
        }
    });
    let mut tokens = std::collections::HashMap::new();
    let mut base = None;
    let deadline = Instant::now() + Duration::from_secs(120);
    while tokens.len() < 2 || base.is_none() {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok(line) = received.recv_timeout(left) else {
            break;
        };
        if let Some((_, url)) = line.split_once("is served at ") {
            base = Some(url.trim().to_owned());
        }
        for name in ["ADMIN", "TEACHER"] {
            if let Some(token) = line.trim().strip_prefix(&format!("export {name}=")) {
                tokens.insert(name, token.to_owned());
            }
        }
    }
    assert_eq!(tokens.len(), 2, "the demo printed both tokens");
    Demo {
        server,
        base: base.expect("the demo printed its address"),
        tokens,
    }
}
