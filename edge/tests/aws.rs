//! `sesame aws bootstrap` and `sesame demo --backend aws` against the emulator that
//! `AWS_ENDPOINT_URL` names (moto, started by the test command), mail by SES v2 and,
//! with `SESAME_SES_API=v1`, by SES v1. Without an emulator these tests fail; they
//! never skip (all but the one that checks `SESAME_SES_API` at start, which needs none).
#![cfg(feature = "aws")]

mod common;

use common::{curl, get, start_demo};
use std::process::Command;

fn endpoint() -> String {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap_or_default();
    assert!(
        !endpoint.is_empty(),
        "AWS_ENDPOINT_URL must name an emulator (scripts/moto.sh)"
    );
    endpoint
}

fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}-{nanos:x}")
}

fn bootstrap(table: &str, bucket: &str, sender: &str) {
    let status = Command::new(env!("CARGO_BIN_EXE_sesame"))
        .args([
            "aws",
            "bootstrap",
            "--table",
            table,
            "--bucket",
            bucket,
            "--sender",
            sender,
        ])
        .status()
        .unwrap();
    assert!(status.success(), "bootstrap succeeds");
}

fn dynamodb(target: &str, body: &str) -> (u16, String) {
    curl(&[
        "-X",
        "POST",
        "-H",
        &format!("X-Amz-Target: DynamoDB_20120810.{target}"),
        "-H",
        "Content-Type: application/x-amz-json-1.0",
        "-H",
        "Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/eu-west-3/dynamodb/aws4_request, SignedHeaders=host, Signature=0",
        "-d",
        body,
        &endpoint(),
    ])
}

#[test]
fn bootstrap_creates_the_table_an_encrypted_private_bucket_and_the_sender_and_can_run_again() {
    let endpoint = endpoint();
    let (table, bucket) = (unique("sesame-cli"), unique("sesame-files"));
    bootstrap(&table, &bucket, "ecole@example.org");
    bootstrap(&table, &bucket, "ecole@example.org");

    let (status, description) = dynamodb("DescribeTable", &format!("{{\"TableName\":\"{table}\"}}"));
    assert_eq!(status, 200, "{description}");
    let (_, ttl) = dynamodb("DescribeTimeToLive", &format!("{{\"TableName\":\"{table}\"}}"));
    assert!(ttl.contains("\"ttl\""), "TTL is on the ttl attribute: {ttl}");

    // Signed as the emulator's root identity (an emulator that enforces IAM
    // refuses an anonymous read of a private bucket's settings).
    let signed = ["--aws-sigv4", "aws:amz:eu-west-3:s3", "--user", "test:test"];
    let url = format!("{endpoint}/{bucket}?encryption");
    let (status, encryption) = curl(&[&signed[..], &[url.as_str()]].concat());
    assert_eq!(status, 200, "{encryption}");
    assert!(encryption.contains("AES256"), "{encryption}");
    let url = format!("{endpoint}/{bucket}?publicAccessBlock");
    let (_, public) = curl(&[&signed[..], &[url.as_str()]].concat());
    assert!(
        public.contains("<BlockPublicAcls>true</BlockPublicAcls>"),
        "{public}"
    );

    let ses = "Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/eu-west-3/ses/aws4_request, SignedHeaders=host, Signature=0";
    let (status, identity) = curl(&[
        "-H",
        ses,
        &format!("{endpoint}/v2/email/identities/ecole@example.org"),
    ]);
    assert_eq!(status, 200, "{identity}");
}

#[test]
fn the_demo_school_is_served_from_dynamodb() {
    endpoint();
    let table = unique("sesame-demo");
    bootstrap(&table, &unique("sesame-files"), "ecole@example.org");
    let dir = tempfile::tempdir().unwrap();
    let demo = start_demo(
        dir.path(),
        &["--backend", "aws"],
        &[("SESAME_TABLE", table.as_str())],
    );
    let (base, tokens) = (&demo.base, &demo.tokens);
    let (status, classes) = get(&format!("{base}/v1/classes"), &tokens["TEACHER"]);
    assert_eq!(status, 200, "{classes}");
    assert_eq!(classes["items"][0]["student_count"], 20, "{classes}");
    let (_, accounts) = get(&format!("{base}/v1/accounts?limit=1&q=lefevre"), &tokens["ADMIN"]);
    assert!(accounts["total"].as_u64().unwrap() >= 2, "{accounts}");
}

