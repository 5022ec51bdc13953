//! The markup and the words of the self-service pages: the console's kit (`maud`,
//! `tr`), in one small card that reads well on a phone.

use crate::credentials::policy::MAX_LENGTH;
use crate::domain::{FieldError, Language};
use crate::http::ui::{alert_list, card, tr};
use maud::{Markup, html};

/// What went wrong with a form, shown above it: a sentence and maybe a list.
#[derive(Debug, Default)]
pub struct Problem {
    pub sentence: String,
    pub items: Vec<String>,
}

impl Problem {
    pub fn sentence(sentence: &str) -> Self {
        Self {
            sentence: sentence.to_owned(),
            items: Vec::new(),
        }
    }

    /// The school's policy refused the password: each broken rule in words.
    pub fn policy(lang: Language, broken: &[FieldError]) -> Self {
        Self {
            sentence: tr(
                lang,
                "Ce mot de passe ne convient pas :",
                "This password cannot be used:",
            )
            .to_owned(),
            items: broken.iter().map(|e| rule(lang, e)).collect(),
        }
    }
}

pub fn missing(lang: Language) -> &'static str {
    tr(lang, "Remplissez tous les champs.", "Fill in every field.")
}

pub fn mismatch(lang: Language) -> &'static str {
    tr(
        lang,
        "Les deux mots de passe ne sont pas identiques.",
        "The two passwords are not the same.",
    )
}

/// One broken policy rule in words, from its stable code. The minimum length is
/// per school: it is the number in the rule's message.
pub fn rule(lang: Language, error: &FieldError) -> String {
    let number = || {
        error
            .message
            .split_whitespace()
            .find_map(|w| w.parse::<usize>().ok())
    };
    match error.code.as_deref() {
        Some("too_short") => {
            let n = number().unwrap_or(8);
            match lang {
                Language::Fr => format!("il doit contenir au moins {n} caractères"),
                Language::En => format!("it must be at least {n} characters long"),
            }
        }
        Some("too_long") => match lang {
            Language::Fr => format!("il doit contenir au plus {MAX_LENGTH} caractères"),
            Language::En => format!("it must be at most {MAX_LENGTH} characters long"),
        },
        Some("common") => tr(
            lang,
            "il fait partie des mots de passe les plus courants",
            "it is one of the most common passwords",
        )
        .to_owned(),
        Some("contains_login") => tr(
            lang,
            "il ne doit pas contenir votre identifiant",
            "it must not contain your login",
        )
        .to_owned(),
        Some("contains_name") => tr(
            lang,
            "il ne doit pas contenir votre nom ni votre prénom",
            "it must not contain your first or last name",
        )
        .to_owned(),
        Some("contains_school_name") => tr(
            lang,
            "il ne doit pas contenir le nom de l’établissement",
            "it must not contain the school’s name",
        )
        .to_owned(),
        _ => error.message.clone(),
    }
}

fn alert(problem: Option<&Problem>) -> Markup {
    html! { @if let Some(p) = problem { (alert_list(&p.sentence, &p.items)) } }
}

fn password_fields(lang: Language, min_length: u32) -> Markup {
    let hint = match lang {
        Language::Fr => format!(
            "Au moins {min_length} caractères. Une phrase de quelques mots se retient facilement. \
             N’utilisez ni votre nom, ni votre identifiant, ni le nom de l’établissement."
        ),
        Language::En => format!(
            "At least {min_length} characters. A phrase of a few words is easy to remember. \
             Do not use your name, your login or the school’s name."
        ),
    };
    html! {
        label for="new_password" { (tr(lang, "Nouveau mot de passe", "New password")) }
        input #new_password name="new_password" type="password" autocomplete="new-password"
            required minlength=(min_length) maxlength=(MAX_LENGTH) aria-describedby="password_hint";
        p.hint #password_hint { (hint) }
        label for="confirmation" { (tr(lang, "Confirmer le mot de passe", "Confirm the password")) }
        input #confirmation name="confirmation" type="password" autocomplete="new-password"
            required maxlength=(MAX_LENGTH);
    }
}

fn save(lang: Language) -> &'static str {
    tr(lang, "Enregistrer", "Save")
}

/// The form of `/reset/{token}`. It posts back to the page's own address.
pub fn reset_form(lang: Language, login: &str, min_length: u32, problem: Option<&Problem>) -> Markup {
    let body = html! {
        p { (tr(lang, "Compte : ", "Account: ")) strong { (login) } }
        (alert(problem))
        form method="post" {
            input type="hidden" name="lang" value=(lang.code());
            input type="text" name="username" value=(login) autocomplete="username" hidden;
            (password_fields(lang, min_length))
            button type="submit" { (save(lang)) }
        }
    };
    card(
        lang,
        tr(lang, "Choisir un nouveau mot de passe", "Choose a new password"),
        body,
        true,
    )
}

