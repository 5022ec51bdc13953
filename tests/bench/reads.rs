//! `sesame-bench reads [--accounts N]`: what each API call costs the cloud's store
//! (SPEC §9, cloud read budgets), metered between Sésame and the emulator: the
//! DynamoDB calls, the items they read, and the capacity DynamoDB bills for them.
//! Every request asks for its `ConsumedCapacity`, which fakecloud computes by
//! DynamoDB's own sizing rules (a strongly consistent read: 1 RCU per 4 KB of the
//! items it reads, whatever it projects; at least 1 per item fetched by key).
//! Run it with `--features aws` on fakecloud (`source scripts/fakecloud.sh`).
//!
//! The school is the issue's: N accounts, three quarters students in classes of 30
//! (K000, K001…), a quarter parents; the caller is a portal's administrator (no
//! account of its own) unless the line says a teacher.

use aws_sdk_dynamodb::config::interceptors::{
    AfterDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextMut,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_types::body::SdkBody;
use serde_json::{Value, json};
use sesame::domain::{Caller, Role, SchoolId};
use sesame::ops::roster::RosterRow;
use sesame_tests::TestApp;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// What the metered calls cost, since the last reset.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    pub calls: u64,
    pub reads: u64,
    /// Items the reads looked at (`ScannedCount`, or the items fetched by key).
    pub items: u64,
    pub rcu: f64,
    pub wcu: f64,
    pub operations: std::collections::BTreeMap<String, u64>,
}

#[derive(Debug, Default)]
pub struct Meter(Mutex<Tally>);

