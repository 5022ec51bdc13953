//! The cloud as deployed, for the black-box suite: each request goes to the
//! function that the template's HTTP API routes it to, and that function reaches
//! DynamoDB with credentials holding exactly its own policy (`SESAME_TEST_IAM`,
//! written by `scripts/iam-policies.py` on an emulator that enforces IAM). Background
//! jobs run with the export worker's credentials, as its function does. A call the
//! template does not allow is refused by the emulator, and the test that made it fails.
//!
//! Each function also keeps its files in S3, sends its mail through SES and reads
//! its data key from SSM (as at a cold start), all with its own key, and every such
//! call is recorded (`SESAME_TEST_CALLS`, see [`Record`]): fakecloud enforces S3's
//! identity policies but neither the bucket's own policy nor SES's or SSM's, so
//! `scripts/iam-evaluate.sh` evaluates each recorded call offline against the
//! function's policy and the bucket's.
//!
//! What the cloud does not deploy (the console, the edge's file links) is served
//! by the test's own app, with the emulator's root credentials.

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request};
use axum::response::IntoResponse;
use serde_json::Value;
use sesame::adapters::dynamodb::DynamoStore;
use sesame::adapters::s3::S3Files;
use sesame::adapters::ses::SesMailer;
use sesame::http::Group;
use sesame::ports::mailer::{MailError, Mailer, Message};
use std::sync::Arc;
use tower::ServiceExt;

/// One function of the template, as `scripts/iam-policies.py` made it.
pub struct Function {
    pub binary: String,
    routes: Vec<(Method, Vec<String>)>,
    credentials: Credentials,
}

/// The groups of endpoints each function binary serves (its `main.rs`).
pub fn groups_of(binary: &str) -> &'static [Group] {
    match binary {
        "sesame-list" => &[Group::List],
        "sesame-reset" => &[Group::Reset],
        "sesame-mail" => &[Group::Mail],
        "sesame-activate" => &[Group::Activate],
        "sesame-deactivate" => &[Group::Deactivate],
        "sesame-settings" => &[Group::Settings],
        "sesame-audit" => &[Group::Audit],
        "sesame-distributions" => &[Group::Distributions],
        "sesame-auth" => &[Group::SelfService, Group::System],
        "sesame-imports" => &[Group::Imports],
        "sesame-exports" => &[Group::Exports],
        _ => &[],
    }
}

/// What each function binary is given beyond the table, as `sesame::lambda` decides
/// it: a mailer for the groups that send mail and the workers that do, files for
/// exports and imports, the worker and the sweep.
pub fn needs_of(binary: &str) -> Needs {
    let groups = groups_of(binary);
    match binary {
        "sesame-export-worker" => Needs {
            mail: true,
            files: true,
        },
        "sesame-sweep" => Needs {
            mail: false,
            files: true,
        },
        _ => Needs {
            mail: groups.iter().any(|g| g.sends_mail()),
            files: groups.contains(&Group::Exports) || groups.contains(&Group::Imports),
        },
    }
}

/// What a function needs beyond the table (as `sesame::lambda::Needs`).
#[derive(Debug, Clone, Copy)]
pub struct Needs {
    pub mail: bool,
    pub files: bool,
}

/// The functions of `SESAME_TEST_IAM`, when the suite runs with IAM enforced.
pub fn functions() -> Option<Vec<Function>> {
    let path = std::env::var("SESAME_TEST_IAM").ok().filter(|p| !p.is_empty())?;
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("SESAME_TEST_IAM={path}: {e}"));
    let all: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("SESAME_TEST_IAM={path}: {e}"));
    let functions = all
        .as_object()
        .expect("an object of functions")
        .iter()
        .map(|(binary, f)| Function {
            binary: binary.clone(),
            routes: f["routes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    let method = Method::from_bytes(r[0].as_str().unwrap().as_bytes()).unwrap();
                    (method, segments(r[1].as_str().unwrap()))
                })
                .collect(),
            credentials: Credentials::new(
                f["access_key_id"].as_str().expect("an access key"),
                f["secret_access_key"].as_str().expect("a secret key"),
                None,
                None,
                "sesame-test-iam",
            ),
        })
        .collect();
    Some(functions)
}

