//! The words of the self-service pages, in French and English, and the choice of
//! language: `?lang=`, else `Accept-Language`, else French.

use crate::credentials::policy::MAX_LENGTH;
use crate::domain::{FieldError, Language};

/// The first of `explicit` that is `fr` or `en` (from the form, the query) wins;
/// then the most preferred of French and English in `accept` (an `Accept-Language`
/// header); then French.
pub fn negotiate(explicit: &[Option<&str>], accept: Option<&str>) -> Language {
    if let Some(lang) = explicit.iter().flatten().find_map(|raw| parse_lang(raw)) {
        return lang;
    }
    let mut best: Option<(Language, f32)> = None;
    for range in accept.unwrap_or_default().split(',') {
        let mut parts = range.split(';');
        let tag = parts.next().unwrap_or_default().trim();
        let primary = tag.split('-').next().unwrap_or_default();
        let Some(lang) = parse_lang(primary) else {
            continue;
        };
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if q > 0.0 && best.is_none_or(|(_, b)| q > b) {
            best = Some((lang, q));
        }
    }
    best.map_or(Language::Fr, |(lang, _)| lang)
}

fn parse_lang(raw: &str) -> Option<Language> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "fr" => Some(Language::Fr),
        "en" => Some(Language::En),
        _ => None,
    }
}

/// Every fixed sentence of the pages. `{n}`, `{login}`, `{directory}` are filled in.
pub struct Texts {
    pub other_language: (&'static str, &'static str),
    pub reset_title: &'static str,
    pub reset_intro: &'static str,
    pub activate_title: &'static str,
    pub activate_intro: &'static str,
    pub login: &'static str,
    pub code: &'static str,
    pub code_hint: &'static str,
    pub new_password: &'static str,
    pub confirmation: &'static str,
    pub password_hint: &'static str,
    pub save: &'static str,
    pub activate: &'static str,
    pub missing: &'static str,
    pub mismatch: &'static str,
    pub policy_intro: &'static str,
    pub too_short: &'static str,
    pub too_long: &'static str,
    pub common: &'static str,
    pub contains_login: &'static str,
    pub contains_name: &'static str,
    pub contains_school_name: &'static str,
    pub wrong_code: &'static str,
    pub reset_done_title: &'static str,
    pub activate_done_title: &'static str,
    pub done: &'static str,
    pub go_to_login: &'static str,
    pub link_failed_title: &'static str,
    pub invalid_link: &'static str,
    pub link_expired: &'static str,
    pub code_expired: &'static str,
    pub locked_title: &'static str,
    pub locked: &'static str,
    pub refused_title: &'static str,
    pub disabled: &'static str,
    pub federated: &'static str,
    pub broken_title: &'static str,
    pub broken: &'static str,
}

pub fn texts(lang: Language) -> &'static Texts {
    match lang {
        Language::Fr => &FR,
        Language::En => &EN,
    }
}

const FR: Texts = Texts {
    other_language: ("en", "English"),
    reset_title: "Choisir un nouveau mot de passe",
    reset_intro: "Compte : <strong>{login}</strong>",
    activate_title: "Activer mon compte",
    activate_intro: "Saisissez votre identifiant et le code d’activation remis par l’établissement, \
        puis choisissez votre mot de passe.",
    login: "Identifiant",
    code: "Code d’activation",
    code_hint: "8 caractères, par exemple K7MP-Q2XR.",
    new_password: "Nouveau mot de passe",
    confirmation: "Confirmer le mot de passe",
    password_hint: "Au moins {n} caractères. Une phrase de quelques mots se retient facilement. \
        N’utilisez ni votre nom, ni votre identifiant, ni le nom de l’établissement.",
    save: "Enregistrer",
    activate: "Activer mon compte",
    missing: "Remplissez tous les champs.",
    mismatch: "Les deux mots de passe ne sont pas identiques.",
    policy_intro: "Ce mot de passe ne convient pas :",
    too_short: "il doit contenir au moins {n} caractères",
    too_long: "il doit contenir au plus {n} caractères",
    common: "il fait partie des mots de passe les plus courants",
    contains_login: "il ne doit pas contenir votre identifiant",
    contains_name: "il ne doit pas contenir votre nom ni votre prénom",
    contains_school_name: "il ne doit pas contenir le nom de l’établissement",
    wrong_code: "Identifiant ou code d’activation incorrect, ou compte déjà activé.",
    reset_done_title: "Mot de passe enregistré",
    activate_done_title: "Compte activé",
    done: "Vous pouvez maintenant vous connecter avec l’identifiant <strong>{login}</strong> \
        et votre nouveau mot de passe.",
    go_to_login: "Aller à la page de connexion",
    link_failed_title: "Ce lien ne fonctionne plus",
    invalid_link: "Il a peut-être déjà servi, été remplacé par un lien plus récent ou été annulé. \
        Demandez un nouveau lien à votre établissement.",
    link_expired: "Il a expiré : un lien reste valable 24 heures. \
        Demandez un nouveau lien à votre établissement.",
    code_expired: "Ce code d’activation a expiré. Demandez-en un nouveau à votre établissement.",
    locked_title: "Trop de tentatives",
    locked: "Par sécurité, ce compte est bloqué ici pour le moment. Réessayez dans {n} minute(s).",
    refused_title: "Action impossible",
    disabled: "L’accès à ce compte est désactivé. Adressez-vous à votre établissement.",
    federated: "Ce compte est géré par {directory}. Changez votre mot de passe là-bas.",
    broken_title: "Une erreur est survenue",
    broken: "Réessayez dans quelques instants. Si le problème continue, prévenez votre établissement.",
};

