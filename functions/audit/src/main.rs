//! Lambda function `sesame-audit`: GET /v1/audit.

use sesame::http::Group;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    sesame::lambda::run(&[Group::Audit]).await
}
