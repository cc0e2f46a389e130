//! Writing articles: the editor (`/kb/new`, `/kb/articles/{id}/edit`) with language tabs
//! and a live preview (`POST /kb/preview`, the help center's own rendering), saving,
//! deleting, and turning an agent's reply on a ticket into a draft in one click.

use askama::Template;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use rapport_domain::kb::{ArticleBody, ArticleStatus, ArticleTitle, Locale, Slug, Visibility};
use rapport_domain::{AuthorKind, FieldError, Permission, Principal, Tag};
use rapport_http::AppState;
use rapport_http::api::kb::reindex;
use rapport_http::csp::HttpsImages;
use rapport_store::kb::{self, Article, ArticlePatch, NewArticle};
use rapport_store::{StoreError, messages, op, tickets};
use serde::Deserialize;

use crate::page::{MeView, error_page, page, require, store_error, write_then};
use crate::render::article_html;
use crate::sessions::{CsrfForm, Me};

/// What the editor shows: the article's properties and one language's text.
#[derive(Template)]
#[template(path = "kb/editor.html")]
struct EditorPage {
    me: MeView,
    /// `None` for a new article.
    id: Option<i64>,
    slug: String,
    locale: String,
    /// (tag, is the one shown, is the default).
    tabs: Vec<(String, bool, bool)>,
    new_translation: bool,
    title: String,
    body: String,
    status: String,
    visibility: String,
    category: String,
    section: String,
    tags: String,
    source_ticket_id: Option<i64>,
    categories: Vec<(String, String)>,
    statuses: &'static [ArticleStatus],
    visibilities: &'static [Visibility],
    preview: String,
    error: Option<String>,
    can_delete: bool,
}

/// The editor's form.
#[derive(Debug, Default, Deserialize)]
pub struct EditorForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    locale: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    slug: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    visibility: String,
    /// A category id, or empty for none.
    #[serde(default)]
    category: String,
    #[serde(default)]
    section: String,
    /// Comma-separated.
    #[serde(default)]
    tags: String,
    #[serde(default)]
    source_ticket_id: Option<i64>,
}

impl EditorForm {
    fn tags(&self) -> Result<Vec<Tag>, FieldError> {
        let raw: Vec<&str> = self
            .tags
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .collect();
        Tag::parse_list(&raw)
    }

    fn category(&self) -> Result<Option<i64>, FieldError> {
        match self.category.trim() {
            "" => Ok(None),
            s => s
                .parse()
                .map(Some)
                .map_err(|_| FieldError::new("category", "pick a category from the list")),
        }
    }

    fn new_article(&self) -> Result<NewArticle, FieldError> {
        Ok(NewArticle {
            title: ArticleTitle::parse(&self.title)?,
            body: ArticleBody::parse(&self.body)?,
            locale: if self.locale.trim().is_empty() {
                Locale::english()
            } else {
                Locale::parse(&self.locale)?
            },
            slug: match self.slug.trim() {
                "" => None,
                s => Some(Slug::parse(s)?),
            },
            status: ArticleStatus::parse(&self.status)?,
            visibility: Visibility::parse(&self.visibility)?,
            category_id: self.category()?,
            section: self.section.clone(),
            tags: self.tags()?,
            source_ticket_id: self.source_ticket_id,
            position: 0,
        })
    }

    fn patch(&self) -> Result<ArticlePatch, FieldError> {
        Ok(ArticlePatch {
            locale: Some(Locale::parse(&self.locale)?),
            title: Some(ArticleTitle::parse(&self.title)?),
            body: Some(ArticleBody::parse(&self.body)?),
            note: Some(self.note.clone()),
            slug: match self.slug.trim() {
                "" => None,
                s => Some(Slug::parse(s)?),
            },
            status: Some(ArticleStatus::parse(&self.status)?),
            visibility: Some(Visibility::parse(&self.visibility)?),
            category_id: Some(self.category()?),
            section: Some(self.section.clone()),
            tags: Some(self.tags()?),
            ..ArticlePatch::default()
        })
    }
}

/// Which language tab to show.
#[derive(Debug, Default, Deserialize)]
pub struct LangQuery {
    #[serde(default)]
    lang: String,
}

async fn categories(st: &AppState) -> Result<Vec<(String, String)>, StoreError> {
    let who = Principal::System;
    Ok(st
        .db
        .read(op!(c => kb::categories::list(c, Some(&who)).await))
        .await?
        .into_iter()
        .map(|k| (k.id.to_string(), k.name))
        .collect())
}

