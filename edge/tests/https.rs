//! HTTPS on the edge: `sesame serve` speaks TLS given a certificate and its key,
//! refuses half of them or unusable files clearly, and warns when it serves plain
//! HTTP on a network.

mod common;

use common::{Server, curl};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A self-signed certificate for 127.0.0.1 and localhost, and its key, as PEM files
/// in `dir`.
fn self_signed(dir: &Path) -> (PathBuf, PathBuf) {
    let certified =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, certified.cert.pem()).unwrap();
    std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();
    (cert, key)
}

fn sesame() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sesame"));
    command
        .env_remove("SESAME_JWT_KEY")
        .env_remove("SESAME_TLS_CERT")
        .env_remove("SESAME_TLS_KEY")
        .env_remove("SESAME_PUBLIC_URL");
    command
}

/// A started `sesame serve`: the address it serves on and what it logged until then.
struct Started {
    _server: Server,
    address: String,
    log: Vec<serde_json::Value>,
}

/// Starts `sesame serve` with `args` and waits for its "serving" line, its logs in
/// JSON.
fn serve(data_dir: &Path, args: &[&str]) -> Started {
    serve_logging(data_dir, args, "json")
}

/// As `serve`, its logs in `format` (`json` or `text`; a text line is kept as
/// `{"text": line}`).
fn serve_logging(data_dir: &Path, args: &[&str], format: &str) -> Started {
    let mut child = sesame()
        .arg("serve")
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env("SESAME_LOG_FORMAT", format)
        .env("SESAME_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let server = Server(child);
    // Drain stderr on a thread of its own: a server whose pipe is full or closed
    // stops.
    let (lines, received) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    let mut log = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = received
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("sesame serve never said it was serving: {log:?}"));
        let entry: serde_json::Value =
            serde_json::from_str(&line).unwrap_or_else(|_| serde_json::json!({ "text": line }));
        let serving = entry["fields"]["message"] == "serving";
        let text_serving = entry["text"].as_str().is_some_and(|t| t.contains(" serving "));
        log.push(entry);
        if text_serving {
            return Started {
                _server: server,
                address: String::new(),
                log,
            };
        }
        if serving {
            let address = log.last().unwrap()["fields"]["address"]
                .as_str()
                .unwrap()
                .to_owned();
            return Started {
                _server: server,
                address,
                log,
            };
        }
    }
}

fn warnings(log: &[serde_json::Value]) -> Vec<String> {
    log.iter()
        .filter(|entry| entry["level"] == "WARN")
        .map(|entry| entry["fields"]["message"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Runs `sesame` with `args` to its end: its exit status and what it wrote to stderr.
fn fails(args: &[&str]) -> String {
    let output = sesame().args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!output.status.success(), "sesame {args:?} succeeded: {stderr}");
    stderr
}

#[test]
fn sesame_serves_https_with_a_certificate_and_its_key_and_not_plain_http() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = self_signed(dir.path());
    let started = serve(
        &dir.path().join("data"),
        &[
            "--bind",
            "127.0.0.1:0",
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
    );
    let port = started.address.rsplit_once(':').unwrap().1;

    let trusting = |url: &str| curl(&["--cacert", cert.to_str().unwrap(), url]);
    assert_eq!(trusting(&format!("https://127.0.0.1:{port}/healthz")).0, 200);
    assert_eq!(
        curl(&[
            "--cacert",
            cert.to_str().unwrap(),
            "--resolve",
            &format!("localhost:{port}:127.0.0.1"),
            &format!("https://localhost:{port}/healthz"),
        ])
        .0,
        200,
        "the certificate's other name"
    );
    assert_eq!(
        curl(&[&format!("https://127.0.0.1:{port}/healthz")]).0,
        0,
        "a client that does not trust the certificate refuses it"
    );
    assert_eq!(
        curl(&[&format!("http://127.0.0.1:{port}/healthz")]).0,
        0,
        "no plain HTTP on the HTTPS port"
    );
    // The server goes on after a plain HTTP client and an untrusting one.
    assert_eq!(trusting(&format!("https://127.0.0.1:{port}/healthz")).0, 200);
    assert!(warnings(&started.log).is_empty(), "{:?}", started.log);
}

#[test]
fn with_a_certificate_links_and_cards_point_at_https() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = self_signed(dir.path());
    let data = dir.path().join("data");
    let port = common::free_port();
    let bind = format!("127.0.0.1:{port}");
    let tls = [
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ];
    let output = sesame()
        .args(["school", "--id", "north", "--name", "Nord", "--bind", &bind])
        .args(tls)
        .arg("--data-dir")
        .arg(&data)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let token = sesame()
        .args(["token", "--school", "north", "--role", "admin", "--sub", "x"])
        .arg("--data-dir")
        .arg(&data)
        .output()
        .unwrap();
    let token = String::from_utf8(token.stdout).unwrap();

    let mut args = vec!["--bind", &bind];
    args.extend(tls);
    let _started = serve(&data, &args);
    let (status, settings) = curl(&[
        "--cacert",
        cert.to_str().unwrap(),
        "-H",
        &format!("Authorization: Bearer {}", token.trim()),
        &format!("https://{bind}/v1/settings"),
    ]);
    assert_eq!(status, 200, "{settings}");
    let settings: serde_json::Value = serde_json::from_str(&settings).unwrap();
    assert_eq!(settings["login_url"], format!("https://{bind}/"));
}

#[test]
fn plain_http_on_a_network_address_warns_that_passwords_travel_in_clear() {
    let dir = tempfile::tempdir().unwrap();
    let started = serve(dir.path(), &["--bind", "0.0.0.0:0"]);
    let warnings = warnings(&started.log);
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("travel in clear") && w.contains("--tls-cert") && w.contains("TLS proxy")),
        "{:?}",
        started.log
    );
}