/// The demo on DynamoDB mailing by `--mail ses` (with `env` besides) sends a
/// parent's activation: the sender it used and the parent, as the API lists them.
fn activation_through_ses(env: &[(&str, &str)]) -> (String, serde_json::Value) {
    endpoint();
    let table = unique("sesame-ses");
    let sender = format!("{}@example.org", unique("ecole"));
    bootstrap(&table, &unique("sesame-files"), &sender);
    let dir = tempfile::tempdir().unwrap();
    let mut env = env.to_vec();
    env.push(("SESAME_TABLE", table.as_str()));
    let demo = start_demo(
        dir.path(),
        &["--backend", "aws", "--mail", "ses", "--sender", &sender],
        &env,
    );
    let (base, admin) = (&demo.base, &demo.tokens["ADMIN"]);
    let (_, parents) = get(
        &format!("{base}/v1/accounts?profile=parent&email=present&limit=1"),
        admin,
    );
    let parent = parents["items"][0].clone();
    let (status, sent) = curl(&[
        "-X",
        "POST",
        "-H",
        &format!("Authorization: Bearer {admin}"),
        "-H",
        "Content-Type: application/json",
        "-d",
        &format!("{{\"account_ids\":[\"{}\"]}}", parent["id"].as_str().unwrap()),
        &format!("{base}/v1/accounts/send-activation"),
    ]);
    assert_eq!(status, 200, "{sent}");
    let sent: serde_json::Value = serde_json::from_str(&sent).unwrap();
    assert_eq!(sent["results"][0]["mail"], "sent", "{sent}");
    (sender, parent)
}

/// What the emulator keeps of the messages SES accepted, of one kind (`Message` for
/// v2's simple content, `RawMessage` for v1's `SendRawEmail`), from `sender`, in
/// moto's shape (fakecloud's are read into it).
fn sent_by(kind: &str, sender: &str) -> Vec<serde_json::Value> {
    if std::env::var("SESAME_FAKECLOUD_URL").is_ok() {
        let (_, state) = curl(&[&format!("{}/_fakecloud/ses/emails", endpoint())]);
        let state: serde_json::Value = serde_json::from_str(&state).unwrap();
        return state["emails"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|m| m["from"] == sender)
            .filter(|m| m["rawData"].is_string() == (kind == "RawMessage"))
            .map(|m| match kind {
                // fakecloud keeps the message as SES v1 took it: in base64.
                "RawMessage" => serde_json::json!({"destinations": m["to"], "raw_data": base64_decoded(m["rawData"].as_str().unwrap())}),
                _ => serde_json::json!({
                    "destinations": {"ToAddresses": m["to"]},
                    "subject": m["subject"],
                    "body": m["textBody"],
                }),
            })
            .collect();
    }
    let (_, state) = curl(&[&format!("{}/moto-api/data.json", endpoint())]);
    let state: serde_json::Value = serde_json::from_str(&state).unwrap();
    state["ses"][kind]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["source"] == sender)
        .cloned()
        .collect()
}

fn base64_decoded(text: &str) -> String {
    use std::io::Write;
    let mut decode = std::process::Command::new("base64")
        .arg("-d")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("coreutils' base64 runs");
    decode.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let output = decode.wait_with_output().unwrap();
    assert!(output.status.success(), "not base64: {text:.80}");
    String::from_utf8(output.stdout).unwrap()
}

/// The subject and opening every activation mail of the demo school has, for `parent`.
fn expected_activation(parent: &serde_json::Value) -> (&'static str, String) {
    let name = format!(
        "{} {}",
        parent["first_name"].as_str().unwrap(),
        parent["last_name"].as_str().unwrap()
    );
    (
        "École de démonstration Sésame : activez votre compte",
        format!("Bonjour {name},"),
    )
}

#[test]
fn mail_goes_through_ses_with_mail_ses() {
    let (sender, parent) = activation_through_ses(&[]);

    let mails = sent_by("Message", &sender);
    assert_eq!(mails.len(), 1, "SES v2 took the activation mail: {mails:?}");
    assert_eq!(
        mails[0]["destinations"]["ToAddresses"],
        serde_json::json!([parent["email"]])
    );
    let (subject, hello) = expected_activation(&parent);
    assert_eq!(mails[0]["subject"], subject);
    let body = mails[0]["body"].as_str().unwrap();
    assert!(body.contains(&hello), "{body}");
    assert!(
        sent_by("RawMessage", &sender).is_empty(),
        "nothing went by SES v1"
    );
}

#[test]
fn mail_goes_through_ses_v1_send_raw_email_with_sesame_ses_api_v1() {
    let (sender, parent) = activation_through_ses(&[("SESAME_SES_API", "v1")]);

    assert!(sent_by("Message", &sender).is_empty(), "nothing went by SES v2");
    let mails = sent_by("RawMessage", &sender);
    assert_eq!(mails.len(), 1, "SES v1 took the activation mail: {mails:?}");
    let to = parent["email"].as_str().unwrap();
    assert_eq!(mails[0]["destinations"], serde_json::json!([to]));
    let mime = Mime::read(mails[0]["raw_data"].as_str().unwrap());
    assert_eq!(mime.header("From"), sender);
    assert_eq!(mime.header("To"), to);
    let (subject, hello) = expected_activation(&parent);
    assert_eq!(mime.header("Subject"), subject);
    assert!(
        mime.header("Content-Type").starts_with("multipart/alternative"),
        "{mime:?}"
    );
    let text = mime.part("text/plain");
    assert!(text.contains(&hello), "{text}");
    assert!(text.contains("Code d'activation : "), "{text}");
    assert!(mime.part("text/html").contains(&hello), "{mime:?}");
}

