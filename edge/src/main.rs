//! `sesame`: the edge deployment of Sésame in one binary (SPEC §10).

#[cfg(feature = "aws")]
mod aws;
mod config;
mod lock;
mod private;
mod tls;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use config::{AwsArgs, Backend, Paths};
use sesame::demo::{DEMO_STAFF_PASSWORD, DEMO_STUDENT_PASSWORD, ensure_demo_school};
use sesame::domain::{Role, School, SchoolId, Settings};
use sesame::http::Group;
use sesame::token::Claims;
use std::io::Write;

#[derive(Parser)]
#[command(
    name = "sesame",
    version,
    about = "Login accounts of a school: list, reset, activate, distribute."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API.
    Serve(ServeArgs),
    /// Create the demo school if absent, print tokens and commands to try, and serve.
    Demo(ServeArgs),
    /// Print a bearer token signed with the deployment's key.
    Token(TokenArgs),
    /// Create a school (idempotent).
    School(SchoolArgs),
    /// Clear `local_admin` from the students, parents and guests of a school that
    /// carry it (only teachers and staff may; older imports let it through):
    /// audited, and their console sessions end.
    ClearMisplacedAdmins(SchoolScope),
    /// Copy the live database to FILE, consistently, while the server runs.
    Backup(BackupArgs),
    /// Replace the database by the backup FILE (the server must be stopped).
    Restore(BackupArgs),
    /// AWS helpers.
    #[command(subcommand)]
    Aws(AwsCommand),
}

#[derive(Args)]
struct BackupArgs {
    /// The backup file (a SQLite database).
    file: std::path::PathBuf,
    /// Where the database, keys and files live.
    #[arg(long, env = "SESAME_DATA_DIR", default_value = "./sesame-data")]
    data_dir: std::path::PathBuf,
}

#[derive(Subcommand)]
enum AwsCommand {
    /// Create the table, the files bucket and the sender identity (idempotent).
    Bootstrap(BootstrapArgs),
}

#[derive(Args)]
struct BootstrapArgs {
    #[arg(long, env = "SESAME_TABLE")]
    table: String,
    #[arg(long, env = "SESAME_BUCKET")]
    bucket: Option<String>,
    #[arg(long, env = "SESAME_SENDER")]
    sender: Option<String>,
}

/// What `serve` and `demo` take: where the data is.
type ServeArgs = StoreArgs;

#[derive(Args)]
struct TokenArgs {
    #[arg(long)]
    school: String,
    #[arg(long, value_parser = ["admin", "secondary_admin", "teacher"])]
    role: String,
    #[arg(long)]
    sub: String,
    /// Classes of a teacher, comma-separated.
    #[arg(long, value_delimiter = ',')]
    classes: Vec<String>,
    /// Lifetime, e.g. `30m`, `8h`, `2d`.
    #[arg(long, default_value = "8h", value_parser = config::parse_ttl)]
    ttl: chrono::Duration,
    #[command(flatten)]
    paths: Paths,
}

#[derive(Args)]
struct SchoolArgs {
    #[arg(long)]
    id: String,
    #[arg(long)]
    name: String,
    /// Also create (or find) this administrator and print a temporary password to
    /// sign in with (again: a new one, to get back in).
    #[arg(long)]
    admin_login: Option<String>,
    /// The administrator's first name.
    #[arg(long, default_value = "Admin")]
    admin_first_name: String,
    /// The administrator's last name.
    #[arg(long, default_value = "Sésame")]
    admin_last_name: String,
    #[command(flatten)]
    store: StoreArgs,
}

/// Where a command finds the data: the data folder, and the store.
#[derive(Args, Clone)]
struct StoreArgs {
    #[command(flatten)]
    paths: Paths,
    #[arg(long, env = "SESAME_BACKEND", value_enum, default_value = "sqlite")]
    backend: Backend,
    #[command(flatten)]
    aws: AwsArgs,
}

impl StoreArgs {
    async fn app(&self) -> anyhow::Result<sesame::app::App> {
        self.paths.app_for(self.backend, &self.aws).await
    }
}

