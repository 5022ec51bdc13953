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
/// A school office's desktop screen.
pub const DESKTOP: (u32, u32) = (1280, 900);

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

async fn start(screen: (u32, u32)) -> (Driver, Client) {
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
    let window_size = format!("--window-size={},{}", screen.0, screen.1);
    let args = [
        &window_size,
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
    let (width, height) = screen;
    let mut options = json!({
        "binary": chromium,
        "args": args,
        // A French school's phone: French first, as the pages' default.
        "prefs": {"intl.accept_languages": "fr-FR,fr"},
    });
    if screen == PHONE {
        options["mobileEmulation"] = json!({"deviceMetrics": {"width": width, "height": height, "pixelRatio": 2.0, "mobile": true, "touch": true}});
    }
    let mut capabilities = Capabilities::new();
    capabilities.insert("browserName".into(), json!("chrome"));
    capabilities.insert("goog:chromeOptions".into(), options);
    // The page's console, read back by `console_errors`.
    capabilities.insert("goog:loggingPrefs".into(), json!({"browser": "ALL"}));
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
    with_browser_on(PHONE, scenario).await;
}

/// Runs `scenario` in a fresh browser whose viewport is `screen` wide and high;
/// answers what the scenario answers.
pub async fn with_browser_on<F, Fut, T>(screen: (u32, u32), scenario: F) -> T
where
    F: FnOnce(Client) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let _turn = TURN.lock().await;
    let (driver, client) = start(screen).await;
    let outcome = tokio::spawn(scenario(client.clone())).await;
    let _ = client.close().await;
    drop(driver);
    match outcome {
        Ok(value) => value,
        Err(e) => match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(e) => panic!("the scenario did not finish: {e}"),
        },
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
    fits(browser, PHONE.0).await;
}

/// The page is laid out for a viewport `width` wide: nothing wider.
pub async fn fits(browser: &Client, width: u32) {
    let sizes = browser
        .execute(
            "return [document.documentElement.scrollWidth, window.innerWidth];",
            vec![],
        )
        .await
        .unwrap();
    let (scroll, inner) = (sizes[0].as_u64().unwrap(), sizes[1].as_u64().unwrap());
    assert_eq!(inner, u64::from(width), "the viewport is in force");
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

/// The legacy log endpoint chromedriver keeps: the page's console since last read.
#[derive(Debug)]
struct BrowserLog;

impl fantoccini::wd::WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(&self, base: &url::Url, session: Option<&str>) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/se/log", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(r#"{"type":"browser"}"#.to_owned()))
    }
}

/// The errors the page's console shows (CSP refusals, script errors, failed loads).
pub async fn console_errors(browser: &Client) -> Vec<String> {
    let log = browser.issue_cmd(BrowserLog).await.expect("the browser's log");
    log.as_array()
        .into_iter()
        .flatten()
        .filter(|entry| entry["level"] == "SEVERE")
        .map(|entry| entry["message"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// The page and what it loaded answered below 400, and its console shows no error.
pub async fn loads_cleanly(browser: &Client) {
    let failed = browser
        .execute(
            "return performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))\
             .filter(e => e.responseStatus >= 400).map(e => e.name + ' ' + e.responseStatus);",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(failed, json!([]), "failed requests");
    let errors = console_errors(browser).await;
    assert!(errors.is_empty(), "console errors: {errors:?}");
}