fn segments(path: &str) -> Vec<String> {
    path.trim_matches('/').split('/').map(str::to_owned).collect()
}

impl Function {
    /// Whether the template routes HTTP requests to this function.
    pub fn serves_http(&self) -> bool {
        !self.routes.is_empty()
    }

    /// How well this function's routes match a request: `None` when none does,
    /// else the number of literal segments (API Gateway prefers the most specific).
    fn matches(&self, method: &Method, path: &[&str]) -> Option<usize> {
        self.routes
            .iter()
            .filter(|(m, route)| m == method && route.len() == path.len())
            .filter_map(|(_, route)| {
                let mut literal = 0;
                for (want, got) in route.iter().zip(path) {
                    if want.starts_with('{') {
                        continue;
                    }
                    if want != got {
                        return None;
                    }
                    literal += 1;
                }
                Some(literal)
            })
            .max()
    }

    /// A DynamoDB store on `table` signed with this function's own key.
    pub async fn store(&self, table: &str) -> DynamoStore {
        let sdk = aws_config::load_defaults(BehaviorVersion::latest()).await;
        let config = DynamoStore::client_config(&sdk)
            .credentials_provider(self.credentials.clone())
            .region(sdk.region().cloned().or(Some(Region::new("eu-west-3"))))
            .build();
        DynamoStore::new(aws_sdk_dynamodb::Client::from_conf(config), table)
    }
}

impl Function {
    /// The files bucket `bucket`, reached with this function's own key, each call
    /// recorded.
    pub async fn files(&self, bucket: &str) -> S3Files {
        let sdk = aws_config::load_defaults(BehaviorVersion::latest()).await;
        let config = S3Files::client_config(&sdk)
            .credentials_provider(self.credentials.clone())
            .region(sdk.region().cloned().or(Some(Region::new("eu-west-3"))))
            .interceptor(Record::of(&self.binary))
            .build();
        S3Files::from_client(aws_sdk_s3::Client::from_conf(config), bucket)
    }

    /// The data key, as the function reads it at cold start: from SSM, with its
    /// own key, the call recorded.
    pub async fn data_key(&self) -> Vec<u8> {
        let sdk = aws_config::load_defaults(BehaviorVersion::latest()).await;
        let config = aws_sdk_ssm::config::Builder::from(&sdk)
            .credentials_provider(self.credentials.clone())
            .region(sdk.region().cloned().or(Some(Region::new("eu-west-3"))))
            .interceptor(Record::of(&self.binary))
            .build();
        let parameter = &resources().data_key_parameter;
        sesame::config::data_key_from(&aws_sdk_ssm::Client::from_conf(config), parameter)
            .await
            .unwrap_or_else(|e| panic!("{} reads its data key: {e:#}", self.binary))
            .into_bytes()
    }

    /// SES v2, reached with this function's own key and the deployment's
    /// configuration set, each call recorded.
    pub async fn ses(&self) -> SesMailer {
        let sdk = aws_config::load_defaults(BehaviorVersion::latest()).await;
        let config = aws_sdk_sesv2::config::Builder::from(&sdk)
            .credentials_provider(self.credentials.clone())
            .region(sdk.region().cloned().or(Some(Region::new("eu-west-3"))))
            .interceptor(Record::of(&self.binary))
            .build();
        SesMailer::from_client(aws_sdk_sesv2::Client::from_conf(config))
            .with_configuration_set(Some(resources().configuration_set.clone()))
    }
}

