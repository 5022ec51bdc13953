//! Lambda function `sesame-imports`: POST /v1/imports (rosters in CSV or XLSX), and
//! the upload links and background jobs of larger rosters (`/v1/imports/uploads`,
//! `/v1/imports/jobs`; the export worker runs the jobs).

use sesame::http::Group;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    sesame::lambda::run(&[Group::Imports]).await
}
