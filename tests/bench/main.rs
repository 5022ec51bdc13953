//! `sesame-bench`: measures what SPEC §9 sets bars for and writes BENCHMARKS.md.
//!
//! Run with `cargo run --release -p sesame-tests --bin sesame-bench [-- --out FILE]`.
//! Each measurement talks HTTP to a real server on loopback with a fresh SQLite
//! database, as the black-box tests do.

#[cfg(feature = "aws")]
mod mail_events;
mod oneroster;
#[cfg(feature = "aws")]
mod reads;

use serde_json::json;
use sesame::domain::{Caller, Role, SchoolId};
use sesame::ops::roster::RosterRow;
use sesame_tests::TestApp;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

fn roster(students: usize, class_size: usize) -> Vec<RosterRow> {
    (0..students)
        .map(|i| RosterRow {
            external_id: Some(format!("S{i}")),
            profile: "student".into(),
            first_name: format!("Élève{i}"),
            last_name: format!("Nom{}", i / 7),
            classes: Some(format!("C{:05}", i / class_size)),
            level: Some("6e".into()),
            ..RosterRow::default()
        })
        .collect()
}

async fn school_with(app: &TestApp, id: &str, rows: &[RosterRow]) -> Vec<String> {
    app.create_school(id, "École du banc d'essai").await;
    let caller = Caller {
        sub: "bench".into(),
        school: SchoolId::parse(id).unwrap(),
        role: Role::Admin,
        classes: vec![],
    };
    let report = app
        .state
        .sesame
        .import_roster(&caller, None, rows, false)
        .await
        .unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors.first());
    let token = app.token(id, "admin", "bench", &[]);
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let after = cursor
            .as_ref()
            .map(|c| format!("&cursor={c}"))
            .unwrap_or_default();
        let page = app.get(&format!("/v1/accounts?limit=500{after}"), &token).await;
        ids.extend(
            page.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["id"].as_str().unwrap().to_owned()),
        );
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return ids,
        }
    }
}

/// Seconds of one Argon2id hash on one thread (median of `n`), the crate's own
/// path (which allocates its memory for every hash).
fn one_hash_seconds(n: usize) -> f64 {
    use argon2::password_hash::PasswordHasher;
    let mut times: Vec<f64> = (0..n)
        .map(|i| {
            let start = Instant::now();
            argon2::Argon2::default()
                .hash_password(format!("bench-password-{i}").as_bytes())
                .unwrap();
            start.elapsed().as_secs_f64()
        })
        .collect();
    median(&mut times)
}

/// Seconds of one hash by a one-worker pool of ours (median of `n`, one at a time):
/// the path the server hashes by, its memory kept on huge pages.
async fn our_hash_seconds(hasher: &sesame::credentials::Hasher, n: usize) -> f64 {
    let mut times = Vec::with_capacity(n);
    for i in 0..n {
        let start = Instant::now();
        hasher
            .hash(secrecy::SecretString::from(format!("bench-password-{i}")))
            .await
            .unwrap();
        times.push(start.elapsed().as_secs_f64());
    }
    median(&mut times)
}

/// The time of one hash the floor divides by: the faster of the crate's own path
/// and ours, so that a faster hash of ours never flatters the ratio.
async fn floor_hash_seconds(ours: &sesame::credentials::Hasher) -> (f64, f64) {
    (one_hash_seconds(9), our_hash_seconds(ours, 9).await)
}

/// Huge pages mapped in this process (`AnonHugePages`), in MiB.
fn huge_pages_mib() -> Option<u64> {
    let rollup = std::fs::read_to_string("/proc/self/smaps_rollup").ok()?;
    let line = rollup.lines().find(|l| l.starts_with("AnonHugePages:"))?;
    Some(line.split_whitespace().nth(1)?.parse::<u64>().ok()? / 1024)
}

/// Hashes per second when every core hashes at once (the pool's own rate, with
/// nothing around it): on machines whose cores share a physical core, far below
/// `cores ÷ one hash`.
async fn parallel_hash_rate(hasher: &sesame::credentials::Hasher, n: usize) -> f64 {
    let secrets = (0..n)
        .map(|i| secrecy::SecretString::from(format!("bench-password-{i}")))
        .collect();
    let start = Instant::now();
    hasher.hash_many(secrets).await.unwrap();
    n as f64 / start.elapsed().as_secs_f64()
}

