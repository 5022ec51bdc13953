//! Lambda function `sesame-mail`: POST /v1/accounts/send-activation.

use sesame::http::Group;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    sesame::lambda::run(&[Group::Mail]).await
}
