//! Lambda function `sesame-mail-events`: applies the SES delivery events that the
//! configuration set publishes (through SNS and SQS) to the accounts' mail state.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    sesame::lambda::run_mail_events().await
}
