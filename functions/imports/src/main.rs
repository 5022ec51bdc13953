//! Lambda function `sesame-imports`: POST /v1/imports (rosters in CSV or XLSX).

use sesame::http::Group;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    sesame::lambda::run(&[Group::Imports]).await
}