impl Meter {
    pub fn take(&self) -> Tally {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

#[derive(Debug, Clone)]
pub struct Metered(pub Arc<Meter>);

const READS: [&str; 5] = ["GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"];

fn operation(headers: &aws_smithy_runtime_api::http::Headers) -> String {
    headers
        .get("x-amz-target")
        .and_then(|t| t.rsplit('.').next())
        .unwrap_or_default()
        .to_owned()
}

fn units(capacity: &Value) -> f64 {
    match capacity {
        Value::Array(all) => all.iter().map(units).sum(),
        Value::Object(one) => one.get("CapacityUnits").and_then(Value::as_f64).unwrap_or(0.0),
        _ => 0.0,
    }
}

impl Intercept for Metered {
    fn name(&self) -> &'static str {
        "meter"
    }

    fn modify_before_signing(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request_mut();
        let op = operation(request.headers());
        let Some(mut body) = request
            .body()
            .bytes()
            .and_then(|b| serde_json::from_slice::<Value>(b).ok())
        else {
            return Ok(());
        };
        if std::env::var_os("SESAME_BENCH_TRACE").is_some() {
            let text = body.to_string();
            eprintln!("{op}: {}", &text[..text.len().min(300)]);
        }
        if op != "DescribeTable" && op != "CreateTable" && op != "UpdateTimeToLive" {
            body["ReturnConsumedCapacity"] = json!("TOTAL");
            let bytes = serde_json::to_vec(&body)?;
            request
                .headers_mut()
                .insert("content-length", bytes.len().to_string());
            *request.body_mut() = SdkBody::from(bytes);
        }
        cfg.interceptor_state().store_put(Operation(op));
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let op = cfg.load::<Operation>().map(|o| o.0.clone()).unwrap_or_default();
        let body: Value = context
            .response()
            .body()
            .bytes()
            .and_then(|b| serde_json::from_slice(b).ok())
            .unwrap_or(Value::Null);
        let mut tally = self.0.0.lock().unwrap();
        tally.calls += 1;
        *tally.operations.entry(op.clone()).or_default() += 1;
        let capacity = units(&body["ConsumedCapacity"]);
        if READS.contains(&op.as_str()) {
            tally.reads += 1;
            tally.rcu += capacity;
            tally.items += match op.as_str() {
                "GetItem" => u64::from(body.get("Item").is_some()),
                "BatchGetItem" => body["Responses"].as_object().map_or(0, |r| {
                    r.values()
                        .filter_map(Value::as_array)
                        .map(|a| a.len() as u64)
                        .sum()
                }),
                "TransactGetItems" => body["Responses"].as_array().map_or(0, |r| r.len() as u64),
                _ => body["ScannedCount"].as_u64().unwrap_or(0),
            };
        } else {
            tally.wcu += capacity;
        }
        Ok(())
    }
}

#[derive(Debug, Clone)]
struct Operation(String);

impl aws_smithy_types::config_bag::Storable for Operation {
    type Storer = aws_smithy_types::config_bag::StoreReplace<Self>;
}

/// The school: `accounts` accounts, three quarters students in classes of
/// 30, a quarter parents each naming one student.
fn school(accounts: usize) -> Vec<RosterRow> {
    let students = accounts * 3 / 4;
    let mut rows: Vec<RosterRow> = (0..students)
        .map(|i| RosterRow {
            external_id: Some(format!("S{i}")),
            profile: "student".into(),
            first_name: format!("Élève{i}"),
            last_name: format!("Nom{}", i / 7),
            classes: Some(format!("K{:03}", i / 30)),
            level: Some("6e".into()),
            birth_date: Some("2014-03-09".into()),
            ..RosterRow::default()
        })
        .collect();
    rows.extend((0..accounts - students).map(|i| RosterRow {
        external_id: Some(format!("P{i}")),
        profile: "parent".into(),
        first_name: format!("Parent{i}"),
        last_name: format!("Nom{}", i / 7),
        email: Some(format!("parent{i}@example.org")),
        children: Some(format!("S{}", i * 3)),
        ..RosterRow::default()
    }));
    rows
}

struct Line {
    what: String,
    status: u16,
    tally: Tally,
    budget: &'static str,
}

async fn measure(
    app: &TestApp,
    meter: &Meter,
    what: &str,
    budget: &'static str,
    request: reqwest::RequestBuilder,
) -> Line {
    meter.take();
    let reply = app.send(request).await;
    Line {
        what: what.to_owned(),
        status: reply.status,
        tally: meter.take(),
        budget,
    }
}

/// Meters each call of SPEC §9's budgets on a school of `accounts`.
async fn one_school(accounts: usize, report: &mut String) {
    let meter = Arc::new(Meter::default());
    let app = TestApp::spawn_dynamo_intercepted(Metered(meter.clone())).await;
    let id = "budget";
    app.create_school(id, "Collège du budget").await;
    let caller = Caller {
        sub: "bench".into(),
        school: SchoolId::parse(id).unwrap(),
        role: Role::Admin,
        classes: vec![],
    };
    meter.take();
    let start = Instant::now();
    let imported = app
        .state
        .sesame
        .import_roster(&caller, None, &school(accounts), false)
        .await
        .unwrap();
    let import_seconds = start.elapsed().as_secs_f64();
    let import = meter.take();
    assert!(imported.errors.is_empty(), "{:?}", imported.errors.first());
    let admin = app.token(id, "admin", "bench", &[]);
    let teacher = app.token(id, "teacher", "bench-teacher", &["K007"]);
    let base = &app.base;
    let get = |path: &str, token: &str| {
        app.client
            .get(format!("{base}{path}"))
            .bearer_auth(token.to_owned())
    };
    let class = app.get("/v1/accounts?class=K007&limit=50", &admin).await;
    // The class's pupils (its pupils' parents are listed in it too).
    let ids: Vec<String> = class.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["profile"] == "student")
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 30, "K007's pupils");
    let mut lines = Vec::new();
    lines.push(
        measure(
            &app,
            &meter,
            "`GET /v1/classes`",
            "≤ 10 RCU, ≤ 2 calls",
            get("/v1/classes", &admin),
        )
        .await,
    );
    lines.push(
        measure(
            &app,
            &meter,
            "`GET /v1/accounts?class=K007` (30 pupils, 10 parents)",
            "≤ 15 RCU",
            get("/v1/accounts?class=K007", &admin),
        )
        .await,
    );
    lines.push(
        measure(
            &app,
            &meter,
            "the same, as K007's teacher",
            "≤ 15 RCU",
            get("/v1/accounts?class=K007", &teacher),
        )
        .await,
    );
    lines.push(
        measure(
            &app,
            &meter,
            "`GET /v1/accounts/{id}`",
            "≤ 3 RCU, ≤ 3 calls",
            get(&format!("/v1/accounts/{}", ids[3]), &admin),
        )
        .await,
    );
    for (what, path) in [
        (
            "`GET /v1/accounts?q=nom17&limit=50`",
            "/v1/accounts?q=nom17&limit=50",
        ),
        (
            "`GET /v1/accounts?activation=pending&limit=50`",
            "/v1/accounts?activation=pending&limit=50",
        ),
        (
            "`GET /v1/accounts?profile=parent&limit=50`",
            "/v1/accounts?profile=parent&limit=50",
        ),
        ("`GET /v1/accounts?limit=50`", "/v1/accounts?limit=50"),
    ] {
        lines.push(measure(&app, &meter, what, "≤ 120 RCU, ≤ 5 calls", get(path, &admin)).await);
    }
    lines.push(
        measure(
            &app,
            &meter,
            "`GET /v1/classes/K007/follow-up`",
            "—",
            get("/v1/classes/K007/follow-up", &admin),
        )
        .await,
    );
    let reset = app
        .client
        .post(format!("{base}/v1/accounts/reset-password"))
        .bearer_auth(&admin)
        .json(&json!({"account_ids": ids, "method": "temporary"}));
    lines.push(measure(&app, &meter, "bulk temporary reset of 30", "≤ 40 calls", reset).await);

    writeln!(
        report,
        "\n**{accounts} accounts** (import: {import_seconds:.1} s, {} calls, {:.0} WCU):\n",
        import.calls, import.wcu
    )
    .unwrap();
    writeln!(
        report,
        "| call | status | DynamoDB calls | items read | RCU | WCU | budget |"
    )
    .unwrap();
    writeln!(report, "|---|---|---|---|---|---|---|").unwrap();
    for line in &lines {
        let t = &line.tally;
        writeln!(
            report,
            "| {} | {} | {} | {} | {:.1} | {:.1} | {} |",
            line.what, line.status, t.calls, t.items, t.rcu, t.wcu, line.budget
        )
        .unwrap();
    }
    for line in &lines {
        eprintln!("{}: {:?}", line.what, line.tally.operations);
    }
}

pub async fn reads(report: &mut String) {
    let sizes: Vec<usize> = match std::env::args().skip_while(|a| a != "--accounts").nth(1) {
        Some(n) => vec![n.parse().expect("--accounts N")],
        None => vec![4_000, 20_000],
    };
    writeln!(
        report,
        "## Cloud reads (SPEC §9): DynamoDB calls and capacity per API call\n"
    )
    .unwrap();
    writeln!(
        report,
        "Metered between Sésame and fakecloud (`sesame-bench reads`): every request asks for its \
         `ConsumedCapacity`, which fakecloud computes by DynamoDB's sizing rules (strongly consistent)."
    )
    .unwrap();
    for accounts in sizes {
        one_school(accounts, report).await;
    }
}
