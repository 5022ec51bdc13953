//! Lambda function `sesame-distributions`: `/v1/distributions*`,
//! `GET /v1/classes/{name}/follow-up`, `GET /v1/accounts/{id}/credentials` and
//! `POST /v1/accounts/unlock`.

use sesame::http::Group;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    sesame::lambda::run(&[Group::Distributions]).await
}