/// Median of `values` (sorted in place).
fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Bulk temporary resets of 100 and 500 accounts against the Argon2 floor, each
/// row run `RUNS` times. The machine's speed drifts from second to second (its
/// neighbours), so every run's floor is timed just before and just after its own
/// resets, and the hashing pool's own rate just before that.
async fn reset(app: &TestApp, token: &str, ids: &[String], cores: usize, report: &mut String) {
    const RUNS: usize = 7;
    let hasher = &app.state.sesame.hasher;
    let single = sesame::credentials::Hasher::new(1).unwrap();
    // Warm up: first allocations of Argon2's memory, SQLite's page cache.
    app.post(
        "/v1/accounts/reset-password",
        Some(token),
        json!({"account_ids": &ids[..10], "method": "temporary"}),
    )
    .await;
    parallel_hash_rate(hasher, 20).await;
    our_hash_seconds(&single, 1).await;
    let huge = huge_pages_mib();
    let (mut crate_times, mut our_times) = (Vec::new(), Vec::new());
    let mut pool_alone = Vec::new();
    let mut table = String::new();
    for total in [100usize, 500] {
        let (mut times, mut rates, mut floors, mut ratios, mut of_pool) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for _ in 0..RUNS {
            let pool = parallel_hash_rate(hasher, 40).await;
            let before = floor_hash_seconds(&single).await;
            let start = Instant::now();
            let requests = ids[..total].chunks(100).map(|chunk| {
                app.post(
                    "/v1/accounts/reset-password",
                    Some(token),
                    json!({"account_ids": chunk, "method": "temporary"}),
                )
            });
            let replies = futures::future::join_all(requests).await;
            let elapsed = start.elapsed().as_secs_f64();
            let after = floor_hash_seconds(&single).await;
            let ok: usize = replies
                .iter()
                .map(|r| {
                    r.body["results"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .filter(|i| i["status"] == "ok")
                        .count()
                })
                .sum();
            assert_eq!(ok, total);
            let throughput = total as f64 / elapsed;
            let one_hash = (before.0.min(before.1) + after.0.min(after.1)) / 2.0;
            let floor = cores as f64 / one_hash;
            crate_times.extend([before.0 * 1e3, after.0 * 1e3]);
            our_times.extend([before.1 * 1e3, after.1 * 1e3]);
            pool_alone.push(pool / floor);
            times.push(elapsed);
            rates.push(throughput);
            floors.push(floor);
            ratios.push(throughput / floor);
            of_pool.push(throughput / pool);
        }
        let (low, high) = (
            ratios.iter().copied().fold(f64::MAX, f64::min),
            ratios.iter().copied().fold(0.0, f64::max),
        );
        writeln!(
            table,
            "| {total} accounts ({} request{} of ≤ 100) | {:.2} s | {:.1} /s | {:.1} /s | **{:.2}** ({low:.2}–{high:.2}) | {:.2} |",
            total.div_ceil(100),
            if total > 100 { "s, concurrent" } else { "" },
            median(&mut times),
            median(&mut rates),
            median(&mut floors),
            median(&mut ratios),
            median(&mut of_pool),
        )
        .unwrap();
    }
    let range = |times: &[f64]| {
        format!(
            "{:.1} to {:.1} ms, median {:.1}",
            times.iter().copied().fold(f64::MAX, f64::min),
            times.iter().copied().fold(0.0, f64::max),
            median(&mut times.to_vec())
        )
    };
    writeln!(report, "## Bulk temporary-password reset over HTTP\n").unwrap();
    writeln!(
        report,
        "Each row is run {RUNS} times. The floor is {cores} cores ÷ the time of one Argon2id hash (m=19456 KiB, t=2, p=1) on one thread, timed just before and just after each run's resets (the mean of both sides), each side the faster of two medians of 9 hashes: the crate's own `hash_password` ({}) and a one-worker pool of ours, the server's path ({}). The machine's speed drifts between runs, hence the ranges. Each column is the median of its runs (so ÷ floor is not the quotient of the two medians beside it), the range of the ratio in brackets. Target: throughput ≥ 0.9 × floor. The last column compares with the hashing pool's own rate, all cores hashing 40 passwords with nothing around them, timed before each run: what the bookkeeping around the hashes costs. That pool alone reached {:.2} of the floor (median). Huge pages mapped by the process after the warm-up: {}.\n",
        range(&crate_times),
        range(&our_times),
        median(&mut pool_alone),
        huge.map_or_else(|| "unknown".to_owned(), |mib| format!("{mib} MiB")),
    )
    .unwrap();
    writeln!(
        report,
        "| reset | time | throughput | floor | ÷ floor | ÷ pool's own rate |\n|---|---|---|---|---|---|\n{table}"
    )
    .unwrap();
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1e3
}

#[tokio::main]
async fn main() {
    let out = std::env::args()
        .skip_while(|a| a != "--out")
        .nth(1)
        .unwrap_or_else(|| "BENCHMARKS.md".into());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut report = String::new();
    // `--only recall`: that section alone, printed (to refresh it by hand).
    if std::env::args().any(|a| a == "recall") {
        recall(&mut report).await;
        println!("{report}");
        return;
    }
    #[cfg(feature = "aws")]
    if std::env::args().any(|a| a == "mail-events") {
        mail_events::mail_events(&mut report).await;
        println!("{report}");
        return;
    }
    #[cfg(feature = "aws")]
    if std::env::args().any(|a| a == "reads") {
        reads::reads(&mut report).await;
        println!("{report}");
        return;
    }
    if std::env::args().any(|a| a == "oneroster") {
        oneroster::oneroster(&mut report).await;
        println!("{report}");
        return;
    }
    if std::env::args().any(|a| a == "burst") {
        burst(&mut report).await;
        println!("{report}");
        return;
    }
    if std::env::args().any(|a| a == "console") {
        let app = TestApp::spawn().await;
        school_with_import_only(&app, "big", &roster(100_000, 35)).await;
        console(&app, &mut report).await;
        println!("{report}");
        return;
    }

    // 1. Bulk temporary reset against the Argon2 floor.
    let app = TestApp::spawn().await;
    let ids = school_with(&app, "reset", &roster(500, 35)).await;
    let token = app.token("reset", "admin", "bench", &[]);
    reset(&app, &token, &ids, cores, &mut report).await;
    // `reset`: that section alone, printed (to refresh it by hand).
    if std::env::args().any(|a| a == "reset") {
        println!("{report}");
        return;
    }

    // 2. A burst of guesses at a locked account.
    burst(&mut report).await;

    // 3. Recall and follow-up of a 2,000-account distribution.
    recall(&mut report).await;

    // 4. One class of 35 among 100,000 accounts.
    let app = TestApp::spawn().await;
    let seeding = Instant::now();
    let rows = roster(100_000, 35);
    school_with_import_only(&app, "big", &rows).await;
    let seeded = seeding.elapsed();
    let token = app.token("big", "admin", "bench", &[]);
    let classes = 100_000usize.div_ceil(35);
    for i in 0..50 {
        app.get(&format!("/v1/accounts?class=C{:05}", i * 7 % classes), &token)
            .await;
    }
    let mut latencies = Vec::with_capacity(2000);
    for i in 0..2000usize {
        let path = format!("/v1/accounts?class=C{:05}", (i * 131) % classes);
        let start = Instant::now();
        let reply = app.get(&path, &token).await;
        latencies.push(start.elapsed());
        assert_eq!(
            reply.body["items"].as_array().map(Vec::len),
            Some(if (i * 131) % classes == classes - 1 {
                100_000 % 35
            } else {
                35
            })
        );
    }
    latencies.sort();
    writeln!(report, "\n## One class among 100,000 accounts (edge, HTTP)\n").unwrap();
    writeln!(report, "`GET /v1/accounts?class=…` (35 accounts, default sort, `total` included), 2,000 sequential requests over loopback with keep-alive after 50 warm-up requests, one school of 100,000 students in {classes} classes (seeded through the import in {:.0} s). Target: p99 < 10 ms.\n", seeded.as_secs_f64()).unwrap();
    writeln!(report, "| p50 | p90 | p99 | max |\n|---|---|---|---|").unwrap();
    writeln!(
        report,
        "| {:.2} ms | {:.2} ms | {:.2} ms | {:.2} ms |",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.9),
        percentile(&latencies, 0.99),
        latencies.last().unwrap().as_secs_f64() * 1e3
    )
    .unwrap();

    // 5. The console's accounts page of that class, signed in.
    console(&app, &mut report).await;

    let load = std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into());
    let machine = format!(
        "{cores} cores (load average {load} at the end of the run), {}, release build (`cargo run --release -p sesame-tests --bin sesame-bench`)",
        std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|c| c.lines().find(|l| l.starts_with("model name")).map(|l| l
                .split(':')
                .nth(1)
                .unwrap_or("")
                .trim()
                .to_owned()))
            .unwrap_or_else(|| "unknown CPU".into())
    );
    let mut document = format!(
        "# Benchmarks\n\nMeasured by `tests/bench/main.rs` on {machine}. Re-run it to refresh this file.\n\n{report}"
    );
    // The rendering and Lambda sections are measured by scripts/bench-export.sh and
    // scripts/bench-lambda.sh: keep them as they are.
    for name in ["export", "lambda"] {
        if let Some(section) = kept_section(&out, name) {
            write!(document, "\n{section}\n").unwrap();
        }
    }
    std::fs::write(&out, &document).unwrap();
    println!("{document}");
}