#[test]
fn a_ses_api_other_than_v1_or_v2_stops_the_server_at_start_naming_sesame_ses_api() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Command::new(env!("CARGO_BIN_EXE_sesame"))
        .args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--mail",
            "ses",
            "--sender",
            "ecole@example.org",
        ])
        .arg("--data-dir")
        .arg(dir.path())
        .env("SESAME_SES_API", "v3")
        .env_remove("SESAME_JWT_KEY")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let status = loop {
        if let Some(status) = server.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            server.kill().unwrap();
            panic!("the server started with SESAME_SES_API=v3");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(!status.success(), "the server refused to start");
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut server.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(
        stderr.contains("SESAME_SES_API must be v1 or v2") && stderr.contains("\"v3\""),
        "{stderr}"
    );
}

/// A MIME message as SES received it: headers unfolded, RFC 2047 words decoded,
/// and each part's body decoded from its transfer encoding.
#[derive(Debug)]
struct Mime {
    headers: Vec<(String, String)>,
    body: String,
}

impl Mime {
    fn read(raw: &str) -> Self {
        let raw = raw.replace("\r\n", "\n");
        let (head, body) = raw.split_once("\n\n").unwrap_or((&raw, ""));
        let headers = head
            .replace("\n ", " ")
            .replace("\n\t", " ")
            .lines()
            .filter_map(|line| line.split_once(": "))
            .map(|(name, value)| (name.to_owned(), decode_words(value)))
            .collect();
        Mime {
            headers,
            body: body.to_owned(),
        }
    }

    fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("no {name} in {self:?}"))
    }

    /// The decoded body of the one part whose content type is `kind`.
    fn part(&self, kind: &str) -> String {
        let boundary = self
            .header("Content-Type")
            .split_once("boundary=")
            .map(|(_, b)| b.trim_matches('"').to_owned())
            .unwrap_or_else(|| panic!("not multipart: {self:?}"));
        let parts: Vec<Mime> = self
            .body
            .split(&format!("--{boundary}"))
            .map(|part| Mime::read(part.trim_start_matches('\n')))
            .filter(|part| {
                part.headers
                    .iter()
                    .any(|(n, v)| n.eq_ignore_ascii_case("Content-Type") && v.starts_with(kind))
            })
            .collect();
        assert_eq!(parts.len(), 1, "one {kind} part in {self:?}");
        let part = &parts[0];
        let encoding = part
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("Content-Transfer-Encoding"))
            .map_or("7bit", |(_, v)| v.as_str());
        decode_body(encoding, &part.body)
    }
}

/// A header value with its RFC 2047 words (`=?utf-8?b?…?=`, `=?utf-8?q?…?=`)
/// decoded; the space between two encoded words is not part of the text.
fn decode_words(raw: &str) -> String {
    let mut out = String::new();
    let mut last_encoded = false;
    for (i, word) in raw.split(' ').enumerate() {
        let encoded = word
            .strip_prefix("=?")
            .and_then(|w| w.strip_suffix("?="))
            .and_then(|w| {
                let mut fields = w.splitn(3, '?');
                let (charset, encoding, text) = (fields.next()?, fields.next()?, fields.next()?);
                assert!(charset.eq_ignore_ascii_case("utf-8"), "{raw}");
                Some(decode_body(
                    if encoding.eq_ignore_ascii_case("b") {
                        "base64"
                    } else {
                        "q"
                    },
                    text,
                ))
            });
        if i > 0 && !(last_encoded && encoded.is_some()) {
            out.push(' ');
        }
        last_encoded = encoded.is_some();
        out.push_str(&encoded.unwrap_or_else(|| word.to_owned()));
    }
    out
}

/// A body (or an RFC 2047 word: `q`) decoded from its transfer encoding.
fn decode_body(encoding: &str, body: &str) -> String {
    use base64::Engine;
    let bytes = match encoding.to_ascii_lowercase().as_str() {
        "base64" => base64::engine::general_purpose::STANDARD
            .decode(body.split_whitespace().collect::<String>())
            .unwrap(),
        "quoted-printable" | "q" => {
            let text = body.replace("=\n", "");
            let text = if encoding == "q" {
                text.replace('_', " ")
            } else {
                text
            };
            let mut bytes = Vec::new();
            let mut rest = text.as_bytes();
            while let Some((&byte, tail)) = rest.split_first() {
                if byte == b'=' && tail.len() >= 2 {
                    let hex = std::str::from_utf8(&tail[..2]).unwrap();
                    bytes.push(u8::from_str_radix(hex, 16).unwrap());
                    rest = &tail[2..];
                } else {
                    bytes.push(byte);
                    rest = tail;
                }
            }
            bytes
        }
        _ => body.as_bytes().to_vec(),
    };
    String::from_utf8(bytes).unwrap()
}
