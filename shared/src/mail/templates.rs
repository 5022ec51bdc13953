//! The texts of Sésame's mail, in the school's language: plain text that every client
//! shows, and the same content as simple HTML. A mail is built once as a list of
//! blocks and rendered both ways, so the two never say different things. Subjects
//! name the school, never a secret.

use crate::domain::{Email, Language};
use crate::html::escape;
use crate::ports::Message;
use chrono::Duration;

/// What a mail is for, with the secret it hands out.
pub enum Kind<'a> {
    /// A pending account: the page where the code is typed, and the code.
    Activation {
        url: &'a str,
        code: &'a str,
        valid_for: Duration,
    },
    /// An activated account: the login, and a link to choose a new password.
    LoginInfo { reset_url: &'a str, valid_for: Duration },
    /// A reset link the school sent (`email_link` reset).
    ResetLink { reset_url: &'a str, valid_for: Duration },
}

/// One person's mail, before it is rendered. Holds a secret: no `Debug`.
pub struct Letter<'a> {
    /// The school's name.
    pub school: &'a str,
    pub language: Language,
    /// The person's full name.
    pub name: &'a str,
    pub login: &'a str,
    pub kind: Kind<'a>,
}

enum Block {
    Para(String),
    /// Labelled values, one a line (the value stands out in HTML).
    Fields(Vec<(&'static str, String)>),
    Link(String),
    /// A separator with a caption, before a quoted message.
    Rule(&'static str),
    /// A message quoted whole (the administrator's copy).
    Quote(Vec<Block>),
}

impl Letter<'_> {
    pub fn subject(&self) -> String {
        let school = self.school;
        match (self.language, &self.kind) {
            (Language::Fr, Kind::Activation { .. }) => format!("{school} : activez votre compte"),
            (Language::Fr, Kind::LoginInfo { .. }) => format!("{school} : vos informations de connexion"),
            (Language::Fr, Kind::ResetLink { .. }) => {
                format!("{school} : choisissez un nouveau mot de passe")
            }
            (Language::En, Kind::Activation { .. }) => format!("{school}: activate your account"),
            (Language::En, Kind::LoginInfo { .. }) => format!("{school}: your login information"),
            (Language::En, Kind::ResetLink { .. }) => format!("{school}: choose a new password"),
        }
    }

    /// The mail to the person.
    pub fn message(&self, from: &Email, to: &Email) -> Message {
        let subject = self.subject();
        let blocks = self.blocks();
        Message {
            to: to.clone(),
            from: from.clone(),
            text: text(&blocks, self.language),
            html: Some(html(&blocks, self.language, &subject)),
            tags: Vec::new(),
            subject,
        }
    }

    /// The acting administrator's copy (`copy_to_me`): whom the mail went to, then
    /// the mail itself, link or code included, so that the administrator can help.
    pub fn copy(&self, from: &Email, admin: &Email, sent_to: &Email) -> Message {
        let original = self.subject();
        let (name, login) = (self.name, self.login);
        let (subject, mut blocks) = match self.language {
            Language::Fr => (
                format!("[Copie] {original} ({name})"),
                vec![
                    Block::Para("Bonjour,".into()),
                    Block::Para(format!(
                        "Voici, à votre demande, la copie du message envoyé à {name} ({login}) \
                         à l'adresse {sent_to}."
                    )),
                    Block::Para(
                        "Il contient un lien ou un code personnel : ne vous en servez que pour aider \
                         cette personne, et ne le transmettez qu'à elle."
                            .into(),
                    ),
                    Block::Rule("Message envoyé"),
                ],
            ),
            Language::En => (
                format!("[Copy] {original} ({name})"),
                vec![
                    Block::Para("Hello,".into()),
                    Block::Para(format!(
                        "As you asked, here is a copy of the message sent to {name} ({login}) at {sent_to}."
                    )),
                    Block::Para(
                        "It carries a personal link or code: use it only to help this person, and give \
                         it to no one else."
                            .into(),
                    ),
                    Block::Rule("Message sent"),
                ],
            ),
        };
        let label = match self.language {
            Language::Fr => "Objet",
            Language::En => "Subject",
        };
        let mut quoted = vec![Block::Fields(vec![(label, original)])];
        quoted.extend(self.blocks());
        blocks.push(Block::Quote(quoted));
        Message {
            to: admin.clone(),
            from: from.clone(),
            text: text(&blocks, self.language),
            html: Some(html(&blocks, self.language, &subject)),
            tags: Vec::new(),
            subject,
        }
    }

    fn blocks(&self) -> Vec<Block> {
        let (school, name, login) = (self.school, self.name, self.login.to_owned());
        match (self.language, &self.kind) {
            (Language::Fr, Kind::Activation { url, code, valid_for }) => vec![
                Block::Para(format!("Bonjour {name},")),
                Block::Para(format!(
                    "Votre compte {school} vous attend. Pour l'activer, ouvrez le lien ci-dessous, \
                     saisissez votre identifiant et votre code d'activation, puis choisissez votre \
                     mot de passe."
                )),
                Block::Fields(vec![
                    ("Identifiant", login),
                    ("Code d'activation", (*code).to_owned()),
                ]),
                Block::Link((*url).to_owned()),
                Block::Para(format!(
                    "Ce code est valable {}. Ne le communiquez à personne.",
                    validity(Language::Fr, *valid_for)
                )),
                Block::Para("Si vous n'attendiez pas ce message, ignorez-le.".into()),
                Block::Para(school.to_owned()),
            ],
            (Language::En, Kind::Activation { url, code, valid_for }) => vec![
                Block::Para(format!("Hello {name},")),
                Block::Para(format!(
                    "Your {school} account is waiting for you. To activate it, open the link below, \
                     enter your login and activation code, then choose your password."
                )),
                Block::Fields(vec![("Login", login), ("Activation code", (*code).to_owned())]),
                Block::Link((*url).to_owned()),
                Block::Para(format!(
                    "This code is valid for {}. Do not share it with anyone.",
                    validity(Language::En, *valid_for)
                )),
                Block::Para("If you were not expecting this message, you can ignore it.".into()),
                Block::Para(school.to_owned()),
            ],
            (Language::Fr, Kind::LoginInfo { reset_url, valid_for }) => vec![
                Block::Para(format!("Bonjour {name},")),
                Block::Para(format!("Voici vos informations de connexion à {school}.")),
                Block::Fields(vec![("Identifiant", login)]),
                Block::Para(
                    "Si vous avez oublié votre mot de passe, choisissez-en un nouveau en ouvrant ce lien :"
                        .into(),
                ),
                Block::Link((*reset_url).to_owned()),
                Block::Para(format!(
                    "Ce lien est valable {} et ne sert qu'une fois. Si vous connaissez votre mot de \
                     passe, ignorez-le : votre mot de passe reste valable.",
                    validity(Language::Fr, *valid_for)
                )),
                Block::Para(school.to_owned()),
            ],
            (Language::En, Kind::LoginInfo { reset_url, valid_for }) => vec![
                Block::Para(format!("Hello {name},")),
                Block::Para(format!("Here is your login information for {school}.")),
                Block::Fields(vec![("Login", login)]),
                Block::Para(
                    "If you have forgotten your password, choose a new one by opening this link:".into(),
                ),
                Block::Link((*reset_url).to_owned()),
                Block::Para(format!(
                    "This link is valid for {} and works only once. If you know your password, \
                     ignore it: your password stays as it is.",
                    validity(Language::En, *valid_for)
                )),
                Block::Para(school.to_owned()),
            ],
            (Language::Fr, Kind::ResetLink { reset_url, valid_for }) => vec![
                Block::Para(format!("Bonjour {name},")),
                Block::Para(format!(
                    "{school} vous envoie un lien pour choisir un nouveau mot de passe."
                )),
                Block::Fields(vec![("Identifiant", login)]),
                Block::Para("Ouvrez ce lien pour choisir votre nouveau mot de passe :".into()),
                Block::Link((*reset_url).to_owned()),
                Block::Para(format!(
                    "Ce lien est valable {} et ne sert qu'une fois. Tant que vous ne l'avez pas \
                     utilisé, votre mot de passe actuel reste valable.",
                    validity(Language::Fr, *valid_for)
                )),
                Block::Para(
                    "Si vous n'avez rien demandé, ignorez ce message ou prévenez l'établissement.".into(),
                ),
                Block::Para(school.to_owned()),
            ],
            (Language::En, Kind::ResetLink { reset_url, valid_for }) => vec![
                Block::Para(format!("Hello {name},")),
                Block::Para(format!("{school} sends you a link to choose a new password.")),
                Block::Fields(vec![("Login", login)]),
                Block::Para("Open this link to choose your new password:".into()),
                Block::Link((*reset_url).to_owned()),
                Block::Para(format!(
                    "This link is valid for {} and works only once. Until you use it, your current \
                     password keeps working.",
                    validity(Language::En, *valid_for)
                )),
                Block::Para("If you did not ask for this, ignore this message or tell the school.".into()),
                Block::Para(school.to_owned()),
            ],
        }
    }
}

/// `24 heures`, `90 days`: a validity rounded to hours, or to days beyond two.
fn validity(language: Language, valid_for: Duration) -> String {
    let hours = ((valid_for.num_minutes() + 30) / 60).max(1);
    let (n, unit) = if hours >= 48 {
        ((hours + 12) / 24, "d")
    } else {
        (hours, "h")
    };
    match (language, unit, n) {
        (Language::Fr, "d", _) => format!("{n} jours"),
        (Language::Fr, _, 1) => "1 heure".to_owned(),
        (Language::Fr, _, _) => format!("{n} heures"),
        (Language::En, "d", _) => format!("{n} days"),
        (Language::En, _, 1) => "1 hour".to_owned(),
        (Language::En, _, _) => format!("{n} hours"),
    }
}

fn text(blocks: &[Block], language: Language) -> String {
    let colon = match language {
        Language::Fr => " : ",
        Language::En => ": ",
    };
    let mut out: Vec<String> = Vec::new();
    for block in blocks {
        match block {
            Block::Para(p) => out.push(p.clone()),
            Block::Fields(fields) => out.push(
                fields
                    .iter()
                    .map(|(label, value)| format!("{label}{colon}{value}"))
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
            Block::Link(url) => out.push(url.clone()),
            Block::Rule(caption) => out.push(format!("———— {caption} ————")),
            Block::Quote(inner) => out.push(text(inner, language).trim_end().to_owned()),
        }
    }
    out.join("\n\n") + "\n"
}

fn html(blocks: &[Block], language: Language, subject: &str) -> String {
    let lang = language.code();
    format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head><meta charset=\"utf-8\"><title>{}</title></head>\n\
         <body style=\"font-family: sans-serif; line-height: 1.5\">\n{}</body>\n</html>\n",
        escape(subject),
        html_blocks(blocks, language)
    )
}

fn html_blocks(blocks: &[Block], language: Language) -> String {
    let colon = match language {
        Language::Fr => "&nbsp;: ",
        Language::En => ": ",
    };
    let mut out = String::new();
    for block in blocks {
        match block {
            Block::Para(p) => out += &format!("<p>{}</p>\n", escape(p)),
            Block::Fields(fields) => {
                let lines: Vec<String> = fields
                    .iter()
                    .map(|(label, value)| {
                        format!("{}{colon}<strong>{}</strong>", escape(label), escape(value))
                    })
                    .collect();
                out += &format!("<p>{}</p>\n", lines.join("<br>\n"));
            }
            Block::Link(url) => {
                let url = escape(url);
                out += &format!("<p><a href=\"{url}\">{url}</a></p>\n");
            }
            Block::Rule(caption) => out += &format!("<hr>\n<p><em>{}</em></p>\n", escape(caption)),
            Block::Quote(inner) => {
                out += &format!(
                    "<blockquote style=\"border-left: 3px solid #ccc; margin: 0; padding-left: 1em\">\n{}</blockquote>\n",
                    html_blocks(inner, language)
                );
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const CODE: &str = "K7MPQ2XR";
    const ACTIVATE: &str = "https://sesame.example.org/activate?login=zoe.lefevre";
    const RESET: &str =
        "https://sesame.example.org/reset/demo.acc_1.c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA";

    fn letter(language: Language, kind: Kind<'static>) -> Letter<'static> {
        Letter {
            school: "Collège Rive Gauche",
            language,
            name: "Zoé Lefèvre",
            login: "zoe.lefevre",
            kind,
        }
    }

    fn kinds() -> Vec<Kind<'static>> {
        vec![
            Kind::Activation {
                url: ACTIVATE,
                code: CODE,
                valid_for: Duration::days(90),
            },
            Kind::LoginInfo {
                reset_url: RESET,
                valid_for: Duration::hours(24),
            },
            Kind::ResetLink {
                reset_url: RESET,
                valid_for: Duration::hours(24),
            },
        ]
    }

    fn address(raw: &str) -> Email {
        Email::parse(raw).unwrap()
    }

    fn secrets(kind: &Kind<'_>) -> Vec<&'static str> {
        match kind {
            Kind::Activation { .. } => vec![ACTIVATE, CODE],
            Kind::LoginInfo { .. } | Kind::ResetLink { .. } => vec![RESET],
        }
    }

    #[test]
    fn every_mail_in_both_languages_carries_the_login_and_its_link_or_code_in_text_and_html() {
        for language in [Language::Fr, Language::En] {
            for kind in kinds() {
                let wanted = secrets(&kind);
                let letter = letter(language, kind);
                let m = letter.message(&address("ecole@example.org"), &address("zoe@example.org"));
                let html = m.html.as_deref().unwrap();
                for needle in wanted.iter().chain(&["zoe.lefevre", "Zoé Lefèvre"]) {
                    assert!(m.text.contains(needle), "{needle} missing from {}", m.text);
                    assert!(html.contains(needle), "{needle} missing from {html}");
                }
                assert!(m.subject.contains("Collège Rive Gauche"), "{}", m.subject);
                assert_eq!(
                    (m.from.as_str(), m.to.as_str()),
                    ("ecole@example.org", "zoe@example.org")
                );
            }
        }
    }

    #[test]
    fn subjects_carry_no_secret_and_speak_the_schools_language() {
        let french: Vec<String> = kinds()
            .into_iter()
            .map(|k| letter(Language::Fr, k).subject())
            .collect();
        let english: Vec<String> = kinds()
            .into_iter()
            .map(|k| letter(Language::En, k).subject())
            .collect();
        assert_eq!(
            french,
            [
                "Collège Rive Gauche : activez votre compte",
                "Collège Rive Gauche : vos informations de connexion",
                "Collège Rive Gauche : choisissez un nouveau mot de passe",
            ]
        );
        assert_eq!(
            english,
            [
                "Collège Rive Gauche: activate your account",
                "Collège Rive Gauche: your login information",
                "Collège Rive Gauche: choose a new password",
            ]
        );
        for language in [Language::Fr, Language::En] {
            for kind in kinds() {
                let wanted = secrets(&kind);
                let letter = letter(language, kind);
                let copy = letter.copy(
                    &address("ecole@example.org"),
                    &address("admin@example.org"),
                    &address("zoe@example.org"),
                );
                for subject in [letter.subject(), copy.subject] {
                    for secret in &wanted {
                        assert!(!subject.contains(secret), "{subject}");
                    }
                    assert!(!subject.contains("demo.acc_1"), "{subject}");
                }
            }
        }
    }

    #[test]
    fn validity_is_said_in_hours_for_links_and_days_for_codes() {
        let fr = letter(Language::Fr, kinds().remove(0)).message(&address("a@b.fr"), &address("c@d.fr"));
        assert!(fr.text.contains("valable 90 jours"), "{}", fr.text);
        let en = letter(Language::En, kinds().remove(1)).message(&address("a@b.fr"), &address("c@d.fr"));
        assert!(en.text.contains("valid for 24 hours"), "{}", en.text);
        // A link minted a few milliseconds before the mail is rendered still reads 24 hours.
        assert_eq!(
            validity(Language::Fr, Duration::hours(24) - Duration::milliseconds(5)),
            "24 heures"
        );
        assert_eq!(validity(Language::En, Duration::minutes(50)), "1 hour");
    }

    #[test]
    fn the_administrators_copy_says_whom_it_went_to_and_repeats_the_secret() {
        for (language, intro) in [
            (Language::Fr, "copie du message envoyé"),
            (Language::En, "copy of the message"),
        ] {
            for kind in kinds() {
                let wanted = secrets(&kind);
                let letter = letter(language, kind);
                let copy = letter.copy(
                    &address("ecole@example.org"),
                    &address("admin@example.org"),
                    &address("zoe@example.org"),
                );
                assert_eq!(copy.to.as_str(), "admin@example.org");
                assert!(copy.subject.starts_with('['), "{}", copy.subject);
                assert!(copy.subject.contains(&letter.subject()), "{}", copy.subject);
                let html = copy.html.as_deref().unwrap();
                for needle in wanted
                    .iter()
                    .chain(&[intro, "zoe@example.org", "zoe.lefevre", "Zoé Lefèvre"])
                {
                    assert!(copy.text.contains(needle), "{needle} missing from {}", copy.text);
                    assert!(html.contains(needle), "{needle} missing from {html}");
                }
            }
        }
    }

    #[test]
    fn html_escapes_what_people_and_schools_typed() {
        let letter = Letter {
            school: "École <Les \"Pins\"> & Cie",
            language: Language::Fr,
            name: "<script>alert(1)</script>",
            login: "x.y",
            kind: kinds().remove(2),
        };
        let html = letter
            .message(&address("a@b.fr"), &address("c@d.fr"))
            .html
            .unwrap();
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(
            html.contains("École &lt;Les &quot;Pins&quot;&gt; &amp; Cie"),
            "{html}"
        );
    }
}
