//! Lambda function `sesame-auth`: POST /v1/auth/login, POST /v1/auth/change-password.

use sesame::http::Group;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    sesame::lambda::run(&[Group::SelfService]).await
}
