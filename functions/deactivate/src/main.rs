//! Lambda function `sesame-deactivate`: POST /v1/accounts/deactivate.

use sesame::http::Group;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    sesame::lambda::run(&[Group::Deactivate]).await
}
