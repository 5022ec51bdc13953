//! Lambda function `sesame-sweep`: deletes credential files older than a day, on a schedule.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    sesame::lambda::run_sweep().await
}
