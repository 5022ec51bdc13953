//! Configuration of the edge server: the data folder, its keys, logging.

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use clap::{Args, ValueEnum};
use rand::RngCore;
use sesame::adapters::disk::DiskFiles;
use sesame::adapters::outbox::Outbox;
use sesame::adapters::ses_api::SesApi;
use sesame::adapters::smtp::SmtpMailer;
use sesame::adapters::sqlite::SqliteStore;
use sesame::app::{Adapters, App, AppConfig, Files, Jobs};
use sesame::ports::SystemClock;
use sesame::token::TokenKey;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Clone, Copy, ValueEnum)]
pub enum Backend {
    Sqlite,
    Aws,
}

/// Where mail goes.
#[derive(Clone, Copy, ValueEnum)]
pub enum MailBy {
    /// `.eml` files in `<data-dir>/outbox/`, sent by nobody.
    Outbox,
    /// The SMTP server of `SESAME_SMTP_URL`.
    Smtp,
    /// Amazon SES (v2 `SendEmail`; v1 `SendRawEmail` with `--ses-api v1`) from the
    /// standard AWS environment (`AWS_ENDPOINT_URL` included); needs a build with `--features aws`.
    Ses,
}

/// The sender of the outbox when none is configured: a reserved domain, since
/// nothing leaves the machine.
const OUTBOX_SENDER: &str = "no-reply@sesame.invalid";

/// Where the AWS backend keeps its data (from the standard AWS environment).
#[derive(Args, Clone)]
pub struct AwsArgs {
    /// The DynamoDB table.
    #[arg(long, env = "SESAME_TABLE")]
    pub table: Option<String>,
}

#[derive(Args, Clone)]
pub struct Paths {
    /// Where the database, keys and files live.
    #[arg(long, env = "SESAME_DATA_DIR", default_value = "./sesame-data")]
    pub data_dir: PathBuf,
    /// The address to serve on.
    #[arg(long, env = "SESAME_BIND", default_value = "127.0.0.1:8080")]
    pub bind: std::net::SocketAddr,
    /// The public base URL of this server, where links in mail and files point
    /// (default: `https://` with a certificate, else `http://`, and the address
    /// served on). Behind a TLS proxy: the proxy's address, e.g. `https://sesame.example.org`.
    #[arg(long, env = "SESAME_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Where mail goes (default: `smtp` when an SMTP URL is set, else `outbox`).
    #[arg(long, env = "SESAME_MAIL", value_enum)]
    pub mail: Option<MailBy>,
    /// The SMTP server: `smtp://host:25`, `smtp://user:password@host:587?tls=required`
    /// (STARTTLS) or `smtps://user:password@host`.
    #[arg(long, env = "SESAME_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// With --mail ses: `v1` sends by SES v1 `SendRawEmail` (LocalStack's community
    /// edition has no SES v2); `v2` (the default) by SES v2.
    #[arg(long, env = "SESAME_SES_API", value_parser = ses_api, default_value = "v2")]
    pub ses_api: SesApi,
    /// The sender of mail for schools whose settings name none (required with SMTP
    /// unless every school sets its own).
    #[arg(long, env = "SESAME_SENDER")]
    pub sender: Option<String>,
    /// Proxies in front of this server (their addresses, comma-separated) whose
    /// `X-Forwarded-For` names the client: wrong reset links are limited per client.
    #[arg(long, env = "SESAME_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxy: Vec<std::net::IpAddr>,
    #[command(flatten)]
    pub tls: Tls,
}

/// HTTPS served by `sesame` itself: a certificate chain and its private key, in PEM.
#[derive(Args, Clone)]
#[command(next_help_heading = "HTTPS")]
pub struct Tls {
    /// The server's certificate chain (PEM, the server's certificate first): with
    /// --tls-key, `sesame serve` speaks HTTPS instead of plain HTTP.
    #[arg(long, env = "SESAME_TLS_CERT", value_name = "PATH")]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(long, env = "SESAME_TLS_KEY", value_name = "PATH")]
    pub tls_key: Option<PathBuf>,
}

impl Tls {
    /// Whether HTTPS is asked for (`serve` refuses half of it: see [`Tls::files`]).
    pub fn on(&self) -> bool {
        self.tls_cert.is_some() || self.tls_key.is_some()
    }

    /// The certificate and key files, both or neither.
    pub fn files(&self) -> anyhow::Result<Option<(&Path, &Path)>> {
        match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Ok(Some((cert, key))),
            (None, None) => Ok(None),
            (Some(_), None) => anyhow::bail!(
                "--tls-cert needs --tls-key (or SESAME_TLS_KEY): the certificate's private key, in PEM"
            ),
            (None, Some(_)) => anyhow::bail!(
                "--tls-key needs --tls-cert (or SESAME_TLS_CERT): the certificate chain, in PEM"
            ),
        }
    }
}

impl Paths {
    /// The data folder, private to the service's user: created 0700, and what it
    /// holds already (database, WAL, keys, outbox, credential files) tightened to
    /// 0700 folders and 0600 files (SPEC §3).
    pub fn data_dir(&self) -> anyhow::Result<&Path> {
        self.dir()
    }

