//! A survey's public page (`/survey/{token}`), where the links of a survey email land:
//! the rating the link carried is chosen, nothing is recorded until the customer sends the
//! form — a mail scanner that opens every link records nothing — and the answer may be
//! changed later from the same link. CES and a comment are asked on the same page. The
//! token is the survey's id signed with the server's key (`surveys::link_token`); forms
//! carry the public pages' CSRF token and count against the address's allowance. The
//! opt-out page stops every survey to the customer.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use rapport_domain::survey::wording::{Wording, wording};
use rapport_domain::survey::{Question, SurveyKind};
use rapport_http::AppState;
use rapport_http::client::ClientIp;
use rapport_store::surveys::{self, Answer, Survey};
use rapport_store::{StoreError, op};
use serde::Deserialize;

use crate::page::{error_page, page};
use crate::portal::{csrf_token, refuse_post, with_csrf};

/// One choice of a rating scale.
struct Choice {
    value: i64,
    /// Its words for screen readers and everyone: "1 — very dissatisfied".
    label: String,
    checked: bool,
}

/// A question with its choices.
struct Scale {
    name: &'static str,
    question: String,
    choices: Vec<Choice>,
    required: bool,
}

#[derive(Template)]
#[template(path = "survey.html")]
struct SurveyPage {
    w: &'static Wording,
    token: String,
    csrf: String,
    scales: Vec<Scale>,
    comment: String,
    recorded: bool,
    error: Option<String>,
    /// Whether the page offers the opt-out (not for a chat's survey: see [`opt_out`]).
    may_opt_out: bool,
}

#[derive(Template)]
#[template(path = "survey_opt_out.html")]
struct OptOutPage {
    w: &'static Wording,
    token: String,
    csrf: String,
    done: bool,
}

/// What a link may carry: the rating it stands for, and `done` after an answer.
#[derive(Deserialize, Default)]
pub struct LinkQuery {
    csat: Option<String>,
    ces: Option<String>,
    nps: Option<String>,
    done: Option<String>,
}

fn not_found() -> Response {
    error_page(
        StatusCode::NOT_FOUND,
        "Survey not found",
        "This survey link is not valid. Check that it was copied whole.",
    )
}

/// The survey a token names, or the response to give instead.
async fn survey_of(st: &AppState, token: &str) -> Result<Survey, Response> {
    let Some(id) = surveys::token_survey(&st.sealer, token) else {
        return Err(not_found());
    };
    match st.db.read(op!(c => surveys::get(c, id).await)).await {
        Ok(s) => Ok(s),
        Err(StoreError::NotFound(_)) => Err(not_found()),
        Err(e) => Err(crate::page::store_error(e)),
    }
}

fn scale(q: Question, w: &Wording, brand: &str, chosen: Option<i64>, required: bool) -> Scale {
    let (question, ends) = match q {
        Question::Csat => (w.csat_question.to_owned(), w.csat_ends),
        Question::Ces => (w.ces_question.to_owned(), w.ces_ends),
        Question::Nps => (w.nps_question.replace("{brand}", brand), w.nps_ends),
    };
    let (lo, hi) = q.range();
    Scale {
        name: q.as_str(),
        question,
        choices: (lo..=hi)
            .map(|n| Choice {
                value: n,
                label: if n == lo {
                    format!("{n} — {}", ends.0)
                } else if n == hi {
                    format!("{n} — {}", ends.1)
                } else {
                    n.to_string()
                },
                checked: chosen == Some(n),
            })
            .collect(),
        required,
    }
}

/// A rating given in a link or a form, if it is a whole number on the question's scale.
fn rating(q: Question, raw: Option<&str>) -> Option<i64> {
    let n: i64 = raw?.trim().parse().ok()?;
    q.rating(n, q.as_str()).ok()
}