/// A distribution of 2,000 accounts (one credentials export of a class of 2,000):
/// the follow-up of that class, and the recall of the whole sheet, over HTTP.
async fn recall(report: &mut String) {
    let app = TestApp::spawn().await;
    let ids = school_with(&app, "recall", &roster(2000, 2000)).await;
    assert_eq!(ids.len(), 2000);
    let token = app.token("recall", "admin", "bench", &[]);
    let queued = app
        .post(
            "/v1/exports",
            Some(&token),
            json!({"filter": {"class": "C00000"}, "content": "credentials", "format": "csv"}),
        )
        .await;
    let id = queued.body["id"].as_str().unwrap().to_owned();
    loop {
        let state = app.get(&format!("/v1/exports/{id}"), &token).await;
        match state.body["status"].as_str() {
            Some("done") => break,
            Some("queued" | "running") => tokio::time::sleep(Duration::from_millis(100)).await,
            other => panic!("the export ended {other:?}"),
        }
    }
    let mut follow = Vec::with_capacity(21);
    for _ in 0..21 {
        let start = Instant::now();
        let reply = app.get("/v1/classes/C00000/follow-up", &token).await;
        follow.push(start.elapsed());
        assert_eq!(reply.body["students"]["open"], 2000);
    }
    follow.sort();
    let start = Instant::now();
    let recalled = app
        .post(&format!("/v1/distributions/{id}/revoke"), Some(&token), json!({}))
        .await;
    let recall = start.elapsed();
    assert_eq!(recalled.body["results"].as_array().map(Vec::len), Some(2000));
    let start = Instant::now();
    let again = app
        .post(&format!("/v1/distributions/{id}/revoke"), Some(&token), json!({}))
        .await;
    let idle = start.elapsed();
    assert_eq!(again.status, 200);
    let after = app.get("/v1/classes/C00000/follow-up", &token).await;
    assert_eq!(after.body["students"]["revoked"], 2000);
    writeln!(
        report,
        "\n## Recall and follow-up of 2,000 accounts (edge, HTTP)\n"
    )
    .unwrap();
    writeln!(report, "One class of 2,000 students handed a credentials sheet (one export: one distribution of 2,000 temporary passwords). Targets: under 1 s each.\n").unwrap();
    writeln!(report, "| measure | time |\n|---|---|").unwrap();
    writeln!(
        report,
        "| `GET /v1/classes/{{name}}/follow-up` over 2,000 accounts (median of 21) | {:.0} ms (min {:.0}, max {:.0}) |",
        percentile(&follow, 0.5),
        follow[0].as_secs_f64() * 1e3,
        follow.last().unwrap().as_secs_f64() * 1e3
    )
    .unwrap();
    writeln!(
        report,
        "| `POST /v1/distributions/{{id}}/revoke`: 2,000 open temporary passwords revoked, audited | {:.0} ms |",
        recall.as_secs_f64() * 1e3
    )
    .unwrap();
    writeln!(
        report,
        "| the same recall again (nothing left to revoke) | {:.0} ms |",
        idle.as_secs_f64() * 1e3
    )
    .unwrap();
}

