//! Test helpers: a real server on port 0 with a fresh database, a clock the tests
//! move, a school fixture imported over HTTP, and the logs of the run.

#[cfg(feature = "aws")]
pub mod faults;
pub mod handouts;
#[cfg(feature = "aws")]
pub mod iam;
pub mod oneroster;
pub mod uploads;

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use sesame::adapters::disk::DiskFiles;
use sesame::adapters::outbox::Outbox;
use sesame::adapters::sqlite::SqliteStore;
use sesame::app::{Adapters, App, AppConfig, Files, Jobs};
use sesame::http::{AppState, Group};
use sesame::ports::Clock;
use sesame::token::{Claims, TokenKey};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

/// A clock that only moves when told to.
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    pub fn advance(&self, by: Duration) {
        *self.0.lock().unwrap() += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

/// Everything the server logged during this test binary's run.
pub fn logs() -> String {
    String::from_utf8_lossy(&LOGS.lock().unwrap()).into_owned()
}

static LOGS: Mutex<Vec<u8>> = Mutex::new(Vec::new());

struct LogWriter;

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LOGS.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capture_logs() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let _ = tracing_subscriber::fmt()
            .json()
            .with_env_filter("debug,hyper=info,h2=info,reqwest=info")
            .with_writer(|| LogWriter)
            .try_init();
    });
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `code` of a problem response.
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or_default()
    }
}

/// Where a test server keeps its data.
pub enum Backend {
    /// A fresh SQLite database file.
    Sqlite(PathBuf),
    /// A fresh table on the emulator that `AWS_ENDPOINT_URL` names.
    #[cfg(feature = "aws")]
    Dynamo(String),
}

/// Whether a DynamoDB test server runs as deployed when `SESAME_TEST_IAM` names
/// the functions' keys (see `iam.rs`).
#[derive(Clone, Copy, PartialEq)]
#[cfg_attr(not(feature = "aws"), allow(dead_code))]
enum AsDeployed {
    Yes,
    No,
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub clock: Arc<ManualClock>,
    pub key: TokenKey,
    pub state: AppState,
    pub backend: Backend,
    /// Each function's own app, when the suite runs as deployed (see `iam.rs`).
    functions: HashMap<String, sesame::ops::Sesame>,
    /// The bucket the files are in, as deployed; else they are on disk.
    bucket: Option<String>,
    _dir: tempfile::TempDir,
}

/// The store the suite runs on: SQLite, or DynamoDB when `SESAME_TEST_BACKEND` is
/// `dynamodb` (then `AWS_ENDPOINT_URL` must name an emulator, or the test fails).
async fn store(dir: &std::path::Path) -> (Arc<dyn sesame::ports::Store>, Backend) {
    match std::env::var("SESAME_TEST_BACKEND").as_deref() {
        Ok("dynamodb") => dynamo_store().await,
        Ok("sqlite") | Err(_) => {
            let path = dir.join("sesame.db");
            (Arc::new(SqliteStore::open(&path).unwrap()), Backend::Sqlite(path))
        }
        Ok(other) => panic!("SESAME_TEST_BACKEND={other} is neither sqlite nor dynamodb"),
    }
}

#[cfg(feature = "aws")]
async fn dynamo_store() -> (Arc<dyn sesame::ports::Store>, Backend) {
    use sesame::adapters::dynamodb::DynamoStore;
    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap_or_default();
    assert!(
        !endpoint.is_empty(),
        "SESAME_TEST_BACKEND=dynamodb needs AWS_ENDPOINT_URL (scripts/moto.sh)"
    );
    let table = format!("sesame-api-{}", uuid_like());
    let store = DynamoStore::connect(&table).await.expect("the emulator answers");
    store.create_table().await.expect("the table is created");
    (Arc::new(store), Backend::Dynamo(table))
}

#[cfg(not(feature = "aws"))]
async fn dynamo_store() -> (Arc<dyn sesame::ports::Store>, Backend) {
    panic!("SESAME_TEST_BACKEND=dynamodb needs the tests built with --features aws")
}

