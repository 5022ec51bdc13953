//! Lambda function `sesame-exports`: POST /v1/exports, GET and DELETE /v1/exports/{id}.

use sesame::http::Group;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    sesame::lambda::run(&[Group::Exports]).await
}
