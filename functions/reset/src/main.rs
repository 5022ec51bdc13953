//! Lambda function `sesame-reset`: POST /v1/accounts/reset-password, PUT /v1/accounts/{id}/password.

use sesame::http::Group;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    sesame::lambda::run(&[Group::Reset]).await
}
