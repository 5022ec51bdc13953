//! The cloud functions read their data key at cold start from an SSM Parameter
//! Store SecureString (SPEC §3, issue "Trust"), on the emulator that
//! `AWS_ENDPOINT_URL` names.

use aws_sdk_ssm::types::ParameterType;
use sesame::config::data_key_from_ssm;

async fn sdk() -> aws_config::SdkConfig {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap_or_default();
    assert!(
        !endpoint.trim().is_empty(),
        "AWS_ENDPOINT_URL must name an emulator (scripts/moto.sh)"
    );
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}

#[tokio::test]
async fn the_data_key_is_read_decrypted_from_a_securestring_parameter() {
    let sdk = sdk().await;
    let name = format!("/sesame/test/{}/data-key", uuid::Uuid::new_v4().simple());
    let key = "k".repeat(48);
    aws_sdk_ssm::Client::new(&sdk)
        .put_parameter()
        .name(&name)
        .value(&key)
        .r#type(ParameterType::SecureString)
        .send()
        .await
        .expect("the parameter is stored");

    let read = data_key_from_ssm(&sdk, &name).await.expect("the key is read");

    assert_eq!(read, key);
}

#[tokio::test]
async fn a_missing_parameter_fails_the_cold_start_with_its_name() {
    let sdk = sdk().await;

    let error = data_key_from_ssm(&sdk, "/sesame/test/none")
        .await
        .expect_err("no parameter");

    assert!(format!("{error:#}").contains("/sesame/test/none"), "{error:#}");
}
