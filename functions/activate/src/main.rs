//! Lambda function `sesame-activate`: POST /v1/accounts/activate.

use sesame::http::Group;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    sesame::lambda::run(&[Group::Activate]).await
}
