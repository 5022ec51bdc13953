//! Lambda function `sesame-settings`: GET and PUT /v1/settings.

use sesame::http::Group;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    sesame::lambda::run(&[Group::Settings]).await
}
