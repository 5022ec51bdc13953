//! A headless Chromium behind a chromedriver this test starts itself, on a free
//! port, with a throw-away profile and a phone-sized screen. Missing chromium or
//! chromedriver fails the test: scripts/test.sh installs them.

use fantoccini::wd::Capabilities;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use std::future::Future;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The screen of a common phone, in CSS pixels.
pub const PHONE: (u32, u32) = (390, 844);

/// One browser at a time: two Chromiums on a small machine only slow each other.
static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

struct Driver {
    process: Child,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

fn on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().unwrap().port()
}

async fn start() -> (Driver, Client) {
    let chromium = on_path(&["chromium", "chromium-browser", "google-chrome"])
        .expect("chromium is not installed (apt-get install chromium chromium-driver; scripts/test.sh does)");
    let chromedriver = on_path(&["chromedriver"])
        .expect("chromedriver is not installed (apt-get install chromium-driver; scripts/test.sh does)");
    let profile = tempfile::tempdir().unwrap();
    let port = free_port();
    let process = Command::new(chromedriver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let driver = Driver {
        process,
        _profile: profile,
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "chromedriver did not listen on port {port}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let user_data_dir = format!("--user-data-dir={}", driver._profile.path().display());
    let args = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--lang=fr-FR",
        &user_data_dir,
    ];
    let (width, height) = PHONE;
    let options = json!({
        "binary": chromium,
        "args": args,
        // A French school's phone: French first, as the pages' default.
        "prefs": {"intl.accept_languages": "fr-FR,fr"},
        "mobileEmulation": {"deviceMetrics": {"width": width, "height": height, "pixelRatio": 2.0, "mobile": true, "touch": true}},
    });
    let mut capabilities = Capabilities::new();
    capabilities.insert("browserName".into(), json!("chrome"));
    capabilities.insert("goog:chromeOptions".into(), options);
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let client = ClientBuilder::new(connector)
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("chromedriver opens a Chromium session");
    (driver, client)
}

/// Runs `scenario` in a fresh browser, and closes the browser whatever happens.
pub async fn with_browser<F, Fut>(scenario: F)
where
    F: FnOnce(Client) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let _turn = TURN.lock().await;
    let (driver, client) = start().await;
    let outcome = tokio::spawn(scenario(client.clone())).await;
    let _ = client.close().await;
    drop(driver);
    if let Err(e) = outcome {
        match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(e) => panic!("the scenario did not finish: {e}"),
        }
    }
}

/// The text of the page's `h1`, once it reads `expected` (pages load after a submit).
pub async fn wait_for_heading(browser: &Client, expected: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut seen = String::new();
    while Instant::now() < deadline {
        if let Ok(h1) = browser.find(Locator::Css("h1")).await {
            seen = h1.text().await.unwrap_or_default();
            if seen == expected {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the page says {seen:?}, not {expected:?}");
}

/// Types `text` into the field whose id is `id`, as a person would.
pub async fn type_into(browser: &Client, id: &str, text: &str) {
    let field = browser.find(Locator::Id(id)).await.expect(id);
    field.send_keys(text).await.expect(id);
}

pub async fn submit(browser: &Client) {
    let button = browser
        .find(Locator::Css("button[type=submit]"))
        .await
        .expect("a submit button");
    assert!(button.is_displayed().await.unwrap());
    button.click().await.expect("the button can be clicked");
}

/// The page is laid out for the phone: nothing wider than the screen.
pub async fn fits_the_screen(browser: &Client) {
    let sizes = browser
        .execute(
            "return [document.documentElement.scrollWidth, window.innerWidth];",
            vec![],
        )
        .await
        .unwrap();
    let (scroll, inner) = (sizes[0].as_u64().unwrap(), sizes[1].as_u64().unwrap());
    assert_eq!(inner, u64::from(PHONE.0), "the phone's viewport is in force");
    assert!(
        scroll <= inner,
        "the page is {scroll} px wide on a {inner} px screen"
    );
}

/// Saves a screenshot under the target's temporary folder; answers its path.
pub async fn screenshot(browser: &Client, name: &str) -> PathBuf {
    let png = browser.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, png).unwrap();
    eprintln!("screenshot: {}", path.display());
    path
}
