//! Rendering benchmark of credential files: N synthetic accounts with accented
//! names rendered once in one format; prints the time and the process's peak
//! memory. Rendering only: the hashing of the temporary passwords that a real
//! export also pays is measured by `sesame-bench`.
//!
//! `sesame-bench-export <csv|xlsx|pdf> <rows> [cards per page: 1|2|8] [latin|mixed]`:
//! `mixed` names pupils in every script of a French roll (Arabic, Hebrew, Chinese,
//! Japanese, Korean, Greek, Vietnamese, Romanian), one in eight Latin-only.

use anyhow::{Context, bail};
use chrono::{Duration, NaiveDate, Utc};
use sesame::domain::{Language, Profile};
use sesame::export::{Content, Document, Format, PerPage, Row, Secret, render};
use std::time::Instant;

const FIRST: [&str; 8] = ["Zoé", "Emre", "Awa", "José", "Jürgen", "Anaïs", "Chloé", "Noël"];
const LAST: [&str; 8] = [
    "Nguyễn", "Çelik", "N'Diaye", "Núñez", "Müller", "Brûlé", "Lefèvre", "Øster",
];
const MIXED: [(&str, &str); 8] = [
    ("محمد", "العلي"),
    ("伟", "王"),
    ("Σοφία", "Παπαδοπούλου"),
    ("Thị Minh", "Nguyễn"),
    ("Ioana", "Ștefănescu"),
    ("דוד", "כהן"),
    ("花子", "佐藤"),
    ("민준", "김"),
];
const WORDS: [&str; 8] = [
    "tomate", "girafe", "soleil", "cerise", "rivière", "nuage", "pivert", "lampe",
];

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: sesame-bench-export <csv|xlsx|pdf> <rows> [1|2|8] [latin|mixed]";
    let format = match args.first().map(String::as_str) {
        Some("csv") => Format::Csv,
        Some("xlsx") => Format::Xlsx,
        Some("pdf") => Format::Pdf,
        _ => bail!(usage),
    };
    let count: usize = args.get(1).context(usage)?.parse().context(usage)?;
    let per_page = match args.get(2) {
        Some(n) => PerPage::try_from(n.parse::<u8>().context(usage)?).map_err(anyhow::Error::msg)?,
        None => PerPage::Eight,
    };

    let mixed = match args.get(3).map(String::as_str) {
        None | Some("latin") => false,
        Some("mixed") => true,
        _ => bail!(usage),
    };
    let rows = rows(count, mixed);
    let doc = Document {
        school_name: "Collège Émile-Zola de Saint-Étienne",
        login_url: "https://ent.college-exemple.fr/connexion",
        language: Language::Fr,
        zone: sesame::domain::TimeZone::default(),
        content: Content::Credentials,
        per_page,
        rows: &rows,
    };
    let started = Instant::now();
    let bytes = render(format, &doc)?;
    let elapsed = started.elapsed();
    println!(
        "format={} rows={count} per_page={} names={} bytes={} seconds={:.3} peak_rss_mib={:.1}",
        format.extension(),
        u8::from(per_page),
        if mixed { "mixed" } else { "latin" },
        bytes.len(),
        elapsed.as_secs_f64(),
        peak_rss_kib()? as f64 / 1024.0,
    );
    Ok(())
}

fn rows(count: usize, mixed: bool) -> Vec<Row> {
    let expires_at = Utc::now() + Duration::days(10);
    (0..count)
        .map(|i| {
            let (first, last) = match mixed {
                true if i % 8 != 7 => MIXED[i % 8],
                _ => (FIRST[i % 8], LAST[i / 8 % 8]),
            };
            let password = format!(
                "{}-{}-{}-{:02}",
                WORDS[i % 8],
                WORDS[i / 8 % 8],
                WORDS[i / 64 % 8],
                i % 100
            );
            Row {
                class: format!("{}e{}", 6 + i % 4, i / 4 % 9 + 1),
                first_name: first.to_owned(),
                last_name: last.to_owned(),
                login: format!(
                    "{}.{}{}",
                    sesame::domain::text::fold(first),
                    sesame::domain::text::fold(last),
                    i
                ),
                birth_date: NaiveDate::from_ymd_opt(2012, 1, 1),
                profile: Profile::Student,
                secret: Some(Secret::TemporaryPassword {
                    password: password.into(),
                    expires_at,
                }),
            }
        })
        .collect()
}

/// Peak resident memory of this process (`VmHWM`), in KiB.
fn peak_rss_kib() -> anyhow::Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .context("no VmHWM")?;
    Ok(line.split_whitespace().nth(1).context("VmHWM value")?.parse()?)
}