#[test]
fn logs_to_a_pipe_carry_no_colour_codes() {
    let dir = tempfile::tempdir().unwrap();
    let started = serve_logging(dir.path(), &["--bind", "0.0.0.0:0"], "text");
    let lines: Vec<&str> = started.log.iter().filter_map(|e| e["text"].as_str()).collect();
    assert!(lines.iter().any(|l| l.contains("WARN")), "{lines:?}");
    assert!(lines.iter().all(|l| !l.contains('\u{1b}')), "{lines:?}");
}

#[test]
fn plain_http_on_loopback_does_not_warn() {
    let dir = tempfile::tempdir().unwrap();
    let started = serve(dir.path(), &["--bind", "127.0.0.1:0"]);
    assert!(warnings(&started.log).is_empty(), "{:?}", started.log);
}

#[test]
fn a_certificate_without_its_key_is_refused_naming_the_missing_option() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = self_signed(dir.path());
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let stderr = fails(&["serve", "--tls-cert", cert.to_str().unwrap(), "--data-dir", data]);
    assert!(stderr.contains("--tls-key"), "{stderr}");
    let stderr = fails(&["serve", "--tls-key", key.to_str().unwrap(), "--data-dir", data]);
    assert!(stderr.contains("--tls-cert"), "{stderr}");
    assert!(!Path::new(data).exists(), "nothing was started");
}

#[test]
fn unusable_certificate_files_stop_the_start_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = self_signed(dir.path());
    let other = dir.path().join("other");
    std::fs::create_dir(&other).unwrap();
    let (other_cert, _) = self_signed(&other);
    let not_pem = dir.path().join("not.pem");
    std::fs::write(&not_pem, "not a certificate").unwrap();
    let missing = dir.path().join("missing.pem");
    let data = dir.path().join("data");
    let serve = |cert: &Path, key: &Path| {
        fails(&[
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
            "--data-dir",
            data.to_str().unwrap(),
        ])
    };

    let stderr = serve(&not_pem, &key);
    assert!(
        stderr.contains("--tls-cert") && stderr.contains("no certificate"),
        "{stderr}"
    );
    let stderr = serve(&cert, &not_pem);
    assert!(
        stderr.contains("--tls-key") && stderr.contains("not.pem"),
        "{stderr}"
    );
    let stderr = serve(&missing, &key);
    assert!(
        stderr.contains("--tls-cert") && stderr.contains("missing.pem"),
        "{stderr}"
    );
    let stderr = serve(&other_cert, &key);
    assert!(stderr.contains("does not go with"), "{stderr}");
}