const EN: Texts = Texts {
    other_language: ("fr", "Français"),
    reset_title: "Choose a new password",
    reset_intro: "Account: <strong>{login}</strong>",
    activate_title: "Activate my account",
    activate_intro: "Type your login and the activation code your school gave you, then choose \
        your password.",
    login: "Login",
    code: "Activation code",
    code_hint: "8 characters, for example K7MP-Q2XR.",
    new_password: "New password",
    confirmation: "Confirm the password",
    password_hint: "At least {n} characters. A phrase of a few words is easy to remember. \
        Do not use your name, your login or the school’s name.",
    save: "Save",
    activate: "Activate my account",
    missing: "Fill in every field.",
    mismatch: "The two passwords are not the same.",
    policy_intro: "This password cannot be used:",
    too_short: "it must be at least {n} characters long",
    too_long: "it must be at most {n} characters long",
    common: "it is one of the most common passwords",
    contains_login: "it must not contain your login",
    contains_name: "it must not contain your first or last name",
    contains_school_name: "it must not contain the school’s name",
    wrong_code: "Wrong login or activation code, or the account is already activated.",
    reset_done_title: "Password saved",
    activate_done_title: "Account activated",
    done: "You can now log in with the login <strong>{login}</strong> and your new password.",
    go_to_login: "Go to the login page",
    link_failed_title: "This link no longer works",
    invalid_link: "It may have been used already, replaced by a newer link or cancelled. \
        Ask your school for a new link.",
    link_expired: "It has expired: a link is valid for 24 hours. Ask your school for a new link.",
    code_expired: "This activation code has expired. Ask your school for a new one.",
    locked_title: "Too many attempts",
    locked: "For safety, this account is locked here for now. Try again in {n} minute(s).",
    refused_title: "This cannot be done",
    disabled: "Access to this account is disabled. Please contact your school.",
    federated: "This account is managed by {directory}. Change your password there.",
    broken_title: "Something went wrong",
    broken: "Please try again in a moment. If the problem persists, tell your school.",
};

impl Texts {
    /// One broken policy rule in words, from its stable code. The minimum length
    /// is per school: it is the number in the rule's message.
    pub fn rule(&self, error: &FieldError) -> String {
        let number = || {
            error
                .message
                .split_whitespace()
                .find_map(|w| w.parse::<usize>().ok())
        };
        match error.code.as_deref() {
            Some("too_short") => self.too_short.replace("{n}", &number().unwrap_or(8).to_string()),
            Some("too_long") => self.too_long.replace("{n}", &MAX_LENGTH.to_string()),
            Some("common") => self.common.to_owned(),
            Some("contains_login") => self.contains_login.to_owned(),
            Some("contains_name") => self.contains_name.to_owned(),
            Some("contains_school_name") => self.contains_school_name.to_owned(),
            _ => error.message.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_wins_then_the_preferred_of_french_and_english_then_french() {
        assert_eq!(negotiate(&[None, Some("en")], Some("fr")), Language::En);
        assert_eq!(
            negotiate(&[Some("de"), None], Some("en-GB,en;q=0.9")),
            Language::En
        );
        assert_eq!(
            negotiate(&[], Some("de-DE,de;q=0.9,en;q=0.5,fr;q=0.8")),
            Language::Fr
        );
        assert_eq!(negotiate(&[], Some("en-US,en;q=0.9")), Language::En);
        assert_eq!(negotiate(&[], Some("en;q=0,de")), Language::Fr);
        assert_eq!(negotiate(&[], None), Language::Fr);
    }

    #[test]
    fn rules_are_put_in_words_with_the_schools_minimum() {
        let rule = FieldError::rule("new_password", "too_short", "must be at least 12 characters long");
        assert_eq!(
            texts(Language::Fr).rule(&rule),
            "il doit contenir au moins 12 caractères"
        );
        assert_eq!(
            texts(Language::En).rule(&rule),
            "it must be at least 12 characters long"
        );
    }
}
