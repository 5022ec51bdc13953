//! Rosters imported through an upload link (SPEC §4, imports): the same steps on
//! the edge and in the cloud, so that both can be compared.

use serde_json::{Value, json};

/// A CSV roster of `pupils` students in four classes, each with a parent who
/// names them, some rows refused (a missing last name every 97th row).
pub fn roster(pupils: usize) -> String {
    let mut csv = String::from("external_id,profile,first_name,last_name,classes,email,children\n");
    for i in 0..pupils {
        let last = if i % 97 == 13 {
            String::new()
        } else {
            format!("Nom{i}")
        };
        csv.push_str(&format!(
            "S{i},student,Élève{i},{last},6e-{},eleve{i}@example.org,\n",
            i % 4 + 1
        ));
        csv.push_str(&format!(
            "P{i},parent,Parent{i},Nom{i},,parent{i}@example.org,S{i}\n"
        ));
    }
    csv
}

/// Asks `base` for an upload link and puts `bytes` there; answers the upload id.
pub async fn upload(client: &reqwest::Client, base: &str, token: &str, bytes: Vec<u8>) -> String {
    let response = client
        .post(format!("{base}/v1/imports/uploads"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let link: Value = response.json().await.unwrap();
    assert_eq!(link["method"], "PUT");
    let put = client
        .put(link["url"].as_str().unwrap())
        .body(bytes)
        .send()
        .await
        .unwrap();
    assert!(put.status().is_success(), "the upload: {}", put.status());
    link["upload_id"].as_str().unwrap().to_owned()
}

/// Starts the import of `upload_id`; answers the status and body.
pub async fn start(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    upload_id: &str,
    dry_run: bool,
) -> (u16, Value) {
    let response = client
        .post(format!("{base}/v1/imports/jobs"))
        .bearer_auth(token)
        .json(&json!({"upload_id": upload_id, "dry_run": dry_run}))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The import job `id` as the API shows it.
pub async fn job(client: &reqwest::Client, base: &str, token: &str, id: &str) -> Value {
    let response = client
        .get(format!("{base}/v1/imports/jobs/{id}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    response.json().await.unwrap()
}

/// Waits (at most a minute) until import `id` is done or failed.
pub async fn finished(client: &reqwest::Client, base: &str, token: &str, id: &str) -> Value {
    for _ in 0..600 {
        let job = job(client, base, token, id).await;
        if job["status"] == "done" || job["status"] == "failed" {
            return job;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("import {id} did not finish within a minute")
}
