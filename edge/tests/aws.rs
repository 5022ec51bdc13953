//! `sesame aws bootstrap` and `sesame demo --backend aws` against the emulator that
//! `AWS_ENDPOINT_URL` names (moto, started by the test command). Without an emulator
//! these tests fail; they never skip.
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

    let (status, encryption) = curl(&[&format!("{endpoint}/{bucket}?encryption")]);
    assert_eq!(status, 200, "{encryption}");
    assert!(encryption.contains("AES256"), "{encryption}");
    let (_, public) = curl(&[&format!("{endpoint}/{bucket}?publicAccessBlock")]);
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

#[test]
fn mail_goes_through_ses_with_mail_ses() {
    let endpoint = endpoint();
    let table = unique("sesame-ses");
    let sender = format!("{}@example.org", unique("ecole"));
    bootstrap(&table, &unique("sesame-files"), &sender);
    let dir = tempfile::tempdir().unwrap();
    let demo = start_demo(
        dir.path(),
        &["--backend", "aws", "--mail", "ses", "--sender", &sender],
        &[("SESAME_TABLE", table.as_str())],
    );
    let (base, admin) = (&demo.base, &demo.tokens["ADMIN"]);
    let (_, parents) = get(
        &format!("{base}/v1/accounts?profile=parent&email=present&limit=1"),
        admin,
    );
    let parent = &parents["items"][0];
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
    let (_, state) = curl(&[&format!("{endpoint}/moto-api/data.json")]);
    let state: serde_json::Value = serde_json::from_str(&state).unwrap();
    let to = serde_json::json!([parent["email"]]);
    let mails: Vec<&serde_json::Value> = state["ses"]["Message"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["destinations"]["ToAddresses"] == to && m["source"] == sender.as_str())
        .collect();
    assert_eq!(mails.len(), 1, "SES took the activation mail");
}