    fn dir(&self) -> anyhow::Result<&Path> {
        // Once per process: the walk over what the folder holds is not repeated
        // for each key and port read at start.
        static PREPARED: std::sync::Mutex<Option<PathBuf>> = std::sync::Mutex::new(None);
        let mut prepared = PREPARED.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if prepared.as_deref() != Some(self.data_dir.as_path()) {
            crate::private::restrict_new_files();
            std::fs::create_dir_all(&self.data_dir)
                .with_context(|| format!("creating {}", self.data_dir.display()))?;
            crate::private::tighten(&self.data_dir)
                .with_context(|| format!("making {} private", self.data_dir.display()))?;
            *prepared = Some(self.data_dir.clone());
        }
        Ok(&self.data_dir)
    }

    /// A secret from the environment variable `var`, or else from `file` in the data
    /// folder, generated there once (readable by its owner only).
    fn secret(&self, var: &str, file: &str) -> anyhow::Result<Vec<u8>> {
        if let Ok(value) = std::env::var(var) {
            anyhow::ensure!(value.len() >= 32, "{var} must be at least 32 characters");
            return Ok(value.into_bytes());
        }
        let path = self.dir()?.join(file);
        if let Ok(text) = std::fs::read_to_string(&path) {
            let key = B64
                .decode(text.trim())
                .with_context(|| format!("{} is not base64", path.display()))?;
            anyhow::ensure!(
                key.len() >= 32,
                "the key file {} is empty or too short ({} bytes, 32 needed): restore it from a \
                 backup, or delete it to generate a new key (tokens or sealed data made with \
                 the old one stop working)",
                path.display(),
                key.len()
            );
            return Ok(key);
        }
        let mut key = vec![0u8; 32];
        rand::rng().fill_bytes(&mut key);
        write_private(&path, B64.encode(&key).as_bytes())?;
        Ok(key)
    }

    pub fn token_key(&self) -> anyhow::Result<TokenKey> {
        Ok(TokenKey::new(&self.secret("SESAME_JWT_KEY", "jwt.key")?))
    }

    /// The app on the SQLite database of the data folder.
    pub async fn app(&self) -> anyhow::Result<App> {
        let store =
            Arc::new(SqliteStore::open(&self.dir()?.join("sesame.db")).context("opening the database")?);
        // The edge on its own SQLite file answers every sign-in and unlock of it.
        let app = self.app_on(store.clone(), self.mailer(self.dir()?).await?, true)?;
        // Exports a crash or a restart interrupted end one way or the other now.
        for job in store.unfinished_exports().await? {
            let id = job.id.clone();
            if let Err(e) = app.sesame().recover_export(job).await {
                tracing::error!(export = id, error = %e, "an interrupted export could not be recovered");
            }
        }
        // Send-activations it interrupted resume where their results end.
        for run in store.unfinished_distributions().await? {
            if let Err(e) = app.sesame().jobs.enqueue(&run.school, &run.id).await {
                tracing::error!(distribution = run.id, error = %e, "an interrupted send-activation could not resume");
            }
        }
        // Imports it interrupted run again, or end, as far as they had come.
        for job in store.unfinished_imports().await? {
            if let Err(e) = app.sesame().jobs.enqueue(&job.school, &job.id).await {
                tracing::error!(import = job.id, error = %e, "an interrupted import could not resume");
            }
        }
        Ok(app)
    }

    /// The app on `backend`.
    pub async fn app_for(&self, backend: Backend, aws: &AwsArgs) -> anyhow::Result<App> {
        match backend {
            Backend::Sqlite => self.app().await,
            #[cfg(feature = "aws")]
            Backend::Aws => {
                let table = aws
                    .table
                    .as_deref()
                    .context("--backend aws needs SESAME_TABLE (or --table)")?;
                let mailer = self.mailer(self.dir()?).await?;
                // The cloud's functions may answer sign-ins and unlocks on the same table.
                self.app_on(Arc::new(crate::aws::store(table).await?), mailer, false)
            }
            #[cfg(not(feature = "aws"))]
            Backend::Aws => {
                let _ = aws;
                anyhow::bail!("this sesame was built without AWS support: build it with `--features aws`")
            }
        }
    }

    /// The configuration of this edge: keys from the environment or the data folder;
    /// `alone` when no other process shares its store (see `AppConfig::alone`).
    pub fn app_config(&self, alone: bool) -> anyhow::Result<AppConfig> {
        Ok(AppConfig {
            data_key: self.secret("SESAME_DATA_KEY", "data.key")?,
            token_key: Some(self.token_key()?),
            public_url: self.public_url(),
            sender: self.sender()?,
            // The edge's SMTP server (or SES account) decides what it sends.
            mail_identity: None,
            console: true,
            trusted_proxies: self.trusted_proxy.clone(),
            alone,
        })
    }