#[cfg(feature = "aws")]
/// `url`, a signed link (the edge's `signature=`, S3's `X-Amz-Signature=`), with
/// its signature changed.
pub fn tampered(url: &str) -> String {
    for name in ["X-Amz-Signature=", "signature="] {
        if let Some(at) = url.find(name) {
            let at = at + name.len();
            let first = if url[at..].starts_with('0') { "1" } else { "0" };
            return format!("{}{first}{}", &url[..at], &url[at + 1..]);
        }
    }
    panic!("{url} carries no signature");
}

/// A fresh bucket of the emulator (`sesame-files-…`: the tests' policies name
/// `sesame-*`), made with the root identity.
#[cfg(feature = "aws")]
pub async fn bucket() -> String {
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let name = format!("sesame-files-{}", uuid_like());
    let client = aws_sdk_s3::Client::from_conf(sesame::adapters::s3::S3Files::client_config(&sdk).build());
    let region = aws_sdk_s3::types::BucketLocationConstraint::from(sdk.region().unwrap().as_ref());
    client
        .create_bucket()
        .bucket(&name)
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(region)
                .build(),
        )
        .send()
        .await
        .expect("the emulator makes the bucket");
    name
}

/// `bucket` with the root identity.
#[cfg(feature = "aws")]
async fn root_files(bucket: &str) -> Arc<dyn sesame::ports::FileStore> {
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    Arc::new(sesame::adapters::s3::S3Files::new(&sdk, bucket))
}

#[cfg(feature = "aws")]
fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "{nanos:x}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// The messages SES accepted for `address` (simple content, SES v2), read from the
/// emulator's own state, fakecloud's or moto's, each as `{source, subject, body}`.
#[cfg(feature = "aws")]
pub async fn ses_messages_to(address: &str) -> Vec<Value> {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").expect("AWS_ENDPOINT_URL names an emulator");
    let fakecloud = std::env::var("SESAME_FAKECLOUD_URL").is_ok();
    let url = if fakecloud {
        format!("{endpoint}/_fakecloud/ses/emails")
    } else {
        format!("{endpoint}/moto-api/data.json")
    };
    let state: Value = reqwest::get(url).await.unwrap().json().await.unwrap();
    let messages = if fakecloud {
        &state["emails"]
    } else {
        &state["ses"]["Message"]
    };
    messages
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| match fakecloud {
            true => (m["to"] == json!([address]))
                .then(|| json!({"source": m["from"], "subject": m["subject"], "body": m["textBody"]})),
            false => (m["destinations"]["ToAddresses"] == json!([address])).then(|| m.clone()),
        })
        .collect()
}

/// The deployment's sender address of test servers (`SESAME_SENDER`).
pub const TEST_SENDER: &str = "no-reply@sesame.test";

impl TestApp {
    /// A server that mails to its outbox, from `TEST_SENDER` for schools that set none.
    pub async fn spawn() -> Self {
        Self::spawn_mailing(None, Some(TEST_SENDER)).await
    }

    /// A server that mails through `mailer` (or to its outbox), from `sender` for
    /// schools that set none.
    pub async fn spawn_mailing(mailer: Option<Arc<dyn sesame::ports::Mailer>>, sender: Option<&str>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let (store, backend) = store(dir.path()).await;
        Self::spawn_full(dir, store, backend, mailer, sender, None, AsDeployed::Yes).await
    }

