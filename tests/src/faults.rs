//! Faults between Sésame and the emulator, as an SDK interceptor on one service's
//! client (DynamoDB, SES v2 or S3): a request may be throttled or fail with a 5xx
//! before it reaches the service, or (DynamoDB) be applied and have its answer lost
//! (a time-out after the commit). The SDK retries each of them as it would in AWS;
//! the store must tell its own earlier success from a conflict.

use aws_sdk_dynamodb::config::interceptors::{
    BeforeDeserializationInterceptorContextMut, BeforeTransmitInterceptorContextMut,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::{Storable, StoreReplace};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// How often each fault strikes a request, from 0 to 1.
#[derive(Debug, Clone, Copy, Default)]
pub struct Rates {
    /// Refused before the table: `ProvisionedThroughputExceededException` (400).
    pub throttled: f64,
    /// Refused before the table: `InternalServerError` (500).
    pub failed: f64,
    /// Applied by the table, then its answer replaced by a 500.
    pub lost: f64,
    /// A `TransactWriteItems` cancelled before the table (`TransactionCanceledException`,
    /// 400), its reason `ThrottlingError` or `TransactionConflict` (one in two each):
    /// nothing written, and not retried by the SDK.
    pub cancelled: f64,
}

/// What each fault did, counted.
#[derive(Debug, Default)]
pub struct Struck {
    pub requests: AtomicU64,
    pub throttled: AtomicU64,
    pub failed: AtomicU64,
    pub lost: AtomicU64,
    pub cancelled: AtomicU64,
}

impl Struck {
    pub fn summary(&self) -> String {
        format!(
            "{} requests: {} throttled, {} failed, {} lost after commit, {} transactions cancelled",
            self.requests.load(Ordering::Relaxed),
            self.throttled.load(Ordering::Relaxed),
            self.failed.load(Ordering::Relaxed),
            self.lost.load(Ordering::Relaxed),
            self.cancelled.load(Ordering::Relaxed)
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Fate {
    Pass,
    Throttled,
    Failed,
    Lost,
    /// Cancelled, for this reason.
    Cancelled(&'static str),
}

impl Storable for Fate {
    type Storer = StoreReplace<Self>;
}

/// The service a fault layer stands in front of: how it says "slow down" and "failed".
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub enum Service {
    #[default]
    DynamoDb,
    SesV2,
    S3,
}

impl Service {
    /// The status, headers and body the service answers for a fault.
    fn answer(self, fate: Fate) -> (u16, Vec<(&'static str, &'static str)>, String) {
        let throttled = fate == Fate::Throttled;
        match self {
            Self::DynamoDb if matches!(fate, Fate::Cancelled(_)) => {
                let Fate::Cancelled(reason) = fate else {
                    unreachable!()
                };
                let body = format!(
                    r#"{{"__type":"com.amazonaws.dynamodb.v20120810#TransactionCanceledException","message":"Transaction cancelled, please refer cancellation reasons for specific reasons [{reason}]","CancellationReasons":[{{"Code":"{reason}","Message":"injected"}}]}}"#
                );
                (400, vec![("content-type", "application/x-amz-json-1.0")], body)
            }
            Self::DynamoDb => {
                let (status, kind) = if throttled {
                    (400, "ProvisionedThroughputExceededException")
                } else {
                    (500, "InternalServerError")
                };
                let body =
                    format!(r#"{{"__type":"com.amazonaws.dynamodb.v20120810#{kind}","message":"injected"}}"#);
                (status, vec![("content-type", "application/x-amz-json-1.0")], body)
            }
            Self::SesV2 => {
                let (status, kind) = if throttled {
                    (429, "TooManyRequestsException")
                } else {
                    (500, "InternalFailure")
                };
                let body = r#"{"message":"injected"}"#.to_owned();
                (
                    status,
                    vec![("x-amzn-errortype", kind), ("content-type", "application/json")],
                    body,
                )
            }
            Self::S3 => {
                let (status, code) = if throttled {
                    (503, "SlowDown")
                } else {
                    (500, "InternalError")
                };
                let body = format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>injected</Message></Error>"
                );
                (status, vec![("content-type", "application/xml")], body)
            }
        }
    }
}

/// The fault layer: no fault until armed.
#[derive(Debug, Default)]
pub struct Faults {
    rates: std::sync::Mutex<Rates>,
    service: Service,
    pub struck: Struck,
}

impl Faults {
    /// A fault layer in front of `service` (`Faults::default()` is DynamoDB's).
    pub fn before(service: Service) -> Self {
        Self {
            service,
            ..Self::default()
        }
    }

    /// From now on, faults strike at `rates`.
    pub fn arm(&self, rates: Rates) {
        *self.rates.lock().unwrap() = rates;
    }

    pub fn disarm(&self) {
        self.arm(Rates::default());
    }
}

/// [`Faults`] shared between the test and the SDK client it is plugged into.
#[derive(Debug, Clone)]
pub struct Shared(pub Arc<Faults>);

/// A number from 0 to 1, spread evenly (no seed to keep: the rates are what count).
fn roll() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos() as u64,
    );
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

impl Intercept for Shared {
    fn name(&self) -> &'static str {
        "faults"
    }

    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let faults = &self.0;
        faults.struck.requests.fetch_add(1, Ordering::Relaxed);
        let Rates {
            throttled,
            failed,
            lost,
            cancelled,
        } = *faults.rates.lock().unwrap();
        let transaction = context
            .request()
            .headers()
            .get("x-amz-target")
            .is_some_and(|target| target.ends_with(".TransactWriteItems"));
        let roll = roll();
        let fate = if transaction && roll < cancelled {
            Fate::Cancelled(if roll < cancelled / 2.0 {
                "ThrottlingError"
            } else {
                "TransactionConflict"
            })
        } else if roll < throttled {
            Fate::Throttled
        } else if roll < throttled + failed {
            Fate::Failed
        } else if roll < throttled + failed + lost {
            Fate::Lost
        } else {
            Fate::Pass
        };
        if fate == Fate::Lost && faults.service != Service::DynamoDb {
            return Err("answers lost after the commit are injected on DynamoDB only".into());
        }
        if matches!(fate, Fate::Throttled | Fate::Failed | Fate::Cancelled(_)) {
            // Never reaches the service: a GET of a path it has nothing at.
            let request = context.request_mut();
            let uri = request.uri().to_owned();
            let origin = uri.splitn(4, '/').take(3).collect::<Vec<_>>().join("/");
            *request = aws_smithy_runtime_api::http::Request::get(format!("{origin}/sesame-fault-injected"))?;
        }
        cfg.interceptor_state().store_put(fate);
        Ok(())
    }

    fn modify_before_deserialization(
        &self,
        context: &mut BeforeDeserializationInterceptorContextMut<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let (fate, counter) = match cfg.load::<Fate>() {
            Some(Fate::Throttled) => (Fate::Throttled, &self.0.struck.throttled),
            Some(Fate::Failed) => (Fate::Failed, &self.0.struck.failed),
            Some(Fate::Lost) => (Fate::Lost, &self.0.struck.lost),
            Some(Fate::Cancelled(reason)) => (Fate::Cancelled(reason), &self.0.struck.cancelled),
            _ => return Ok(()),
        };
        counter.fetch_add(1, Ordering::Relaxed);
        let (status, headers, body) = self.0.service.answer(fate);
        let response = context.response_mut();
        *response.status_mut() = status.try_into()?;
        response
            .headers_mut()
            .insert("content-length", body.len().to_string());
        response.headers_mut().remove("x-amz-crc32");
        for (name, value) in headers {
            response.headers_mut().insert(name, value);
        }
        *response.body_mut() = SdkBody::from(body);
        Ok(())
    }
}