/// The data key's parameter, as a deployment stores it before its functions start
/// (made once per test binary with the root identity).
pub async fn data_key_parameter(value: &[u8]) {
    static MADE: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    MADE.get_or_init(|| async {
        let sdk = aws_config::load_defaults(BehaviorVersion::latest()).await;
        aws_sdk_ssm::Client::new(&sdk)
            .put_parameter()
            .name(&resources().data_key_parameter)
            .value(String::from_utf8_lossy(value))
            .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
            .overwrite(true)
            .send()
            .await
            .expect("the emulator stores the data key");
    })
    .await;
}

/// SES's identity and configuration set, as a deployment has them before its
/// functions send (made once per test binary with the root identity).
pub async fn mail_identity() {
    static MADE: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    MADE.get_or_init(|| async {
        let sdk = aws_config::load_defaults(BehaviorVersion::latest()).await;
        let ses = aws_sdk_sesv2::Client::new(&sdk);
        let names = resources();
        if let Err(e) = ses
            .create_email_identity()
            .email_identity(&names.mail_identity)
            .send()
            .await
        {
            assert!(
                e.as_service_error()
                    .is_some_and(|e| e.is_already_exists_exception()),
                "the emulator makes the identity {}: {e:?}",
                names.mail_identity
            );
        }
        if let Err(e) = ses
            .create_configuration_set()
            .configuration_set_name(&names.configuration_set)
            .send()
            .await
        {
            assert!(
                e.as_service_error()
                    .is_some_and(|e| e.is_already_exists_exception()),
                "the emulator makes the configuration set {}: {e:?}",
                names.configuration_set
            );
        }
    })
    .await;
}

/// A function's mail as deployed: SES with its own key (each call recorded), and a
/// copy in the outbox, which is where the tests read it.
pub struct Tee {
    pub ses: SesMailer,
    pub outbox: Arc<dyn Mailer>,
}

#[async_trait::async_trait]
impl Mailer for Tee {
    async fn send(&self, message: &Message) -> Result<(), MailError> {
        self.ses.send(message).await?;
        self.outbox.send(message).await
    }
}

/// The names `scripts/iam-policies.py` resolved beside the functions' policies.
pub struct Resources {
    /// The SES configuration set the functions send with.
    pub configuration_set: String,
    /// The SES identity the functions may send from.
    pub mail_identity: String,
    /// The SSM parameter the functions read their data key from.
    pub data_key_parameter: String,
    /// Where the template's ARNs say the functions run.
    pub region: String,
    pub account: String,
}

/// `SESAME_TEST_IAM_RESOURCES`, read once.
pub fn resources() -> &'static Resources {
    static RESOURCES: std::sync::OnceLock<Resources> = std::sync::OnceLock::new();
    RESOURCES.get_or_init(|| {
        let path = std::env::var("SESAME_TEST_IAM_RESOURCES")
            .expect("SESAME_TEST_IAM_RESOURCES (scripts/fakecloud.sh) names the template's resources");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let all: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
        let name = |key: &str| {
            all[key]
                .as_str()
                .unwrap_or_else(|| panic!("{path}: no {key}"))
                .to_owned()
        };
        Resources {
            configuration_set: name("configuration_set"),
            mail_identity: name("mail_identity"),
            data_key_parameter: name("data_key_parameter"),
            region: name("region"),
            account: name("account"),
        }
    })
}

/// Records each S3, SES and SSM call a function makes, as the IAM request AWS would
/// authorise (action, resources, the context keys its policies may test), one JSON
/// line per request in `SESAME_TEST_CALLS`. A batch is one request per object, as
/// AWS authorises it; a copy reads its source and writes its target. An operation
/// this recorder does not know is recorded as such, and fails the evaluation.
#[derive(Debug, Clone)]
pub struct Record {
    function: String,
}

impl Record {
    pub fn of(function: &str) -> Self {
        Self {
            function: function.to_owned(),
        }
    }

