//! Lambda function `sesame-auth`: self-service (`/v1/auth/*`), the pages
//! `/reset/{token}` and `/activate` with its script, and `/healthz` and
//! `/openapi.json`; no bearer token.

use sesame::http::Group;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    sesame::lambda::run(&[Group::SelfService, Group::System]).await
}
