//! The classifier's admin page (`/admin/classifier`, supervisors): what it has learned
//! (examples per category, vocabulary, last rebuild), the confidence a category needs to
//! be set on its own, and "Rebuild now".

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use rapport_domain::Permission;
use rapport_http::AppState;
use rapport_store::{classify, op};
use serde::Deserialize;

use super::Done;
use crate::page::{MeView, page, require, store_error, write_then};
use crate::sessions::{CsrfForm, Me, NoFields};

#[derive(Template)]
#[template(path = "admin_classifier.html")]
struct ClassifierPage {
    me: MeView,
    notice: Option<String>,
    examples: Vec<(String, i64)>,
    vocabulary: i64,
    threshold_percent: i64,
    retrained: String,
}

fn back(what: &str) -> Response {
    let q: String = form_urlencoded::byte_serialize(what.as_bytes()).collect();
    Redirect::to(&format!("/admin/classifier?done={q}")).into_response()
}

/// The classifier page.
pub async fn index(State(st): State<AppState>, me: Me, Query(q): Query<Done>) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::ManageCategories) {
        return r;
    }
    let report = match st.db.read(op!(c => classify::report(c).await)).await {
        Ok(r) => r,
        Err(e) => return store_error(e),
    };
    page(&ClassifierPage {
        me: MeView::of(&me, ""),
        notice: q.done,
        examples: report.examples,
        vocabulary: report.vocabulary,
        threshold_percent: (report.threshold_permille + 5) / 10,
        retrained: report.retrained_at.map_or_else(
            || "not yet".to_owned(),
            |t| t.to_datetime().format("%Y-%m-%d %H:%M UTC").to_string(),
        ),
    })
}

/// The threshold form, in percent.
#[derive(Deserialize)]
pub struct ThresholdForm {
    threshold_percent: String,
}

/// Sets the confidence a category needs to be set on its own.
pub async fn set_threshold(
    State(st): State<AppState>,
    me: Me,
    CsrfForm(f): CsrfForm<ThresholdForm>,
) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::ManageCategories) {
        return r;
    }
    let percent = match f.threshold_percent.trim().parse::<f64>() {
        Ok(p) if (1.0..=100.0).contains(&p) => p,
        _ => {
            return store_error(
                rapport_domain::FieldError::new(
                    "threshold_percent",
                    "a whole percentage from 1 to 100 (60 means 60% sure)",
                )
                .into(),
            );
        }
    };
    let t = percent / 100.0;
    write_then(&st, op!(c => classify::set_threshold(c, t).await), |()| {
        back("Saved the threshold")
    })
    .await
}

/// Rebuilds the counts from the examples now.
pub async fn retrain(
    State(st): State<AppState>,
    me: Me,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::ManageCategories) {
        return r;
    }
    let now = st.now();
    write_then(&st, op!(c => classify::retrain(c, now).await), |n| {
        back(&format!("Rebuilt from {n} examples"))
    })
    .await
}