#[derive(Args)]
struct SchoolScope {
    /// The school.
    #[arg(long)]
    school: String,
    #[command(flatten)]
    store: StoreArgs,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    config::init_logging();
    match Cli::parse().command {
        Command::Serve(args) => serve(args, false).await,
        Command::Demo(args) => serve(args, true).await,
        Command::Token(args) => {
            let school = SchoolId::parse(&args.school).context("--school")?;
            Role::parse(&args.role).context("--role")?;
            let claims = Claims::issued(
                args.sub,
                school.to_string(),
                args.role,
                args.classes,
                chrono::Utc::now(),
                args.ttl,
            );
            println!("{}", args.paths.token_key()?.sign(&claims));
            Ok(())
        }
        Command::Aws(AwsCommand::Bootstrap(args)) => bootstrap(args).await,
        Command::Backup(args) => {
            sesame::adapters::sqlite::backup(&args.data_dir.join("sesame.db"), &args.file)?;
            println!(
                "backed up {} to {} (keep {}/jwt.key and data.key too: tokens and \
                 remembered responses need them)",
                args.data_dir.join("sesame.db").display(),
                args.file.display(),
                args.data_dir.display()
            );
            Ok(())
        }
        Command::Restore(args) => {
            private::restrict_new_files();
            std::fs::create_dir_all(&args.data_dir)?;
            let _lock = lock::DataLock::acquire(&args.data_dir)?;
            sesame::adapters::sqlite::restore(&args.file, &args.data_dir.join("sesame.db"))?;
            println!(
                "restored {} into {}",
                args.file.display(),
                args.data_dir.display()
            );
            Ok(())
        }
        Command::ClearMisplacedAdmins(args) => {
            let app = args.store.app().await?;
            let school = SchoolId::parse(&args.school).context("--school")?;
            let cleared = app.sesame().clear_misplaced_local_admin(&school).await?;
            println!(
                "{} account(s) of {school} no longer carry local_admin{}",
                cleared.len(),
                if cleared.is_empty() {
                    ""
                } else {
                    " (see the audit log: account.local_admin_cleared)"
                }
            );
            Ok(())
        }
        Command::School(args) => {
            let app = args.store.app().await?;
            let id = SchoolId::parse(&args.id).context("--id")?;
            // Cards, files and mail point at this server unless the settings say otherwise.
            let settings = Settings {
                login_url: format!("{}/", args.store.paths.public_url()),
                ..Settings::default()
            };
            let school = School::new(id.clone(), args.name, settings);
            if app.sesame().create_school(&school).await? {
                println!("created school {id}");
            } else {
                println!("school {id} already exists");
            }
            if let Some(login) = args.admin_login {
                let (login, issued) = app
                    .sesame()
                    .first_admin(&id, &login, &args.admin_first_name, &args.admin_last_name)
                    .await?;
                let until = issued
                    .expires_at
                    .map(|at| at.format(" (valid until %Y-%m-%d %H:%M UTC)").to_string())
                    .unwrap_or_default();
                println!(
                    "administrator {login}: temporary password {}{until}; it must be changed at first sign-in",
                    secrecy::ExposeSecret::expose_secret(&issued.password)
                );
            }
            Ok(())
        }
    }
}

#[cfg(feature = "aws")]
async fn bootstrap(args: BootstrapArgs) -> anyhow::Result<()> {
    aws::bootstrap(&args.table, args.bucket.as_deref(), args.sender.as_deref()).await
}

#[cfg(not(feature = "aws"))]
async fn bootstrap(_: BootstrapArgs) -> anyhow::Result<()> {
    anyhow::bail!("this sesame was built without AWS support: build it with `--features aws`")
}