fn editor_for(
    me: &Me,
    a: Option<&Article>,
    f: &EditorForm,
    cats: Vec<(String, String)>,
    error: Option<String>,
) -> EditorPage {
    let locale = f.locale.clone();
    let mut tabs: Vec<(String, bool, bool)> = a
        .map(|a| {
            a.translations
                .iter()
                .map(|t| {
                    (
                        t.locale.to_string(),
                        t.locale.as_str() == locale,
                        t.locale == a.default_locale,
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let new_translation = a.is_some() && !tabs.iter().any(|t| t.1);
    if new_translation {
        tabs.push((locale.clone(), true, false));
    }
    EditorPage {
        me: MeView::of(me, ""),
        id: a.map(|a| a.id),
        slug: a.map_or_else(|| f.slug.clone(), |a| a.slug.clone()),
        locale,
        tabs,
        new_translation,
        preview: article_html(&f.body).html,
        title: f.title.clone(),
        body: f.body.clone(),
        status: f.status.clone(),
        visibility: f.visibility.clone(),
        category: f.category.clone(),
        section: f.section.clone(),
        tags: f.tags.clone(),
        source_ticket_id: f.source_ticket_id,
        categories: cats,
        statuses: ArticleStatus::ALL,
        visibilities: Visibility::ALL,
        error,
        can_delete: a.is_some() && me.session.viewer.can(Permission::ManageKb),
    }
}

/// The form's values for an article shown in `locale` (its default language when empty).
fn form_of(a: &Article, locale: &str) -> EditorForm {
    let locale = Locale::parse(locale).unwrap_or_else(|_| a.default_locale.clone());
    let t = a.translation(&locale);
    EditorForm {
        title: t.map(|t| t.title.clone()).unwrap_or_default(),
        body: t.map(|t| t.body.clone()).unwrap_or_default(),
        locale: locale.to_string(),
        note: String::new(),
        slug: a.slug.clone(),
        status: a.status.as_str().to_owned(),
        visibility: a.visibility.as_str().to_owned(),
        category: a
            .category
            .as_ref()
            .map(|k| k.id.to_string())
            .unwrap_or_default(),
        section: a.section.clone(),
        tags: a.tags.join(", "),
        source_ticket_id: a.source_ticket_id,
    }
}

fn invalid(e: &StoreError) -> Option<String> {
    match e {
        StoreError::Invalid(f) => Some(format!("{}: {}", f.field, f.message)),
        _ => None,
    }
}

/// `GET /kb/new`: an empty editor.
pub async fn new_form(State(st): State<AppState>, me: Me) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::WriteArticles) {
        return r;
    }
    let cats = match categories(&st).await {
        Ok(c) => c,
        Err(e) => return store_error(e),
    };
    let f = EditorForm {
        locale: "en".into(),
        status: "draft".into(),
        visibility: "public".into(),
        ..EditorForm::default()
    };
    editor_page(&editor_for(&me, None, &f, cats, None))
}

/// `POST /kb/new`: creates the article and opens it in the editor; bad input shows the
/// editor again with what was typed and what to fix (422).
pub async fn create(
    State(st): State<AppState>,
    me: Me,
    CsrfForm(f): CsrfForm<EditorForm>,
) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::WriteArticles) {
        return r;
    }
    let result = match f.new_article() {
        Ok(new) => {
            let (viewer, now) = (me.session.viewer.clone(), st.now());
            st.db
                .write(op!(c => kb::create(c, &viewer, new, now).await))
                .await
        }
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(a) => {
            reindex(&st, a.id).await;
            Redirect::to(&format!("/kb/articles/{}/edit", a.id)).into_response()
        }
        Err(e) => match invalid(&e) {
            Some(msg) => {
                let cats = categories(&st).await.unwrap_or_default();
                let mut r = editor_page(&editor_for(&me, None, &f, cats, Some(msg)));
                *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
                r
            }
            None => store_error(e),
        },
    }
}

/// `GET /kb/articles/{id}/edit?lang=`: the editor on one language (a language the
/// article has no text in yet starts a translation).
pub async fn edit_form(
    State(st): State<AppState>,
    me: Me,
    Path(id): Path<i64>,
    Query(q): Query<LangQuery>,
) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::WorkTickets) {
        return r;
    }
    let who = Principal::Agent(me.session.viewer.clone());
    let a = match st.db.read(op!(c => kb::get(c, Some(&who), id).await)).await {
        Ok(a) => a,
        Err(e) => return store_error(e),
    };
    if !q.lang.trim().is_empty() && Locale::parse(&q.lang).is_err() {
        return error_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Please check your input",
            "That is not a language tag (en, de, pt-br).",
        );
    }
    let cats = match categories(&st).await {
        Ok(c) => c,
        Err(e) => return store_error(e),
    };
    let f = form_of(&a, &q.lang);
    editor_page(&editor_for(&me, Some(&a), &f, cats, None))
}

