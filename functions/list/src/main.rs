//! Lambda function `sesame-list`: GET /v1/classes, GET /v1/accounts, GET /v1/accounts/{id}.

use sesame::http::Group;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    sesame::lambda::run(&[Group::List]).await
}
