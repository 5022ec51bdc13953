//! Lambda function `sesame-auth`: self-service (`/v1/auth/*`) and the pages
//! `/reset/{token}` and `/activate`; no bearer token.

use sesame::http::Group;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    sesame::lambda::run(&[Group::SelfService]).await
}