/// `POST /kb/articles/{id}/edit`: saves the properties and the shown language's text (a
/// new version when it changed).
pub async fn save(
    State(st): State<AppState>,
    me: Me,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<EditorForm>,
) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::WriteArticles) {
        return r;
    }
    let result = match f.patch() {
        Ok(p) => {
            let (viewer, now) = (me.session.viewer.clone(), st.now());
            st.db
                .write(op!(c => kb::update(c, &viewer, id, p, now).await))
                .await
        }
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(a) => {
            reindex(&st, a.id).await;
            Redirect::to(&format!(
                "/kb/articles/{}/edit?lang={}",
                a.id,
                percent_encoding::utf8_percent_encode(
                    &f.locale,
                    percent_encoding::NON_ALPHANUMERIC
                )
            ))
            .into_response()
        }
        Err(e) => match invalid(&e) {
            Some(msg) => {
                let who = Principal::Agent(me.session.viewer.clone());
                let a = match st.db.read(op!(c => kb::get(c, Some(&who), id).await)).await {
                    Ok(a) => a,
                    Err(e) => return store_error(e),
                };
                let cats = categories(&st).await.unwrap_or_default();
                let mut r = editor_page(&editor_for(&me, Some(&a), &f, cats, Some(msg)));
                *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
                r
            }
            None => store_error(e),
        },
    }
}

/// `POST /kb/articles/{id}/delete` (supervisors and admins).
pub async fn delete(
    State(st): State<AppState>,
    me: Me,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<serde_json::Value>,
) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::ManageKb) {
        return r;
    }
    let (viewer, now) = (me.session.viewer.clone(), st.now());
    match st
        .db
        .write(op!(c => kb::delete(c, &viewer, id, now).await))
        .await
    {
        Ok(()) => {
            reindex(&st, id).await;
            Redirect::to("/kb").into_response()
        }
        Err(e) => store_error(e),
    }
}

/// The editor's page. Its preview shows the article as the help center will, https
/// images included, so it carries the article page's policy ([`HttpsImages`]).
fn editor_page(t: &EditorPage) -> Response {
    let mut r = page(t);
    r.extensions_mut().insert(HttpsImages);
    r
}

/// The preview's form.
#[derive(Debug, Deserialize)]
pub struct PreviewForm {
    #[serde(default)]
    body: String,
}

/// `POST /kb/preview`: the markdown rendered exactly as the help center will show it,
/// as JSON `{"html", "toc": [{"anchor", "heading", "level"}]}`.
pub async fn preview(me: Me, CsrfForm(f): CsrfForm<PreviewForm>) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::WorkTickets) {
        return r;
    }
    if let Err(e) = ArticleBody::parse(&f.body) {
        return rapport_http::ApiError::from(e).into_response();
    }
    let a = article_html(&f.body);
    let toc: Vec<serde_json::Value> = a
        .toc
        .iter()
        .map(|s| serde_json::json!({"anchor": s.anchor, "heading": s.heading, "level": s.level}))
        .collect();
    Json(serde_json::json!({"html": a.html, "toc": toc})).into_response()
}

/// The "Make article" form on an agent's reply.
#[derive(Debug, Deserialize)]
pub struct FromReplyForm {
    ticket: i64,
    message: i64,
}

/// `POST /kb/from-reply`: turns an agent's public reply into a draft article — the title
/// from the ticket's subject, the body from the reply, the ticket as its source — and
/// opens it in the editor.
pub async fn from_reply(
    State(st): State<AppState>,
    me: Me,
    CsrfForm(f): CsrfForm<FromReplyForm>,
) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::WriteArticles) {
        return r;
    }
    let (viewer, now) = (me.session.viewer.clone(), st.now());
    let (ticket_id, message_id) = (f.ticket, f.message);
    write_then(
        &st,
        op!(c => {
            let who = Principal::Agent(viewer.clone());
            let t = tickets::get(c, &who, ticket_id).await?;
            let m = messages::for_ticket(c, &who, ticket_id)
                .await?
                .into_iter()
                .find(|m| m.id == message_id && m.author.kind == AuthorKind::Agent && !m.internal)
                .ok_or(StoreError::NotFound("reply"))?;
            let title: String = t.subject.chars().take(200).collect();
            let title = ArticleTitle::parse(&title)
                .or_else(|_| ArticleTitle::parse(&format!("Answer to ticket #{}", t.number)))?;
            let mut new = NewArticle::draft(title, ArticleBody::parse(&m.body)?);
            new.source_ticket_id = Some(t.id);
            new.visibility = Visibility::Public;
            kb::create(c, &viewer, new, now).await
        }),
        |a| Redirect::to(&format!("/kb/articles/{}/edit", a.id)).into_response(),
    )
    .await
}