    fn requests(
        &self,
        operation: &str,
        input: &aws_smithy_runtime_api::client::interceptors::context::Input,
    ) -> Vec<Value> {
        use aws_sdk_s3::operation as s3;
        let object = |bucket: Option<&str>, key: Option<&str>| {
            format!(
                "arn:aws:s3:::{}/{}",
                bucket.unwrap_or_default(),
                key.unwrap_or_default()
            )
        };
        let bucket = |bucket: Option<&str>| format!("arn:aws:s3:::{}", bucket.unwrap_or_default());
        let one = |action: &str, resources: Vec<String>, context: Value| serde_json::json!({"action": action, "resources": resources, "context": context});
        let none = Value::Object(Default::default());
        if let Some(i) = input.downcast_ref::<s3::put_object::PutObjectInput>() {
            return vec![one("s3:PutObject", vec![object(i.bucket(), i.key())], none)];
        }
        if let Some(i) = input.downcast_ref::<s3::get_object::GetObjectInput>() {
            return vec![one("s3:GetObject", vec![object(i.bucket(), i.key())], none)];
        }
        if let Some(i) = input.downcast_ref::<s3::head_object::HeadObjectInput>() {
            return vec![one("s3:GetObject", vec![object(i.bucket(), i.key())], none)];
        }
        if let Some(i) = input.downcast_ref::<s3::delete_object::DeleteObjectInput>() {
            return vec![one("s3:DeleteObject", vec![object(i.bucket(), i.key())], none)];
        }
        if let Some(i) = input.downcast_ref::<s3::copy_object::CopyObjectInput>() {
            let source = i.copy_source().unwrap_or_default().trim_start_matches('/');
            return vec![
                one(
                    "s3:GetObject",
                    vec![format!("arn:aws:s3:::{source}")],
                    none.clone(),
                ),
                one("s3:PutObject", vec![object(i.bucket(), i.key())], none),
            ];
        }
        if let Some(i) = input.downcast_ref::<s3::list_objects_v2::ListObjectsV2Input>() {
            let context = serde_json::json!({"s3:prefix": i.prefix().unwrap_or_default()});
            return vec![one("s3:ListBucket", vec![bucket(i.bucket())], context)];
        }
        if let Some(i) = input.downcast_ref::<s3::delete_objects::DeleteObjectsInput>() {
            let objects = i.delete().map(|d| d.objects()).unwrap_or_default();
            return objects
                .iter()
                .map(|o| {
                    one(
                        "s3:DeleteObject",
                        vec![object(i.bucket(), Some(o.key()))],
                        none.clone(),
                    )
                })
                .collect();
        }
        if let Some(i) = input.downcast_ref::<aws_sdk_ssm::operation::get_parameter::GetParameterInput>() {
            let Resources { region, account, .. } = resources();
            let name = i.name().unwrap_or_default().trim_start_matches('/');
            return vec![one(
                "ssm:GetParameter",
                vec![format!("arn:aws:ssm:{region}:{account}:parameter/{name}")],
                none,
            )];
        }
        if let Some(i) = input.downcast_ref::<aws_sdk_sesv2::operation::send_email::SendEmailInput>() {
            // SES authorises the identity the sender belongs to (its domain) and the
            // configuration set the message names.
            let from = i.from_email_address().unwrap_or_default();
            let address = from.rsplit('<').next().unwrap_or(from).trim_end_matches('>');
            let domain = address.rsplit('@').next().unwrap_or(address);
            let Resources { region, account, .. } = resources();
            let mut resources = vec![format!("arn:aws:ses:{region}:{account}:identity/{domain}")];
            if let Some(set) = i.configuration_set_name() {
                resources.push(format!("arn:aws:ses:{region}:{account}:configuration-set/{set}"));
            }
            return vec![one("ses:SendEmail", resources, none)];
        }
        vec![one(&format!("unknown:{operation}"), vec![], none)]
    }
}