/// The form of `/activate`, with the login typed so far (never the code).
pub fn activate_form(lang: Language, login: &str, problem: Option<&Problem>) -> Markup {
    let title = tr(lang, "Activer mon compte", "Activate my account");
    let body = html! {
        p { (tr(lang,
            "Saisissez votre identifiant et le code d’activation remis par l’établissement, puis choisissez votre mot de passe.",
            "Type your login and the activation code your school gave you, then choose your password.")) }
        (alert(problem))
        form method="post" {
            input type="hidden" name="lang" value=(lang.code());
            label for="login" { (tr(lang, "Identifiant", "Login")) }
            input #login name="login" type="text" value=(login) autocomplete="username"
                autocapitalize="none" autocorrect="off" spellcheck="false" required maxlength="64";
            label for="activation_code" { (tr(lang, "Code d’activation", "Activation code")) }
            input #activation_code name="activation_code" type="text" autocomplete="one-time-code"
                autocapitalize="characters" autocorrect="off" spellcheck="false" required maxlength="32"
                aria-describedby="code_hint";
            p.hint #code_hint { (tr(lang, "8 caractères, par exemple K7MP-Q2XR.", "8 characters, for example K7MP-Q2XR.")) }
            // The school, and so its minimum, is not known before the login is typed.
            (password_fields(lang, 8))
            button type="submit" { (title) }
        }
        script src="/activate.js" {}
    };
    card(lang, title, body, true)
}

/// Why a flow ended without success: what the page says.
#[derive(Clone, Copy, Debug)]
pub enum Ending<'a> {
    InvalidLink,
    LinkExpired,
    CodeExpired,
    Locked { minutes: u64 },
    Disabled,
    Federated { directory: &'a str },
    Broken,
}

/// A page that ends a flow without success: an error the form cannot fix.
pub fn ending(lang: Language, ending: Ending<'_>) -> Markup {
    let link_failed = tr(lang, "Ce lien ne fonctionne plus", "This link no longer works");
    let refused = tr(lang, "Action impossible", "This cannot be done");
    let (title, paragraph) = match ending {
        Ending::InvalidLink => (link_failed, tr(lang,
            "Il a peut-être déjà servi, été remplacé par un lien plus récent ou été annulé. Demandez un nouveau lien à votre établissement.",
            "It may have been used already, replaced by a newer link or cancelled. Ask your school for a new link.").to_owned()),
        Ending::LinkExpired => (link_failed, tr(lang,
            "Il a expiré : un lien reste valable 24 heures. Demandez un nouveau lien à votre établissement.",
            "It has expired: a link is valid for 24 hours. Ask your school for a new link.").to_owned()),
        Ending::CodeExpired => (refused, tr(lang,
            "Ce code d’activation a expiré. Demandez-en un nouveau à votre établissement.",
            "This activation code has expired. Ask your school for a new one.").to_owned()),
        Ending::Locked { minutes } => (tr(lang, "Trop de tentatives", "Too many attempts"), match lang {
            Language::Fr => format!("Par sécurité, ce compte est bloqué ici pour le moment. Réessayez dans {minutes} minute(s)."),
            Language::En => format!("For safety, this account is locked here for now. Try again in {minutes} minute(s)."),
        }),
        Ending::Disabled => (refused, tr(lang,
            "L’accès à ce compte est désactivé. Adressez-vous à votre établissement.",
            "Access to this account is disabled. Please contact your school.").to_owned()),
        Ending::Federated { directory } => (refused, match lang {
            Language::Fr => format!("Ce compte est géré par {directory}. Changez votre mot de passe là-bas."),
            Language::En => format!("This account is managed by {directory}. Change your password there."),
        }),
        Ending::Broken => (tr(lang, "Une erreur est survenue", "Something went wrong"), tr(lang,
            "Réessayez dans quelques instants. Si le problème continue, prévenez votre établissement.",
            "Please try again in a moment. If the problem persists, tell your school.").to_owned()),
    };
    card(
        lang,
        title,
        html! { div.alert role="status" { p { (paragraph) } } },
        false,
    )
}

/// The page that ends a flow with success, with a button to the school's login
/// page when it has one.
pub fn done(lang: Language, activated: bool, login: &str, login_url: Option<&str>) -> Markup {
    let title = if activated {
        tr(lang, "Compte activé", "Account activated")
    } else {
        tr(lang, "Mot de passe enregistré", "Password saved")
    };
    let body = html! {
        div.alert.ok role="status" {
            p {
                (tr(lang, "Vous pouvez maintenant vous connecter avec l’identifiant ",
                    "You can now log in with the login "))
                strong { (login) }
                (tr(lang, " et votre nouveau mot de passe.", " and your new password."))
            }
        }
        @if let Some(url) = login_url {
            a.button href=(url) { (tr(lang, "Aller à la page de connexion", "Go to the login page")) }
        }
    };
    card(lang, title, body, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_from_outside_is_escaped() {
        let page = activate_form(Language::En, "\"><script>alert(1)</script>", None).into_string();
        assert!(!page.contains("<script>alert"));
        assert!(page.contains("value=\"&quot;&gt;&lt;script&gt;"));
    }

    #[test]
    fn rules_are_put_in_words_with_the_schools_minimum() {
        let rule_ = FieldError::rule("new_password", "too_short", "must be at least 12 characters long");
        assert_eq!(
            rule(Language::Fr, &rule_),
            "il doit contenir au moins 12 caractères"
        );
        assert_eq!(
            rule(Language::En, &rule_),
            "it must be at least 12 characters long"
        );
    }
}