    /// A server on a DynamoDB store whose endpoint answers nothing (a closed
    /// port): every store call fails, as in an outage.
    #[cfg(feature = "aws")]
    pub async fn spawn_on_a_dead_store() -> Self {
        use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
        let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", dead.local_addr().unwrap());
        drop(dead);
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("eu-west-3"))
            .credentials_provider(Credentials::new("test", "test", None, None, "test"))
            .endpoint_url(endpoint)
            .build();
        let table = "sesame-outage".to_owned();
        let store =
            sesame::adapters::dynamodb::DynamoStore::new(aws_sdk_dynamodb::Client::from_conf(config), &table);
        let dir = tempfile::tempdir().unwrap();
        Self::spawn_on(
            dir,
            Arc::new(store),
            Backend::Dynamo(table),
            None,
            Some(TEST_SENDER),
        )
        .await
    }

    /// A server on a fresh table of the emulator (`AWS_ENDPOINT_URL`, or the test
    /// fails) whose every DynamoDB request goes through `faults` (armed by the
    /// test once its fixture is in place).
    #[cfg(feature = "aws")]
    pub async fn spawn_faulty(faults: Arc<faults::Faults>) -> Self {
        Self::spawn_dynamo_intercepted(faults::Shared(faults)).await
    }

    /// A server on a fresh table of the emulator (`AWS_ENDPOINT_URL`, or it
    /// fails) whose every DynamoDB request goes through `interceptor` (faults, a
    /// meter).
    #[cfg(feature = "aws")]
    pub async fn spawn_dynamo_intercepted(
        interceptor: impl aws_sdk_dynamodb::config::Intercept + 'static,
    ) -> Self {
        use sesame::adapters::dynamodb::DynamoStore;
        let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap_or_default();
        assert!(
            !endpoint.is_empty(),
            "an emulator is needed: AWS_ENDPOINT_URL (scripts/fakecloud.sh)"
        );
        let table = format!("sesame-faults-{}", uuid_like());
        let clean = DynamoStore::connect(&table).await.expect("the emulator answers");
        clean.create_table().await.expect("the table is created");
        let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        let dynamo = DynamoStore::client_config(&config)
            .interceptor(interceptor)
            .build();
        let store = DynamoStore::new(aws_sdk_dynamodb::Client::from_conf(dynamo), &table);
        let dir = tempfile::tempdir().unwrap();
        Self::spawn_on(
            dir,
            Arc::new(store),
            Backend::Dynamo(table),
            None,
            Some(TEST_SENDER),
        )
        .await
    }

    /// A server on the suite's store (SQLite, or DynamoDB) that mails through
    /// `mailer` and keeps its credential files in `files` (S3, say): the cloud's
    /// parts, each with the faults its test puts in front of it.
    pub async fn spawn_with_files(
        mailer: Option<Arc<dyn sesame::ports::Mailer>>,
        files: Arc<dyn sesame::ports::FileStore>,
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let (store, backend) = store(dir.path()).await;
        Self::spawn_full(
            dir,
            store,
            backend,
            mailer,
            Some(TEST_SENDER),
            Some(files),
            AsDeployed::Yes,
        )
        .await
    }

    /// A server on a store the test made itself (a dead one, a faulty one): its own
    /// identity, whatever `SESAME_TEST_IAM` says.
    #[cfg(feature = "aws")]
    async fn spawn_on(
        dir: tempfile::TempDir,
        store: Arc<dyn sesame::ports::Store>,
        backend: Backend,
        mailer: Option<Arc<dyn sesame::ports::Mailer>>,
        sender: Option<&str>,
    ) -> Self {
        Self::spawn_full(dir, store, backend, mailer, sender, None, AsDeployed::No).await
    }

    async fn spawn_full(
        dir: tempfile::TempDir,
        store: Arc<dyn sesame::ports::Store>,
        backend: Backend,
        mailer: Option<Arc<dyn sesame::ports::Mailer>>,
        sender: Option<&str>,
        linked: Option<Arc<dyn sesame::ports::FileStore>>,
        deployed: AsDeployed,
    ) -> Self {
        capture_logs();
        let clock = Arc::new(ManualClock(Mutex::new(Utc::now())));
        let key = TokenKey::new(b"test-key-test-key-test-key-test-key");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let files = Arc::new(DiskFiles::new(dir.path().join("files"), b"test-files-key", &base).unwrap());
        // As deployed, an unlock runs in another function than the sign-in.
        #[cfg(feature = "aws")]
        let as_deployed = matches!(backend, Backend::Dynamo(_))
            && deployed == AsDeployed::Yes
            && iam::functions().is_some();
        #[cfg(not(feature = "aws"))]
        let as_deployed = {
            let _ = deployed;
            false
        };
        // As deployed, the files are in a bucket of their own, which each function
        // reaches with its own key (the console, not deployed, with the root's).
        #[cfg(feature = "aws")]
        let bucket = match (as_deployed, &linked) {
            (true, None) => Some(bucket().await),
            _ => None,
        };
        #[cfg(feature = "aws")]
        let linked = match &bucket {
            Some(bucket) => Some(root_files(bucket).await),
            None => linked,
        };
        // As deployed, the functions send as the template's mail identity only.
        #[cfg(feature = "aws")]
        let mail_identity = as_deployed
            .then(|| sesame::domain::MailIdentity::parse(&iam::resources().mail_identity).unwrap());
        #[cfg(not(feature = "aws"))]
        let mail_identity = None;
        let config = |console| AppConfig {
            data_key: b"test-data-key".to_vec(),
            token_key: Some(key.clone()),
            public_url: base.clone(),
            sender: sender.map(|s| sesame::domain::Email::parse(s).unwrap()),
            mail_identity: mail_identity.clone(),
            console,
            // Tests name their client with `X-Forwarded-For`.
            trusted_proxies: vec![std::net::Ipv4Addr::LOCALHOST.into()],
            alone: !as_deployed,
        };
        #[cfg(feature = "aws")]
        let given_mailer = mailer.is_some();
        let mailer = mailer.unwrap_or_else(|| Arc::new(Outbox::new(dir.path().join("outbox")).unwrap()));
        let adapters = Adapters {
            store,
            clock: clock.clone(),
            mailer: mailer.clone(),
            files: match &linked {
                Some(linked) => Files::Linked(linked.clone()),
                None => Files::Served(files.clone()),
            },
            jobs: Jobs::InProcess,
        };
        let built = App::build(config(true), adapters).unwrap();
        let state = built.state.clone();
        #[cfg_attr(not(feature = "aws"), allow(unused_mut))]
        let mut router = built.router(&Group::ALL);
        #[cfg_attr(not(feature = "aws"), allow(unused_mut))]
        let mut functions_as_deployed = HashMap::new();
        // The cloud as deployed: each function with its own policy (see iam.rs).
        #[cfg(feature = "aws")]
        if let (Backend::Dynamo(table), AsDeployed::Yes, Some(functions)) =
            (&backend, deployed, iam::functions())
        {
            let (queue, worker) = sesame::jobs::local_jobs();
            let queue: Arc<dyn sesame::ports::JobQueue> = Arc::new(queue);
            let mut served = Vec::new();
            let mut worker = Some(worker);
            if !given_mailer {
                iam::mail_identity().await;
            }
            // Each function reads the data key from SSM at cold start, with its key.
            let data_key = config(false).data_key;
            iam::data_key_parameter(&data_key).await;
            for function in functions {
                // What `sesame::lambda` gives each function: a mailer or files only
                // if its work needs them; the others refuse loudly.
                let needs = iam::needs_of(&function.binary);
                let files: Arc<dyn sesame::ports::FileStore> = match (&bucket, &linked, needs.files) {
                    (_, _, false) => Arc::new(sesame::ports::files::NoFiles),
                    (Some(bucket), _, true) => Arc::new(function.files(bucket).await),
                    (None, Some(linked), true) => linked.clone(),
                    (None, None, true) => files.clone(),
                };
                let mailer: Arc<dyn sesame::ports::Mailer> = match (given_mailer, needs.mail) {
                    (_, false) => Arc::new(sesame::ports::mailer::NoMail),
                    (true, true) => mailer.clone(),
                    // SES with the function's key, each call recorded; the copy in
                    // the outbox is what the tests read.
                    (false, true) => Arc::new(iam::Tee {
                        ses: function.ses().await,
                        outbox: mailer.clone(),
                    }),
                };
                let adapters = Adapters {
                    store: Arc::new(function.store(table).await),
                    clock: clock.clone(),
                    mailer,
                    files: Files::Linked(files),
                    jobs: Jobs::Elsewhere(queue.clone()),
                };
                let read = function.data_key().await;
                assert_eq!(read, data_key, "{} reads the data key stored", function.binary);
                let app = App::build(
                    AppConfig {
                        data_key: read,
                        ..config(false)
                    },
                    adapters,
                )
                .unwrap();
                functions_as_deployed.insert(function.binary.clone(), app.sesame().clone());
                if function.binary == "sesame-export-worker" {
                    let worker = worker.take().expect("one export worker");
                    worker.without_sweep().spawn(app.sesame().clone());
                    continue;
                }
                let groups = iam::groups_of(&function.binary);
                if !function.serves_http() {
                    continue;
                }
                assert!(
                    !groups.is_empty(),
                    "{} has routes in the template but no groups in iam::groups_of",
                    function.binary
                );
                let router = app.router(groups);
                served.push((function, router));
            }
            assert!(worker.is_none(), "SESAME_TEST_IAM names no sesame-export-worker");
            router = iam::dispatch(served, router);
        }
        let app = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            base,
            client: reqwest::Client::new(),
            clock,
            key,
            state,
            backend,
            functions: functions_as_deployed,
            #[cfg(feature = "aws")]
            bucket,
            #[cfg(not(feature = "aws"))]
            bucket: None,
            _dir: dir,
        }
    }

    /// What the cloud function `binary` (`sesame-mail-events`, `sesame-sweep`…) runs
    /// on: its own identity as deployed, else this server's.
    pub fn function(&self, binary: &str) -> &sesame::ops::Sesame {
        self.functions.get(binary).unwrap_or(&self.state.sesame)
    }

    /// The identity the deployment may send from, when it names one (as deployed).
    pub fn mail_identity(&self) -> Option<&sesame::domain::MailIdentity> {
        self.state.sesame.mail_identity.as_ref()
    }

    /// The bucket the files are in, when the suite runs as deployed: links are
    /// then S3's presigned ones, which S3 checks on its own clock.
    pub fn files_bucket(&self) -> Option<&str> {
        self.bucket.as_deref()
    }

    /// Every file kept (credential files, uploads), by key, with its size: on disk,
    /// or in the bucket (listed with the root identity).
    pub async fn stored_files(&self) -> Vec<(String, u64)> {
        #[cfg(feature = "aws")]
        if let Some(bucket) = &self.bucket {
            let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
            let client =
                aws_sdk_s3::Client::from_conf(sesame::adapters::s3::S3Files::client_config(&sdk).build());
            let mut files = Vec::new();
            let mut pages = client.list_objects_v2().bucket(bucket).into_paginator().send();
            while let Some(page) = pages.next().await {
                for object in page.expect("the emulator lists the bucket").contents() {
                    let size = object.size().unwrap_or_default().max(0) as u64;
                    files.push((object.key().unwrap_or_default().to_owned(), size));
                }
            }
            return files;
        }
        fn walk(root: &std::path::Path, dir: &std::path::Path, out: &mut Vec<(String, u64)>) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for entry in entries {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(root, &path, out);
                } else {
                    let key = path.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                    out.push((key, path.metadata().unwrap().len()));
                }
            }
        }
        let root = self.data_dir().join("files");
        let mut files = Vec::new();
        walk(&root, &root, &mut files);
        files
    }

    /// The outbox folder: one `.eml` file per message sent (when no mailer was given).
    pub fn outbox(&self) -> PathBuf {
        self.data_dir().join("outbox")
    }

    /// The folder of this server's files and outbox.
    pub fn data_dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    /// Everything the store holds, as raw bytes: the SQLite files, or every item of
    /// the DynamoDB table (read with a Scan: a test may, the adapter never does).
    pub async fn stored_bytes(&self) -> Vec<u8> {
        match &self.backend {
            Backend::Sqlite(path) => ["", "-wal", "-shm"]
                .iter()
                .flat_map(|suffix| std::fs::read(format!("{}{suffix}", path.display())).unwrap_or_default())
                .collect(),
            #[cfg(feature = "aws")]
            Backend::Dynamo(table) => {
                let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
                let client = aws_sdk_dynamodb::Client::new(&config);
                let mut bytes = Vec::new();
                let mut start = None;
                loop {
                    let page = client
                        .scan()
                        .table_name(table)
                        .set_exclusive_start_key(start)
                        .send()
                        .await
                        .unwrap();
                    for item in page.items() {
                        bytes.extend(format!("{item:?}").into_bytes());
                    }
                    start = page.last_evaluated_key().cloned();
                    if start.is_none() {
                        return bytes;
                    }
                }
            }
        }
    }

    pub fn token(&self, school: &str, role: &str, sub: &str, classes: &[&str]) -> String {
        let classes = classes.iter().map(|c| c.to_string()).collect();
        let now = self.clock.now();
        self.key.sign(&Claims::issued(
            sub,
            school,
            role,
            classes,
            now,
            Duration::hours(1),
        ))
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.unwrap();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
        }
    }

    fn with_token(&self, request: reqwest::RequestBuilder, token: Option<&str>) -> reqwest::RequestBuilder {
        match token {
            Some(t) => request.bearer_auth(t),
            None => request,
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.send(self.client.get(format!("{}{path}", self.base)).bearer_auth(token))
            .await
    }

    /// `POST /v1/auth/reset` from the client at `address`, as the test server's
    /// trusted loopback proxy forwards it (`X-Forwarded-For`).
    pub async fn reset_from(&self, address: &str, token: &str, password: &str) -> Reply {
        let request = self
            .client
            .post(format!("{}/v1/auth/reset", self.base))
            .header("x-forwarded-for", address)
            .json(&json!({"token": token, "new_password": password}));
        self.send(request).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        let request = self.client.post(format!("{}{path}", self.base)).json(&body);
        self.send(self.with_token(request, token)).await
    }

    pub async fn put(&self, path: &str, token: &str, body: Value) -> Reply {
        self.send(
            self.client
                .put(format!("{}{path}", self.base))
                .bearer_auth(token)
                .json(&body),
        )
        .await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Reply {
        self.send(
            self.client
                .patch(format!("{}{path}", self.base))
                .bearer_auth(token)
                .json(&body),
        )
        .await
    }

    pub async fn create_school(&self, id: &str, name: &str) {
        use sesame::domain::{School, SchoolId, Settings};
        let school = School::new(SchoolId::parse(id).unwrap(), name, Settings::default());
        assert!(
            self.state.sesame.create_school(&school).await.unwrap(),
            "{id} is new"
        );
    }

    /// Imports a CSV roster as an admin of `school`.
    pub async fn import(&self, school: &str, csv: &str) -> Reply {
        let token = self.token(school, "admin", "fixture", &[]);
        let request = self
            .client
            .post(format!("{}/v1/imports", self.base))
            .bearer_auth(token)
            .header("content-type", "text/csv")
            .body(csv.to_owned());
        self.send(request).await
    }

    pub async fn login(&self, login: &str, password: &str) -> Reply {
        self.post(
            "/v1/auth/login",
            None,
            json!({"login": login, "password": password}),
        )
        .await
    }
}

/// The school `riverside` (classes 5A and 5B) and a second school `hillside`.
pub struct Fixture {
    pub app: TestApp,
    /// external id → account id
    pub ids: HashMap<String, String>,
    /// external id → login
    pub logins: HashMap<String, String>,
}

pub const RIVERSIDE: &str = "\
external_id,profile,first_name,last_name,classes,email,birth_date,local_admin,source,children
SA1,student,Zoé,Lefèvre,5A,,2013-03-09,,,
SA2,student,Noé,Martin,5A,,2013-05-01,,,
SAF,student,Inès,Fédérée,5A,,2013-06-01,,ENT Académie,
SB1,student,Léa,Dubois,5B,,2013-07-02,,,
PA1,parent,Sébastien,Lefèvre,,seb@example.org,,,,SA1
PB1,parent,Émilie,Dubois,,,,,,SB1
TA,teacher,Marion,Besson,5A,m.besson@example.org,,,,
TB,teacher,Yannick,Paquay,5B,,,,,
ADM,staff,Hélène,Garnier,,h.garnier@example.org,,admin,,
SEC,staff,Benoît,Roux,,,,secondary,,
STF,staff,Paul,Vidal,,,,,,
";

impl Fixture {
    pub async fn new() -> Self {
        Self::on(TestApp::spawn().await).await
    }

    /// The fixture's schools, imported on `app`.
    pub async fn on(app: TestApp) -> Self {
        app.create_school("riverside", "Collège Rive Gauche").await;
        app.create_school("hillside", "Lycée des Collines").await;
        let report = app.import("riverside", RIVERSIDE).await;
        assert_eq!(report.status, 200, "{:?}", report.body);
        assert_eq!(report.body["errors"], json!([]), "{:?}", report.body);
        let other = app
            .import(
                "hillside",
                "external_id,profile,first_name,last_name,classes\nH1,student,Zoé,Lefèvre,5A\n",
            )
            .await;
        assert_eq!(other.status, 200);
        let mut ids = HashMap::new();
        let mut logins = HashMap::new();
        for school in ["riverside", "hillside"] {
            let token = app.token(school, "admin", "fixture", &[]);
            let list = app.get("/v1/accounts?limit=500", &token).await;
            for item in list.body["items"].as_array().unwrap() {
                let login = item["login"].as_str().unwrap().to_owned();
                let account = app
                    .state
                    .sesame
                    .accounts
                    .find_by_login(&sesame::domain::Login::parse(&login).unwrap())
                    .await
                    .unwrap()
                    .unwrap();
                let ext = account.external_id.unwrap();
                ids.insert(ext.clone(), item["id"].as_str().unwrap().to_owned());
                logins.insert(ext, login);
            }
        }
        Self { app, ids, logins }
    }

    pub fn id(&self, ext: &str) -> &str {
        &self.ids[ext]
    }

    pub fn login_of(&self, ext: &str) -> &str {
        &self.logins[ext]
    }

    pub fn admin(&self) -> String {
        self.app.token("riverside", "admin", self.id("ADM"), &[])
    }

    pub fn secondary(&self) -> String {
        self.app
            .token("riverside", "secondary_admin", self.id("SEC"), &[])
    }

    pub fn teacher_a(&self) -> String {
        self.app.token("riverside", "teacher", self.id("TA"), &["5A"])
    }

    /// Resets `ext`'s password as `token`; answers the reply.
    pub async fn reset(&self, token: &str, ext: &str) -> Reply {
        let body = json!({"account_ids": [self.id(ext)], "method": "temporary"});
        self.app
            .post("/v1/accounts/reset-password", Some(token), body)
            .await
    }

    /// A fresh temporary password for `ext`, reset by the admin.
    pub async fn temporary_password(&self, ext: &str) -> String {
        let reply = self.reset(&self.admin(), ext).await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        let item = &reply.body["results"][0];
        assert_eq!(item["status"], "ok", "{item:?}");
        item["temporary_password"].as_str().unwrap().to_owned()
    }
}

/// The text of a PDF file as `pdftotext` (poppler-utils) gives it back.
pub fn pdf_text(bytes: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("file.pdf");
    std::fs::write(&path, bytes).unwrap();
    let out = std::process::Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}
