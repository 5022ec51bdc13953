//! `sesame-bench oneroster [--students N]`: the import of a whole school's
//! OneRoster 1.1 bulk bundle (SPEC §4; issue 22), on the store the suite runs on
//! (`SESAME_TEST_BACKEND`: SQLite, or DynamoDB on the emulator): its dry run and
//! its real run in one request, a sync that closes the leavers after its preview,
//! and the same bundle imported by a background job from an upload (the cloud's
//! road for files larger than a Lambda request). Each phase prints its time and
//! this process's resident memory before it and at its peak during it (server
//! and client share the process: `VmHWM`, reset before each phase through
//! `/proc/self/clear_refs`; memory freed by a phase stays with the allocator, so
//! a later phase starts higher). `--only job` runs the background job alone, in a
//! fresh process on a fresh store: the memory a worker needs for it.

use serde_json::Value;
use sesame_tests::TestApp;
use sesame_tests::oneroster::school_11;
use sesame_tests::uploads::{job, upload};
use std::fmt::Write as _;
use std::time::Instant;

/// This process's resident memory now and at its peak since the last reset, in MiB.
fn memory() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kib| kib.parse::<f64>().ok())
            .map_or(0.0, |kib| kib / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Starts a new peak (Linux: writing 5 to `clear_refs` resets `VmHWM`).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// A row of the table: the phase, its time, the memory before it and its peak.
fn line(report: &mut String, what: &str, seconds: f64, result: String, before: f64) {
    let (_, peak) = memory();
    writeln!(
        report,
        "| {what} | {seconds:.1} s | {before:.0} → {peak:.0} | {result} |"
    )
    .unwrap();
}

/// Imports `bundle` into a new school from an upload, by a background job.
async fn background_job(app: &TestApp, report: &mut String, bundle: Vec<u8>) {
    app.create_school("oneroster-job", "Collège OneRoster (envoi)")
        .await;
    let token = app.token("oneroster-job", "admin", "bench", &[]);
    reset_peak();
    let before = memory().0;
    let start = Instant::now();
    let upload_id = upload(&app.client, &app.base, &token, bundle).await;
    let started = app
        .send(
            app.client
                .post(format!("{}/v1/imports/jobs", app.base))
                .bearer_auth(&token)
                .json(&serde_json::json!({"upload_id": upload_id})),
        )
        .await;
    assert_eq!(started.status, 202, "{:?}", started.body);
    let id = started.body["id"].as_str().unwrap();
    let job = loop {
        let job = job(&app.client, &app.base, &token, id).await;
        if job["status"] == "done" || job["status"] == "failed" {
            break job;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    assert_eq!(job["status"], "done", "{job:?}");
    line(
        report,
        "upload, then background job",
        start.elapsed().as_secs_f64(),
        format!("{} created", job["report"]["created"]),
        before,
    );
}

async fn import(app: &TestApp, token: &str, query: &str, bytes: &[u8]) -> Value {
    let request = app
        .client
        .post(format!("{}/v1/imports{query}", app.base))
        .bearer_auth(token)
        .header("content-type", "application/zip")
        .body(bytes.to_vec());
    let reply = app.send(request).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    reply.body
}

pub async fn oneroster(report: &mut String) {
    let students: usize = std::env::args()
        .skip_while(|a| a != "--students")
        .nth(1)
        .map_or(12_987, |n| n.parse().expect("--students N"));
    let backend = std::env::var("SESAME_TEST_BACKEND").unwrap_or_else(|_| "sqlite".into());
    let app = TestApp::spawn().await;
    let (bundle, users) = school_11(students, "Élève");
    // A year later: the last 100 pupils left, with their parents and the classes that empty.
    let (later, later_users) = school_11(students - 100, "Élève");
    // Another school's bundle, for the background job.
    let (other, _) = school_11(students, "Pupille");
    writeln!(
        report,
        "\n**OneRoster 1.1 bulk bundle, {users} users** ({students} students in classes of 25, a parent for every \
         second one, a teacher a class; {} KiB zipped), store: {backend}, {} cores, load average {}:\n",
        bundle.len() / 1024,
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    )
    .unwrap();
    writeln!(
        report,
        "| phase | time | RSS before → peak during (MiB) | result |"
    )
    .unwrap();
    writeln!(report, "|---|---|---|---|").unwrap();
    let mut before;
    let (baseline, _) = memory();
    let job_only = std::env::args().any(|a| a == "job");
    if job_only {
        return background_job(&app, report, other).await;
    }
    app.create_school("oneroster", "Collège OneRoster").await;
    let token = app.token("oneroster", "admin", "bench", &[]);

    reset_peak();
    before = memory().0;
    let start = Instant::now();
    let preview = import(&app, &token, "?dry_run=true", &bundle).await;
    line(
        report,
        "dry run (one request)",
        start.elapsed().as_secs_f64(),
        format!("{} to create", preview["created"]),
        before,
    );

    reset_peak();
    before = memory().0;
    let start = Instant::now();
    let done = import(&app, &token, "", &bundle).await;
    assert_eq!(done["errors"], serde_json::json!([]), "{:?}", done["errors"][0]);
    line(
        report,
        "import (one request)",
        start.elapsed().as_secs_f64(),
        format!("{} created", done["created"]),
        before,
    );

    reset_peak();
    before = memory().0;
    let start = Instant::now();
    let preview = import(&app, &token, "?dry_run=true", &later).await;
    let closing = preview["sync"]["deactivations"].as_u64().unwrap();
    line(
        report,
        &format!("a year later ({later_users} users): sync's dry run"),
        start.elapsed().as_secs_f64(),
        format!("{closing} to deactivate, {} unchanged", preview["unchanged"]),
        before,
    );

    reset_peak();
    before = memory().0;
    let start = Instant::now();
    let synced = import(&app, &token, &format!("?expect_deactivations={closing}"), &later).await;
    line(
        report,
        "sync",
        start.elapsed().as_secs_f64(),
        format!("{} deactivated", synced["sync"]["deactivations"]),
        before,
    );

    background_job(&app, report, other).await;
    writeln!(
        report,
        "\nThe process held {baseline:.0} MiB before the first import (the server, the three bundles built)."
    )
    .unwrap();
}