impl aws_smithy_runtime_api::client::interceptors::Intercept for Record {
    fn name(&self) -> &'static str {
        "record-calls"
    }

    fn read_before_execution(
        &self,
        context: &aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut aws_smithy_types::config_bag::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        let Some(path) = std::env::var_os("SESAME_TEST_CALLS") else {
            return Ok(());
        };
        let operation = cfg
            .load::<aws_smithy_runtime_api::client::orchestrator::Metadata>()
            .map(|m| format!("{}:{}", m.service(), m.name()))
            .unwrap_or_default();
        let mut lines = String::new();
        for mut request in self.requests(&operation, context.input()) {
            request["function"] = Value::from(self.function.as_str());
            request["operation"] = Value::from(operation.as_str());
            lines.push_str(&request.to_string());
            lines.push('\n');
        }
        // One append per call: lines of concurrent tests and binaries never mix.
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
        file.write_all(lines.as_bytes())?;
        Ok(())
    }
}

/// Where the cloud's API lives (what API Gateway serves): a request there that no
/// template route takes must not succeed.
const API_PATHS: [&str; 5] = ["/v1/", "/reset/", "/activate", "/healthz", "/openapi.json"];

/// The served app: each request to the router of the function the template routes
/// it to, or to `rest` (what the cloud does not deploy).
pub fn dispatch(functions: Vec<(Function, Router)>, rest: Router) -> Router {
    let functions = Arc::new(functions);
    Router::new().fallback(move |request: Request<Body>| {
        let functions = functions.clone();
        let rest = rest.clone();
        async move {
            let path: Vec<&str> = request.uri().path().trim_matches('/').split('/').collect();
            let target = functions
                .iter()
                .filter_map(|(f, router)| f.matches(request.method(), &path).map(|score| (score, router)))
                .max_by_key(|(score, _)| *score)
                .map(|(_, router)| router.clone());
            if let Some(function) = target {
                return function.oneshot(request).await;
            }
            // No function: the edge's own pages, or an API request the template
            // routes nowhere. That one may fail (404, 405), never succeed: a route
            // the code serves and the template forgot would answer here with the
            // root identity and hide its function's missing permissions.
            let api = API_PATHS.iter().any(|p| request.uri().path().starts_with(p));
            let what = format!("{} {}", request.method(), request.uri().path());
            let response = rest.oneshot(request).await?;
            if api && response.status().is_success() {
                let message =
                    format!("{what} answered without a function: infra/template.yaml routes it nowhere");
                return Ok((axum::http::StatusCode::INTERNAL_SERVER_ERROR, message).into_response());
            }
            Ok(response)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn function(binary: &str, routes: &[(&str, &str)]) -> Function {
        Function {
            binary: binary.to_owned(),
            routes: routes
                .iter()
                .map(|(m, p)| (Method::from_bytes(m.as_bytes()).unwrap(), segments(p)))
                .collect(),
            credentials: Credentials::new("k", "s", None, None, "test"),
        }
    }

    #[test]
    fn a_request_goes_to_the_most_specific_route_of_its_method() {
        let list = function("list", &[("GET", "/v1/accounts/{id}"), ("GET", "/v1/classes")]);
        let distributions = function(
            "distributions",
            &[
                ("GET", "/v1/accounts/{id}/credentials"),
                ("GET", "/v1/classes/{name}/follow-up"),
            ],
        );
        let reset = function("reset", &[("POST", "/v1/accounts/reset-password")]);
        let path = |p: &'static str| p.trim_matches('/').split('/').collect::<Vec<_>>();
        assert_eq!(list.matches(&Method::GET, &path("/v1/accounts/acc_1")), Some(2));
        assert_eq!(list.matches(&Method::POST, &path("/v1/accounts/acc_1")), None);
        assert_eq!(
            list.matches(&Method::GET, &path("/v1/accounts/acc_1/credentials")),
            None
        );
        assert_eq!(
            distributions.matches(&Method::GET, &path("/v1/classes/5e%20A/follow-up")),
            Some(3)
        );
        assert_eq!(
            reset.matches(&Method::POST, &path("/v1/accounts/reset-password")),
            Some(3)
        );
        assert_eq!(list.matches(&Method::GET, &path("/v1/classes")), Some(2));
    }
}