/// 500 concurrent wrong guesses at an account whose login path is locked: the
/// latency of each 429, and how many Argon2 verifications ran meanwhile.
async fn burst(report: &mut String) {
    let app = TestApp::spawn().await;
    school_with(&app, "burst", &roster(1, 35)).await;
    let login = app
        .get("/v1/accounts", &app.token("burst", "admin", "bench", &[]))
        .await
        .body["items"][0]["login"]
        .as_str()
        .unwrap()
        .to_owned();
    let guess = json!({"login": login, "password": "wrong-guess-wrong"});
    for _ in 0..10 {
        app.post("/v1/auth/login", None, guess.clone()).await;
    }
    let checker = &app.state.sesame.checker;
    let before = checker.verifications();
    let logged = sesame_tests::logs().len();
    let url = format!("{}/v1/auth/login", app.base);
    let started = Instant::now();
    let sends = (0..500).map(|_| {
        let request = app.client.post(&url).json(&guess);
        async move {
            let start = Instant::now();
            let status = request.send().await.map(|r| r.status().as_u16()).unwrap_or(0);
            (status, start.elapsed())
        }
    });
    let answers = futures::future::join_all(sends).await;
    let wall = started.elapsed();
    let verifications = checker.verifications() - before;
    // The server's own time for each 429, from its request log.
    let mut served: Vec<Duration> = sesame_tests::logs()[logged..]
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|entry| entry["fields"]["status"] == 429)
        .filter_map(|entry| entry["fields"]["latency_ms"].as_f64())
        .map(|ms| Duration::from_secs_f64(ms / 1e3))
        .collect();
    served.sort();
    let mut latencies: Vec<Duration> = answers
        .iter()
        .filter(|(s, _)| *s == 429)
        .map(|(_, d)| *d)
        .collect();
    latencies.sort();
    let others = answers.len() - latencies.len();
    writeln!(
        report,
        "\n## A burst of guesses at a locked account (edge, HTTP)\n"
    )
    .unwrap();
    writeln!(report, "After 10 wrong passwords lock a login, 500 more wrong guesses are sent at once over loopback (500 connections, client and server on the same 2 cores). *Served* is the server's time for each 429 (its request log, from the request read to the answer written); *seen* is the client's, from its own send, so it includes waiting for a connection and a core among 500. Targets: 429s in under 5 ms each, at most 10 Argon2 verifications.\n").unwrap();
    writeln!(report, "| 429s | other answers | Argon2 verifications | served p50 | served p99 | seen p50 | seen p99 | whole burst |\n|---|---|---|---|---|---|---|---|").unwrap();
    writeln!(
        report,
        "| {} | {others} | {verifications} | {:.2} ms | {:.2} ms | {:.1} ms | {:.1} ms | {:.0} ms |",
        latencies.len(),
        percentile(&served, 0.5),
        percentile(&served, 0.99),
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        wall.as_secs_f64() * 1e3
    )
    .unwrap();
}