async fn serve(mut args: ServeArgs, demo: bool) -> anyhow::Result<()> {
    // A certificate that cannot be used stops the start before anything is opened.
    let tls = match args.paths.tls.files()? {
        Some((cert, key)) => Some(tls::server_config(cert, key)?),
        None => None,
    };
    let listener = tokio::net::TcpListener::bind(args.paths.bind)
        .await
        .with_context(|| format!("binding {}", args.paths.bind))?;
    let address = listener.local_addr()?;
    // Links point at the address actually bound (port 0 picks a free one).
    args.paths.bind = address;
    let scheme = args.paths.scheme();
    if tls.is_none() && !address.ip().is_loopback() {
        tracing::warn!(
            %address,
            "serving plain HTTP on a network: the console's cookies and the passwords typed \
             into it or sent to the API travel in clear. Give sesame a certificate and its \
             key (--tls-cert and --tls-key) or put it behind a TLS proxy (and then bind it \
             to 127.0.0.1, or keep the proxy's hop on a trusted network)"
        );
    }
    // One server per data folder (a restore waits for it to stop).
    let _lock = match args.backend {
        Backend::Sqlite => Some(lock::DataLock::acquire(args.paths.data_dir()?)?),
        Backend::Aws => None,
    };
    let app = args.paths.app_for(args.backend, &args.aws).await?;
    if demo {
        let info = ensure_demo_school(app.sesame()).await?;
        let key = args.paths.token_key()?;
        let token = |sub: &str, role: &str, classes: Vec<String>| {
            let hours = chrono::Duration::hours(8);
            key.sign(&Claims::issued(
                sub,
                info.school.to_string(),
                role,
                classes,
                chrono::Utc::now(),
                hours,
            ))
        };
        let admin = token(&info.admin_id, "admin", vec![]);
        let teacher = token(&info.teacher_id, "teacher", info.teacher_classes.clone());
        // The server must outlive its banner: a closed stdout is no reason to stop.
        let _ = writeln!(
            std::io::stdout(),
            "\nSésame demo school \"{school}\" is served at {scheme}://{address}\n\n\
             Console: open {scheme}://{address}/ and sign in\n\
             \x20 as the administrator: {admin_login} / {staff_password}\n\
             \x20 as a teacher ({classes}): {teacher_login} / {staff_password}\n\
             \x20 as a student: {student} / {password}\n\n\
             Admin token (8 h):\n  export ADMIN={admin}\n\
             Teacher token ({classes}, 8 h):\n  export TEACHER={teacher}\n\n\
             Try:\n\
             \x20 curl -s {scheme}://{address}/v1/classes -H \"Authorization: Bearer $TEACHER\"\n\
             \x20 curl -s '{scheme}://{address}/v1/accounts?class=CM1-A&profile=student&limit=5' -H \"Authorization: Bearer $ADMIN\"\n\
             \x20 curl -s '{scheme}://{address}/v1/accounts?q=lefevre' -H \"Authorization: Bearer $ADMIN\"\n\
             \x20 curl -s -X POST {scheme}://{address}/v1/auth/login -H 'Content-Type: application/json' \\\n\
             \x20      -d '{{\"login\":\"{student}\",\"password\":\"{password}\"}}'\n\
             \x20 reset a password: POST /v1/accounts/reset-password {{\"account_ids\":[\"<id>\"],\"method\":\"temporary\"}}\n\
             \x20 the whole API: {scheme}://{address}/openapi.json\n",
            school = info.school,
            classes = info.teacher_classes.join(", "),
            student = info.student_login,
            password = DEMO_STUDENT_PASSWORD,
            admin_login = info.admin_login,
            teacher_login = info.teacher_login,
            staff_password = DEMO_STAFF_PASSWORD,
        );
    }
    tracing::info!(%address, scheme, "serving");
    // The peer's address limits wrong reset links per client (SPEC §3).
    let router = app
        .router(&Group::ALL)
        .into_make_service_with_connect_info::<std::net::SocketAddr>();
    match tls {
        Some(config) => {
            // Tapped (doing nothing) so that axum hands the peer's address on.
            use axum::serve::ListenerExt;
            let listener = tls::TlsListener::new(listener, config)?.tap_io(|_| {});
            axum::serve(listener, router)
                .with_graceful_shutdown(shutdown())
                .await?
        }
        None => {
            axum::serve(listener, router)
                .with_graceful_shutdown(shutdown())
                .await?
        }
    }
    Ok(())
}

async fn shutdown() {
    let _ = tokio::signal::ctrl_c().await;
}
