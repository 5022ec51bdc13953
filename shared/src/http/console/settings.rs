//! The school's settings.

use super::kit::*;
use crate::domain::{Error, Language};
use crate::http::AppState;
use crate::http::ui::{field, tr};
use crate::ops::settings::SettingsPatch;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};

fn settings_title(lang: Language) -> &'static str {
    tr(lang, "Réglages de l'établissement", "School settings")
}

pub(super) async fn settings(State(state): State<AppState>, staff: Staff) -> Response {
    settings_page(&state, &staff, StatusCode::OK, None).await
}

async fn settings_page(
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    message: Option<Markup>,
) -> Response {
    let lang = staff.lang;
    let title = settings_title(lang);
    if !staff.caller.may_do(crate::domain::Task::ChangeSettings) {
        return refused(staff, "/console/settings", title, &Error::Forbidden);
    }
    let school = match state.sesame.get_settings(&staff.caller).await {
        Ok(school) => school,
        Err(e) => return refused(staff, "/console/settings", title, &e),
    };
    let s = &school.settings;
    let number = |id: &'static str, label: &'static str, value: u32| {
        html! {
            label for=(id) { (label) }
            input id=(id) name=(id) type="number" inputmode="numeric" value=(value) required;
        }
    };
    let body = html! {
        @if let Some(message) = message { (message) }
        div.card {
            form method="post" action="/console/settings" {
                input type="hidden" name="csrf" value=(staff.session.csrf);
                label for="school_name" { (tr(lang, "Nom de l'établissement", "School name")) }
                input #school_name name="school_name" value=(school.name) required;
                (number("temporary_password_days", tr(lang, "Validité des mots de passe temporaires (jours)", "Temporary passwords' validity (days)"), s.temporary_password_days))
                (number("password_min_length", tr(lang, "Longueur minimale des mots de passe", "Passwords' minimum length"), s.password_min_length))
                (number("retention_days", tr(lang, "Conservation des comptes désactivés (jours)", "Disabled accounts kept for (days)"), s.retention_days))
                (number("audit_days", tr(lang, "Conservation du journal et des distributions (jours)", "Audit and distributions kept for (days)"), s.audit_days))
                label for="login_url" { (tr(lang, "Adresse de connexion imprimée sur les cartes", "Sign-in address printed on the cards")) }
                input #login_url name="login_url" type="url" value=(s.login_url) required;
                label for="sender" { (tr(lang, "Expéditeur des courriels", "Mail sender")) }
                input #sender name="sender" type="email" value=(s.sender.as_ref().map(ToString::to_string).unwrap_or_default());
                label for="language" { (tr(lang, "Langue", "Language")) }
                select #language name="language" {
                    option value="fr" selected[s.language == Language::Fr] { "Français" }
                    option value="en" selected[s.language == Language::En] { "English" }
                }
                label for="time_zone" { (tr(lang, "Fuseau horaire (ex. Europe/Paris, America/Cayenne, Indian/Reunion)", "Time zone (e.g. Europe/Paris, America/Cayenne, Indian/Reunion)")) }
                input #time_zone name="time_zone" value=(s.time_zone.name()) required;
                label for="oneroster_org" { (tr(lang, "Identifiant OneRoster de l'établissement (sourcedId de son org ; vide : la seule école du fichier)", "The school's OneRoster id (its org's sourcedId; empty: the bundle's only school)")) }
                input #oneroster_org name="oneroster_org" value=(s.oneroster_org.as_deref().unwrap_or_default()) maxlength="255";
                div.inline {
                    label { input type="checkbox" name="birth_date_mode" value="true" checked[s.birth_date_mode];
                        " " (tr(lang, "Permettre la date de naissance comme mot de passe (déconseillé)", "Allow the birth date as a password (not advised)")) }
                }
                button #save type="submit" { (tr(lang, "Enregistrer", "Save")) }
            }
        }
    };
    page(status, staff.shell("/console/settings", title, body))
}

pub(super) async fn save_settings(
    State(state): State<AppState>,
    Posted { staff, pairs }: Posted,
) -> Response {
    let lang = staff.lang;
    let mut errors = Vec::new();
    let mut number = |name: &str| -> Option<u32> {
        let raw = field(&pairs, name)?.trim();
        let parsed = raw.parse().ok();
        if parsed.is_none() {
            errors.push(crate::domain::FieldError::new(name, "must be a whole number"));
        }
        parsed
    };
    let patch = SettingsPatch {
        temporary_password_days: number("temporary_password_days"),
        password_min_length: number("password_min_length"),
        retention_days: number("retention_days"),
        audit_days: number("audit_days"),
        school_name: field(&pairs, "school_name").map(str::to_owned),
        time_zone: field(&pairs, "time_zone").map(str::to_owned),
        oneroster_org: Some(
            field(&pairs, "oneroster_org")
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
        ),
        login_url: field(&pairs, "login_url").map(str::to_owned),
        sender: Some(
            field(&pairs, "sender")
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
        ),
        language: match field(&pairs, "language") {
            Some("en") => Some(Language::En),
            Some("fr") => Some(Language::Fr),
            _ => None,
        },
        birth_date_mode: Some(field(&pairs, "birth_date_mode") == Some("true")),
    };
    if !errors.is_empty() {
        let e = Error::Validation(errors);
        return settings_page(
            &state,
            &staff,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(problem(staff.lang, &e)),
        )
        .await;
    }
    match state
        .sesame
        .update_settings(&staff.caller, staff.request_id(), patch)
        .await
    {
        Ok(_) => {
            let saved = html! { div.alert.ok role="status" { p { (tr(lang, "Réglages enregistrés.", "Settings saved.")) } } };
            settings_page(&state, &staff, StatusCode::OK, Some(saved)).await
        }
        Err(e) => {
            let status = logged_status(&e);
            settings_page(&state, &staff, status, Some(problem(staff.lang, &e))).await
        }
    }
}
