//! Lambda function `sesame-export-worker`: builds the exports that the table's stream announces.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    sesame::lambda::run_export_worker().await
}