    fn app_on(
        &self,
        store: Arc<dyn sesame::ports::Store>,
        mailer: Arc<dyn sesame::ports::Mailer>,
        alone: bool,
    ) -> anyhow::Result<App> {
        let adapters = Adapters {
            store,
            clock: Arc::new(SystemClock),
            mailer,
            files: Files::Served(self.files()?),
            // Exports are built, and old files swept, by a background task.
            jobs: Jobs::InProcess,
        };
        App::build(self.app_config(alone)?, adapters)
    }

    /// Where mail goes, the option's default resolved.
    fn mail_by(&self) -> MailBy {
        match (self.mail, &self.smtp_url) {
            (Some(by), _) => by,
            (None, Some(_)) => MailBy::Smtp,
            (None, None) => MailBy::Outbox,
        }
    }

    /// Whether mail leaves the machine (no placeholder sender then).
    fn smtp(&self) -> bool {
        !matches!(self.mail_by(), MailBy::Outbox)
    }

    /// The SMTP server, Amazon SES, or the outbox of the data folder.
    async fn mailer(&self, dir: &Path) -> anyhow::Result<Arc<dyn sesame::ports::Mailer>> {
        match self.mail_by() {
            MailBy::Outbox => return Ok(Arc::new(Outbox::new(dir.join("outbox"))?)),
            MailBy::Ses => return ses_mailer(self.ses_api).await,
            MailBy::Smtp => {}
        }
        let url = self
            .smtp_url
            .as_deref()
            .context("--mail smtp needs SESAME_SMTP_URL (or --smtp-url)")?;
        Ok(Arc::new(SmtpMailer::new(url)?))
    }

    /// `--sender`; for the outbox, a placeholder when none is given.
    fn sender(&self) -> anyhow::Result<Option<sesame::domain::Email>> {
        match (&self.sender, self.smtp()) {
            (Some(raw), _) => Ok(Some(
                sesame::domain::Email::parse(raw).context("SESAME_SENDER must be an e-mail address")?,
            )),
            (None, true) => Ok(None),
            (None, false) => Ok(Some(sesame::domain::Email::parse(OUTBOX_SENDER)?)),
        }
    }

    /// Where links point: `--public-url`, or the address served on (over HTTPS when
    /// a certificate is given).
    pub fn public_url(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("{}://{}", self.scheme(), self.bind))
    }

    /// `https` when `sesame` serves HTTPS itself, else `http`.
    pub fn scheme(&self) -> &'static str {
        if self.tls.on() { "https" } else { "http" }
    }

    /// The credential files of the data folder, behind links signed with a key of
    /// their own.
    fn files(&self) -> anyhow::Result<Arc<DiskFiles>> {
        let key = self.secret("SESAME_FILES_KEY", "files.key")?;
        Ok(Arc::new(DiskFiles::new(
            self.dir()?.join("files"),
            &key,
            &self.public_url(),
        )?))
    }
}

/// Writes `content` to `path` whole or not at all (a temporary file renamed into
/// place), readable by its owner only: a crash never leaves an empty key behind.
fn write_private(path: &Path, content: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let temporary = path.with_extension("partial");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(&temporary)
        .with_context(|| format!("creating {}", temporary.display()))?;
    file.write_all(content)?;
    file.sync_all()?;
    std::fs::rename(&temporary, path).with_context(|| format!("creating {}", path.display()))?;
    Ok(())
}

/// `30m`, `8h`, `2d`.
pub fn parse_ttl(raw: &str) -> Result<chrono::Duration, String> {
    let (number, unit) = raw.split_at(raw.len().saturating_sub(1));
    let n: i64 = number
        .parse()
        .map_err(|_| format!("{raw:?} is not like 30m, 8h or 2d"))?;
    match unit {
        "m" => Ok(chrono::Duration::minutes(n)),
        "h" => Ok(chrono::Duration::hours(n)),
        "d" => Ok(chrono::Duration::days(n)),
        _ => Err(format!("{raw:?} is not like 30m, 8h or 2d")),
    }
}

#[cfg(feature = "aws")]
async fn ses_mailer(api: SesApi) -> anyhow::Result<Arc<dyn sesame::ports::Mailer>> {
    let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let configuration_set = std::env::var("SESAME_SES_CONFIGURATION_SET")
        .ok()
        .filter(|s| !s.trim().is_empty());
    Ok(sesame::adapters::ses::mailer(&config, api, configuration_set))
}

#[cfg(not(feature = "aws"))]
async fn ses_mailer(_: SesApi) -> anyhow::Result<Arc<dyn sesame::ports::Mailer>> {
    anyhow::bail!("--mail ses needs a sesame built with `--features aws`")
}

/// Logs to stderr: text by default, JSON with `SESAME_LOG_FORMAT=json`; level from
/// `SESAME_LOG` (default `info`); colour codes only when stderr is a terminal.
pub fn init_logging() {
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("SESAME_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    if std::env::var("SESAME_LOG_FORMAT").is_ok_and(|f| f == "json") {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// `--ses-api` / `SESAME_SES_API`: `v1` or `v2` (empty means v2).
fn ses_api(raw: &str) -> Result<SesApi, sesame::adapters::ses_api::UnknownSesApi> {
    SesApi::parse(Some(raw))
}