#[expect(clippy::too_many_arguments, reason = "the page's parts")]
async fn render(
    st: &AppState,
    headers: &HeaderMap,
    token: &str,
    s: &Survey,
    chosen: (Option<i64>, Option<i64>, Option<i64>),
    comment: Option<String>,
    recorded: bool,
    error: Option<String>,
) -> Response {
    let w = wording(Some(&s.lang));
    let brand = st
        .db
        .read(op!(c => rapport_store::settings::branding(c).await))
        .await
        .map(|b| b.name)
        .unwrap_or_default();
    let scales = match s.kind {
        SurveyKind::Ticket => vec![
            scale(Question::Csat, w, &brand, chosen.0.or(s.csat), true),
            scale(Question::Ces, w, &brand, chosen.1.or(s.ces), false),
        ],
        SurveyKind::Nps => vec![scale(Question::Nps, w, &brand, chosen.2.or(s.nps), true)],
    };
    let csrf = csrf_token(st, headers);
    let mut r = page(&SurveyPage {
        w,
        token: token.to_owned(),
        csrf: csrf.clone(),
        scales,
        comment: comment.or_else(|| s.comment.clone()).unwrap_or_default(),
        recorded,
        error: error.clone(),
        may_opt_out: may_opt_out(s),
    });
    if error.is_some() {
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    with_csrf(st, r, &csrf)
}

/// The survey page, with the rating a link carried chosen (nothing is recorded).
pub async fn show(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
    Query(q): Query<LinkQuery>,
) -> Response {
    let s = match survey_of(&st, &token).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let chosen = (
        rating(Question::Csat, q.csat.as_deref()),
        rating(Question::Ces, q.ces.as_deref()),
        rating(Question::Nps, q.nps.as_deref()),
    );
    let done = q.done.is_some() && s.answered_at.is_some();
    render(&st, &headers, &token, &s, chosen, None, done, None).await
}

/// The survey form.
#[derive(Deserialize)]
pub struct AnswerForm {
    csrf: String,
    csat: Option<String>,
    ces: Option<String>,
    nps: Option<String>,
    comment: Option<String>,
}

/// A whole number from a form field (blank: none); anything else names the field.
fn number(field: &str, raw: Option<&str>) -> Result<Option<i64>, rapport_domain::FieldError> {
    match raw.map(str::trim).filter(|r| !r.is_empty()) {
        None => Ok(None),
        Some(r) => r
            .parse()
            .map(Some)
            .map_err(|_| rapport_domain::FieldError::new(field, "must be a whole number")),
    }
}

/// Records the answer (or the change of it), then shows the page again with thanks.
pub async fn answer(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Path(token): Path<String>,
    Form(f): Form<AnswerForm>,
) -> Response {
    if let Some(r) = refuse_post(&st, &headers, &f.csrf, ip) {
        return r;
    }
    st.portal_posts.fail(ip);
    let s = match survey_of(&st, &token).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let parsed = (|| {
        Ok::<_, rapport_domain::FieldError>(Answer {
            csat: number("csat", f.csat.as_deref())?,
            ces: number("ces", f.ces.as_deref())?,
            nps: number("nps", f.nps.as_deref())?,
            comment: Some(f.comment.clone().unwrap_or_default()),
        })
    })();
    let result = match parsed {
        Ok(a) => {
            let now = st.now();
            let id = s.id;
            st.db
                .write(op!(c => surveys::answer(c, id, a, now).await))
                .await
        }
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(_) => Redirect::to(&format!("/survey/{token}?done=1")).into_response(),
        Err(StoreError::Invalid(e)) => {
            let chosen = (
                rating(Question::Csat, f.csat.as_deref()),
                rating(Question::Ces, f.ces.as_deref()),
                rating(Question::Nps, f.nps.as_deref()),
            );
            let msg = format!("Please check the {}: {}", e.field, e.message);
            render(
                &st,
                &headers,
                &token,
                &s,
                chosen,
                f.comment,
                false,
                Some(msg),
            )
            .await
        }
        Err(e) => crate::page::store_error(e),
    }
}

/// The opt-out page: a button that stops every survey.
pub async fn opt_out_form(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Response {
    let s = match survey_of(&st, &token).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if !may_opt_out(&s) {
        return crate::page::error_page(
            StatusCode::FORBIDDEN,
            "Not from this link",
            "A chat's survey link rates that chat only. To stop surveys, use the link in a survey email or ask the support team.",
        );
    }
    let csrf = csrf_token(&st, &headers);
    let r = page(&OptOutPage {
        w: wording(Some(&s.lang)),
        token,
        csrf: csrf.clone(),
        done: false,
    });
    with_csrf(&st, r, &csrf)
}

/// The opt-out form.
#[derive(Deserialize)]
pub struct OptOutForm {
    csrf: String,
}

/// Whether a survey's link may stop every survey to its customer. A chat's survey link
/// goes to whoever held the conversation, and a visitor may have typed somebody else's
/// address into the chat (which files the conversation under that customer without proof):
/// its link rates that chat only. Email links reach the address's mailbox; portal ones a
/// signed-in customer.
fn may_opt_out(s: &surveys::Survey) -> bool {
    s.channel != rapport_domain::Channel::Chat.as_str()
}

/// Stops every survey to the survey's customer.
pub async fn opt_out(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Path(token): Path<String>,
    Form(f): Form<OptOutForm>,
) -> Response {
    if let Some(r) = refuse_post(&st, &headers, &f.csrf, ip) {
        return r;
    }
    st.portal_posts.fail(ip);
    let s = match survey_of(&st, &token).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if !may_opt_out(&s) {
        return crate::page::error_page(
            StatusCode::FORBIDDEN,
            "Not from this link",
            "A chat's survey link rates that chat only. To stop surveys, use the link in a survey email or ask the support team.",
        );
    }
    let customer = s.customer_id;
    if let Err(e) = st
        .db
        .write(op!(c => surveys::set_opt_out(c, customer, true).await))
        .await
    {
        return crate::page::store_error(e);
    }
    page(&OptOutPage {
        w: wording(Some(&s.lang)),
        token,
        csrf: String::new(),
        done: true,
    })
}