/// Seeds a school through the import, without listing it back.
async fn school_with_import_only(app: &TestApp, id: &str, rows: &[RosterRow]) {
    app.create_school(id, "Académie du banc d'essai").await;
    import_into(app, id, rows).await;
}

/// Imports `rows` into the school `id`, 20,000 at a time, as its admin.
async fn import_into(app: &TestApp, id: &str, rows: &[RosterRow]) {
    let caller = Caller {
        sub: "bench".into(),
        school: SchoolId::parse(id).unwrap(),
        role: Role::Admin,
        classes: vec![],
    };
    for chunk in rows.chunks(20_000) {
        let report = app
            .state
            .sesame
            .import_roster(&caller, None, chunk, false)
            .await
            .unwrap();
        assert!(report.errors.is_empty(), "{:?}", report.errors.first());
    }
}

/// The console's accounts page of one class of 35 among the 100,000 accounts of
/// `big`, signed in, over HTTP; and the size of what the console loads beside it.
async fn console(app: &TestApp, report: &mut String) {
    let password = "tournesol-ocre-du-matin-7";
    let admin = RosterRow {
        external_id: Some("ADMIN".into()),
        profile: "staff".into(),
        first_name: "Alice".into(),
        last_name: "Banc".into(),
        local_admin: Some("admin".into()),
        password: Some(password.into()),
        ..RosterRow::default()
    };
    import_into(app, "big", &[admin]).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let base = &app.base;
    let cookie_of = |response: &reqwest::Response| -> String {
        response
            .headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok()?.split(';').next().map(str::to_owned))
            .filter(|pair| !pair.ends_with('='))
            .collect::<Vec<_>>()
            .join("; ")
    };
    let form = client.get(format!("{base}/")).send().await.unwrap();
    let form_cookie = cookie_of(&form);
    let html = form.text().await.unwrap();
    let at = html.find("name=\"csrf\" value=\"").unwrap() + 19;
    let csrf = html[at..].split('"').next().unwrap().to_owned();
    let login = app
        .state
        .sesame
        .accounts
        .list_accounts(
            &SchoolId::parse("big").unwrap(),
            &sesame::ports::AccountQuery {
                filter: sesame::ports::AccountFilter {
                    profiles: vec![sesame::domain::Profile::Staff],
                    ..Default::default()
                },
                sort: sesame::domain::Sort::Name,
                after: None,
                limit: 1,
            },
        )
        .await
        .unwrap()
        .items[0]
        .login
        .to_string();
    let signed = client
        .post(format!("{base}/sign-in"))
        .header(reqwest::header::COOKIE, form_cookie)
        .form(&[("csrf", csrf.as_str()), ("login", &login), ("password", password)])
        .send()
        .await
        .unwrap();
    assert_eq!(signed.status(), 303, "signed in");
    let session = cookie_of(&signed);
    let classes = 100_000usize.div_ceil(35);
    let page = |i: usize| {
        client
            .get(format!("{base}/console/accounts?class=C{:05}", i % classes))
            .header(reqwest::header::COOKIE, &session)
            .send()
    };
    for i in 0..50 {
        page(i * 7).await.unwrap().bytes().await.unwrap();
    }
    let mut latencies = Vec::with_capacity(1000);
    let mut size = 0;
    for i in 0..1000usize {
        let start = Instant::now();
        let response = page(i * 131).await.unwrap();
        assert_eq!(response.status(), 200);
        let body = response.bytes().await.unwrap();
        latencies.push(start.elapsed());
        size = body.len();
    }
    latencies.sort();
    let mut assets = 0;
    for path in ["/console.css", "/console.js"] {
        let asset = client.get(format!("{base}{path}")).send().await.unwrap();
        assets += asset.bytes().await.unwrap().len();
    }
    writeln!(
        report,
        "\n## The console's accounts page: one class among 100,000 accounts (edge, HTTP)\n"
    )
    .unwrap();
    writeln!(report, "`GET /console/accounts?class=…` signed in as the school's admin (session read and touched, the account re-read, the class drop-down, the class's 35 accounts with their count, the recently disabled), 1,000 sequential requests over loopback after 50 warm-up requests, the same school of 100,000 students in {classes} classes. The page weighs {:.0} KiB, most of it the drop-down of {classes} classes. Target: p99 < 20 ms.\n", size as f64 / 1024.0).unwrap();
    writeln!(report, "| p50 | p90 | p99 | max |\n|---|---|---|---|").unwrap();
    writeln!(
        report,
        "| {:.2} ms | {:.2} ms | {:.2} ms | {:.2} ms |",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.9),
        percentile(&latencies, 0.99),
        latencies.last().unwrap().as_secs_f64() * 1e3
    )
    .unwrap();
    writeln!(report, "\nThe console's stylesheet and script, as served, uncompressed: {assets} bytes ({:.1} KiB) together. Target: under 30 KiB.", assets as f64 / 1024.0).unwrap();
}

/// The section `name` of the current `out` (between its markers, included), if any.
fn kept_section(out: &str, name: &str) -> Option<String> {
    let (start_marker, end_marker) = (format!("<!-- {name}:start -->"), format!("<!-- {name}:end -->"));
    let current = std::fs::read_to_string(out).ok()?;
    let start = current.find(&start_marker)?;
    let end = start + current[start..].find(&end_marker)? + end_marker.len();
    Some(current[start..end].to_owned())
}
