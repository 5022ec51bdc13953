//! The follow-up of classes: who activated, who waits, send the activation mail
//! to those waiting.

use super::kit::*;
use crate::domain::{Activation, ClassName, Error, Language, Profile, Scope};
use crate::http::AppState;
use crate::http::ui::tr;
use crate::ops::accounts::Selection;
use crate::ops::distributions::FollowUpCounts;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};

fn follow_up_title(lang: Language) -> &'static str {
    tr(lang, "Suivi des classes", "Class follow-up")
}

/// A bar of `counts`: activated in green, open secrets in blue, the rest grey,
/// drawn server-side (SVG), with the same numbers in words beside it.
fn bar(lang: Language, label: &str, counts: &FollowUpCounts) -> Markup {
    let total = counts.total.max(1) as f64;
    let width = |n: u64| format!("{:.1}", 300.0 * n as f64 / total);
    let activated = width(counts.activated);
    let open_x = activated.clone();
    let open = width(counts.open);
    let words = format!(
        "{label} : {} / {} {}",
        counts.activated,
        counts.total,
        tr(lang, "activés", "activated")
    );
    html! {
        div.bars {
            svg width="300" height="16" viewBox="0 0 300 16" role="img" aria-label=(words) {
                rect x="0" y="0" width="300" height="16" fill="#d1d5db" {}
                rect x="0" y="0" width=(activated) height="16" fill="#15803d" {}
                rect x=(open_x) y="0" width=(open) height="16" fill="#1e40af" {}
            }
            span { (words) }
        }
    }
}

pub(super) async fn follow_ups(State(state): State<AppState>, staff: Staff) -> Response {
    let lang = staff.lang;
    let classes = state
        .sesame
        .visible_classes(&staff.caller)
        .await
        .unwrap_or_default();
    let mut rows = Vec::new();
    for class in &classes {
        if let Ok(f) = state.sesame.follow_up(&staff.caller, &class.name).await {
            rows.push(f);
        }
    }
    let body = html! {
        div.card {
            p.muted { (tr(lang, "Vert : activés ; bleu : un secret remis attend ; gris : le reste.", "Green: activated; blue: a secret handed out is waiting; grey: the rest.")) }
            (scroll_table(lang, &[tr(lang, "Classe", "Class"), tr(lang, "Élèves", "Students"), tr(lang, "Responsables", "Parents")], html! {
                    @for f in &rows {
                        tr {
                            th scope="row" { a href={ "/console/follow-up/" (path_segment(&f.class)) } { (f.class) } }
                            td { (bar(lang, tr(lang, "Élèves", "Students"), &f.students)) }
                            td { (bar(lang, tr(lang, "Responsables", "Parents"), &f.parents)) }
                        }
                    }
                }))
        }
    };
    page(
        StatusCode::OK,
        staff.shell("/console/follow-up", follow_up_title(lang), body),
    )
}

fn counts_table(lang: Language, students: &FollowUpCounts, parents: &FollowUpCounts) -> Markup {
    type Count = fn(&FollowUpCounts) -> u64;
    let rows: [(&str, Count); 7] = [
        (tr(lang, "Activés", "Activated"), |c| c.activated),
        (tr(lang, "En attente", "Pending"), |c| c.pending),
        (
            tr(lang, "… avec un secret ouvert", "… with an open secret"),
            |c| c.open,
        ),
        (
            tr(lang, "… dont le secret a expiré", "… whose secret expired"),
            |c| c.expired,
        ),
        (
            tr(lang, "… dont le secret est révoqué", "… whose secret was revoked"),
            |c| c.revoked,
        ),
        (tr(lang, "… jamais remis", "… never handed out"), |c| {
            c.never_handed_out
        }),
        (
            tr(
                lang,
                "… dont le courriel n'est pas arrivé",
                "… whose mail did not arrive",
            ),
            |c| c.mail_not_delivered,
        ),
    ];
    html! {
        div.scroll tabindex="0" role="region" aria-label=(tr(lang, "Tableau", "Table")) { table {
            thead { tr {
                th scope="col" {}
                th scope="col" { (tr(lang, "Élèves", "Students")) }
                th scope="col" { (tr(lang, "Responsables", "Parents")) }
            } }
            tbody {
                @for (label, count) in rows {
                    tr { th scope="row" { (label) } td { (count(students)) } td { (count(parents)) } }
                }
            }
        } }
    }
}

