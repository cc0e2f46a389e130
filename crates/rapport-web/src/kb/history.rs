//! An article's history in the workspace: every version of one language, what a version
//! changed (a line diff against the one before it, by the `similar` crate), and restoring
//! an old version as the newest.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use rapport_domain::kb::Locale;
use rapport_domain::{Permission, Principal};
use rapport_http::AppState;
use rapport_store::kb::{self, Version};
use rapport_store::{StoreError, op, people};
use serde::Deserialize;
use similar::{ChangeTag, TextDiff};

use crate::page::{MeView, page, require, store_error};
use crate::render::when;
use crate::sessions::{CsrfForm, Me};

/// One line of a diff: `ins`, `del` or `same`, and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffLine {
    /// `ins`, `del` or `same`.
    pub kind: &'static str,
    /// The line, without its line break.
    pub text: String,
}

/// The lines of `new` against `old`: unchanged lines, lines removed and lines added, in
/// order.
pub fn diff_lines(old: &str, new: &str) -> Vec<DiffLine> {
    TextDiff::from_lines(old, new)
        .iter_all_changes()
        .map(|c| DiffLine {
            kind: match c.tag() {
                ChangeTag::Equal => "same",
                ChangeTag::Delete => "del",
                ChangeTag::Insert => "ins",
            },
            text: c.value().trim_end_matches(['\n', '\r']).to_owned(),
        })
        .collect()
}

/// A version in the list.
pub struct VersionRow {
    version: i64,
    title: String,
    note: String,
    author: String,
    at: String,
    at_iso: String,
    shown: bool,
}

#[derive(Template)]
#[template(path = "kb/history.html")]
struct HistoryPage {
    me: MeView,
    id: i64,
    title: String,
    locale: String,
    locales: Vec<String>,
    rows: Vec<VersionRow>,
    shown: i64,
    latest: i64,
    title_change: Option<(String, String)>,
    diff: Vec<DiffLine>,
}

/// Which language and version to show.
#[derive(Debug, Default, Deserialize)]
pub struct HistoryQuery {
    #[serde(default)]
    lang: String,
    #[serde(default)]
    v: Option<i64>,
}

/// `GET /kb/articles/{id}/history?lang=&v=`: the versions of one language, and what
/// version `v` (default: the newest) changed.
pub async fn history(
    State(st): State<AppState>,
    me: Me,
    Path(id): Path<i64>,
    Query(q): Query<HistoryQuery>,
) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::WorkTickets) {
        return r;
    }
    let viewer = me.session.viewer.clone();
    let lang = q.lang.clone();
    let want = q.v;
    let read = st
        .db
        .read(op!(c => {
            let who = Principal::Agent(viewer.clone());
            let a = kb::get(c, Some(&who), id).await?;
            let locale = Locale::parse(&lang).unwrap_or_else(|_| a.default_locale.clone());
            let list = kb::versions::list(c, &viewer, id, Some(&locale)).await?;
            let latest = list.first().map_or(0, |v| v.version);
            let shown = want.unwrap_or(latest);
            let (this, before): (Option<Version>, Option<Version>) = if list.is_empty() {
                (None, None)
            } else {
                let this = kb::versions::get(c, &viewer, id, &locale, shown).await?;
                let prev = list.iter().find(|v| v.version < shown).map(|v| v.version);
                let before = match prev {
                    Some(p) => Some(kb::versions::get(c, &viewer, id, &locale, p).await?),
                    None => None,
                };
                (Some(this), before)
            };
            let users = people::list_users(c).await?;
            let zone = people::time_zone(c, viewer.user_id).await?;
            Ok((a, locale, list, latest, shown, this, before, users, zone))
        }))
        .await;
    let (a, locale, list, latest, shown, this, before, users, zone) = match read {
        Ok(v) => v,
        Err(e) => return store_error(e),
    };
    let name = |id: Option<i64>| {
        id.and_then(|id| users.iter().find(|u| u.id == id))
            .map_or_else(|| "Rapport".to_owned(), |u| u.name.clone())
    };
    let rows = list
        .iter()
        .map(|v| {
            let (at, at_iso) = when(v.created_at, &zone);
            VersionRow {
                version: v.version,
                title: v.title.clone(),
                note: v.note.clone(),
                author: name(v.author_id),
                at,
                at_iso,
                shown: v.version == shown,
            }
        })
        .collect();
    let (diff, title_change) = match &this {
        Some(v) => {
            let (old_title, old_body) = before
                .as_ref()
                .map(|b| (b.summary.title.as_str(), b.body.as_str()))
                .unwrap_or(("", ""));
            let title_change = (old_title != v.summary.title)
                .then(|| (old_title.to_owned(), v.summary.title.clone()));
            (diff_lines(old_body, &v.body), title_change)
        }
        None => (Vec::new(), None),
    };
    page(&HistoryPage {
        me: MeView::of(&me, ""),
        id: a.id,
        title: a.title().to_owned(),
        locales: a.locales().iter().map(ToString::to_string).collect(),
        locale: locale.to_string(),
        rows,
        shown,
        latest,
        title_change,
        diff,
    })
}

/// The restore form.
#[derive(Debug, Deserialize)]
pub struct RestoreForm {
    locale: String,
    version: i64,
}

/// `POST /kb/articles/{id}/restore`: makes an old version's text the newest again.
pub async fn restore(
    State(st): State<AppState>,
    me: Me,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<RestoreForm>,
) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::WriteArticles) {
        return r;
    }
    let locale = match Locale::parse(&f.locale) {
        Ok(l) => l,
        Err(e) => return store_error(StoreError::Invalid(e)),
    };
    let (viewer, now, n) = (me.session.viewer.clone(), st.now(), f.version);
    let back = format!("/kb/articles/{id}/history?lang={locale}");
    match st
        .db
        .write(op!(c => kb::versions::restore(c, &viewer, id, &locale, n, now).await))
        .await
    {
        Ok(_) => {
            rapport_http::api::kb::reindex(&st, id).await;
            Redirect::to(&back).into_response()
        }
        Err(e) => store_error(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diffs_mark_removed_and_added_lines() {
        let d = diff_lines("one\ntwo\nthree\n", "one\n2\nthree\nfour");
        let got: Vec<(&str, &str)> = d.iter().map(|l| (l.kind, l.text.as_str())).collect();
        assert_eq!(
            got,
            [
                ("same", "one"),
                ("del", "two"),
                ("ins", "2"),
                ("same", "three"),
                ("ins", "four"),
            ]
        );
        assert!(diff_lines("same", "same").iter().all(|l| l.kind == "same"));
    }
}