pub(super) async fn follow_up(
    State(state): State<AppState>,
    staff: Staff,
    Path(class): Path<String>,
) -> Response {
    let lang = staff.lang;
    let title = follow_up_title(lang);
    let found = match ClassName::parse(&class) {
        Ok(name) => state.sesame.follow_up(&staff.caller, &name).await,
        Err(_) => Err(Error::NotFound),
    };
    let f = match found {
        Ok(f) => f,
        Err(e) => return refused(&staff, "/console/follow-up", title, &e),
    };
    let undelivered = f.students.mail_not_delivered + f.parents.mail_not_delivered;
    let body = html! {
        div.card {
            h2 { (f.class) }
            (bar(lang, tr(lang, "Élèves", "Students"), &f.students))
            (bar(lang, tr(lang, "Responsables", "Parents"), &f.parents))
            (counts_table(lang, &f.students, &f.parents))
        }
        div.card {
            h2 { (tr(lang, "À relancer", "To chase")) " (" (f.to_chase.len()) ")" }
            @if !f.to_chase.is_empty() {
                form method="post" action={ "/console/follow-up/" (path_segment(&f.class)) "/send" } {
                    input type="hidden" name="csrf" value=(staff.session.csrf);
                    button #send-pending type="submit" { (tr(lang, "Envoyer l'activation à tous ceux qui attendent", "Send the activation to everyone still pending")) }
                }
                @if undelivered > 0 {
                    form method="post" action={ "/console/follow-up/" (path_segment(&f.class)) "/cards" } {
                        input type="hidden" name="csrf" value=(staff.session.csrf);
                        button #print-cards type="submit" { (tr(lang, "Imprimer les cartes de ces familles (courriel non remis)", "Print cards for these families (mail did not arrive)")) " (" (undelivered) ")" }
                    }
                }
                (scroll_table(lang, &[tr(lang, "Nom", "Name"), tr(lang, "Profil", "Profile"), tr(lang, "Courriel", "Email"), tr(lang, "Dernier secret", "Last secret")], html! {
                        @for c in &f.to_chase {
                            tr {
                                td { a href={ "/console/accounts/" (c.account_id) } { (c.last_name) " " (c.first_name) } }
                                td { (crate::export::labels::Labels::of(lang).profile(c.profile)) }
                                td { @match c.email_state {
                                    Some(s) if s.blocks_mail() => { span.state-undelivered { (tr(lang, "courriel non remis", "mail did not arrive")) } }
                                    Some(_) => { "✓" }
                                    None => { (tr(lang, "aucun", "none")) }
                                } }
                                td { @match c.secret {
                                    Some(s) => { span class={ "state-" (state_code(s)) } { (state_word(lang, s)) } }
                                    None => { (tr(lang, "jamais remis", "never handed out")) }
                                } }
                            }
                        }
                    }))
            }
        }
    };
    page(StatusCode::OK, staff.shell("/console/follow-up", title, body))
}

pub(super) async fn send_to_pending(State(state): State<AppState>, posted: PostedTo<ClassName>) -> Response {
    let PostedTo {
        staff, named: name, ..
    } = posted;
    let title = follow_up_title(staff.lang);
    if !staff.caller.may_follow(&name) {
        return refused(&staff, "/console/follow-up", title, &Error::NotFound);
    }
    // Teachers send to their students; administrators to students and parents.
    let profiles = if staff.caller.is_admin() {
        vec![Profile::Student, Profile::Parent]
    } else {
        vec![Profile::Student]
    };
    let selection = Selection {
        classes: vec![name],
        profiles,
        activation: Some(Activation::Pending),
        access: Some(crate::domain::Access::Enabled),
        ..Selection::default()
    };
    match state
        .sesame
        .queue_send_activation(&staff.caller, staff.request_id(), Scope::Filter(selection), false)
        .await
    {
        Ok(d) => Redirect::to(&format!("/console/distributions/{}", d.id)).into_response(),
        Err(e) => refused(&staff, "/console/follow-up", title, &e),
    }
}

/// "Print cards for these families": the activation cards (PDF) of the class's
/// pending accounts whose mail did not arrive, those the caller may hand a code
/// to (a teacher's: their pupils, not the parents).
pub(super) async fn cards(State(state): State<AppState>, posted: PostedTo<ClassName>) -> Response {
    let PostedTo {
        staff, named: name, ..
    } = posted;
    let title = follow_up_title(staff.lang);
    match state
        .sesame
        .cards_for_undelivered(&staff.caller, staff.request_id(), &name)
        .await
    {
        Ok(job) => Redirect::to(&format!("/console/exports/{}", job.id)).into_response(),
        Err(e) => refused(&staff, "/console/follow-up", title, &e),
    }
}
