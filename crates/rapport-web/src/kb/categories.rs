//! `/kb/categories`: the knowledge base's categories in the workspace, for supervisors
//! and admins (`Permission::ManageKb`, as the API's `/api/v1/kb/categories`): every
//! category with its article count, a form per category to rename it, change its slug,
//! description or position (the help center's order), and to delete it — refused, with
//! the reason on the page, while it still holds articles — and a form for a new one.
//! Bad input shows the page again (422) with what was typed and what to fix.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use rapport_domain::kb::Slug;
use rapport_domain::{FieldError, Permission, Principal};
use rapport_http::AppState;
use rapport_http::api::kb::categories::reindex_category;
use rapport_store::kb::{self, Category, CategoryPatch, NewCategory};
use rapport_store::{StoreError, op};
use serde::Deserialize;

use crate::page::{MeView, page, require, store_error};
use crate::sessions::{CsrfForm, Me};

/// One category's form.
pub struct CategoryRow {
    id: i64,
    name: String,
    slug: String,
    description: String,
    position: String,
    articles: i64,
}

#[derive(Template)]
#[template(path = "kb/categories.html")]
struct CategoriesPage {
    me: MeView,
    rows: Vec<CategoryRow>,
    /// The new category's form, as typed.
    new: CategoryForm,
    error: Option<String>,
}

/// A category's fields, as typed.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct CategoryForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    slug: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    position: String,
}

impl CategoryForm {
    /// The position typed, if any; `None` when left empty.
    fn position(&self) -> Result<Option<i64>, FieldError> {
        match self.position.trim() {
            "" => Ok(None),
            p => p
                .parse()
                .map(Some)
                .map_err(|_| FieldError::new("position", "must be a whole number")),
        }
    }

    /// The slug typed, if any.
    fn slug(&self) -> Result<Option<Slug>, FieldError> {
        match self.slug.trim() {
            "" => Ok(None),
            s => Slug::parse(s).map(Some),
        }
    }

    /// The slug and the position typed, if any.
    fn parsed(&self) -> Result<(Option<Slug>, Option<i64>), FieldError> {
        Ok((self.slug()?, self.position()?))
    }
}

/// A refusal worth showing beside the form: a field to fix, or a conflict (a taken
/// slug, a category still holding articles).
fn refusal(e: &StoreError) -> Option<(StatusCode, String)> {
    match e {
        StoreError::Invalid(f) => Some((
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("{}: {}", f.field, f.message),
        )),
        StoreError::Conflict(m) => Some((StatusCode::CONFLICT, m.clone())),
        _ => None,
    }
}

async fn read_all(st: &AppState) -> Result<Vec<Category>, StoreError> {
    let who = Principal::System;
    st.db
        .read(op!(c => kb::categories::list(c, Some(&who)).await))
        .await
}

fn row_of(k: Category) -> CategoryRow {
    CategoryRow {
        id: k.id,
        name: k.name,
        slug: k.slug,
        description: k.description,
        position: k.position.to_string(),
        articles: k.articles,
    }
}

/// The page, with `error` shown (and `status`) and, when one form was refused, what was
/// typed in it: `Some(id)` a category's, `None` the new one's.
async fn show(
    st: &AppState,
    me: &Me,
    refused: Option<(Option<i64>, &CategoryForm)>,
    error: Option<(StatusCode, String)>,
) -> Response {
    let all = match read_all(st).await {
        Ok(all) => all,
        Err(e) => return store_error(e),
    };
    let mut new = CategoryForm::default();
    let rows = all
        .into_iter()
        .map(|k| {
            let mut row = row_of(k);
            if let Some((Some(id), f)) = refused
                && id == row.id
            {
                row.name.clone_from(&f.name);
                row.slug.clone_from(&f.slug);
                row.description.clone_from(&f.description);
                row.position.clone_from(&f.position);
            }
            row
        })
        .collect();
    if let Some((None, f)) = refused {
        new = f.clone();
    }
    let (status, error) = match error {
        Some((s, m)) => (s, Some(m)),
        None => (StatusCode::OK, None),
    };
    let mut r = page(&CategoriesPage {
        me: MeView::of(me, ""),
        rows,
        new,
        error,
    });
    *r.status_mut() = status;
    r
}

/// After a write: back to the list, or the page again with the refusal.
async fn then(
    st: &AppState,
    me: &Me,
    form: Option<(Option<i64>, &CategoryForm)>,
    result: Result<(), StoreError>,
) -> Response {
    match result {
        Ok(()) => Redirect::to("/kb/categories").into_response(),
        Err(e) => match refusal(&e) {
            Some(why) => show(st, me, form, Some(why)).await,
            None => store_error(e),
        },
    }
}

/// `GET /kb/categories`.
pub async fn list(State(st): State<AppState>, me: Me) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::ManageKb) {
        return r;
    }
    show(&st, &me, None, None).await
}

/// `POST /kb/categories`: a new category — the slug made from the name when left empty,
/// placed last when no position is given.
pub async fn create(
    State(st): State<AppState>,
    me: Me,
    CsrfForm(f): CsrfForm<CategoryForm>,
) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::ManageKb) {
        return r;
    }
    let result = match f.parsed() {
        Ok((slug, position)) => {
            let slug = slug.unwrap_or_else(|| Slug::from_title(&f.name));
            let (viewer, now) = (me.session.viewer.clone(), st.now());
            let (name, description) = (f.name.clone(), f.description.clone());
            st.db
                .write(op!(c => {
                    let position = match position {
                        Some(p) => p,
                        None => kb::categories::list(c, Some(&Principal::System))
                            .await?
                            .iter()
                            .map(|k| k.position + 1)
                            .max()
                            .unwrap_or(0),
                    };
                    let new = NewCategory { slug, name, description, position };
                    kb::categories::create(c, &viewer, new, now).await.map(|_| ())
                }))
                .await
        }
        Err(e) => Err(e.into()),
    };
    then(&st, &me, Some((None, &f)), result).await
}

/// `POST /kb/categories/{id}`: renames, re-slugs, describes or moves a category. Its
/// articles are re-indexed at once when its name or slug changed.
pub async fn save(
    State(st): State<AppState>,
    me: Me,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<CategoryForm>,
) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::ManageKb) {
        return r;
    }
    let result = match f.parsed() {
        Ok((slug, position)) => {
            let patch = CategoryPatch {
                slug,
                name: Some(f.name.clone()),
                description: Some(f.description.clone()),
                position,
            };
            let (viewer, now) = (me.session.viewer.clone(), st.now());
            let saved = st
                .db
                .write(op!(c => {
                    let old = kb::categories::get(c, Some(&Principal::System), id).await?;
                    let new = kb::categories::update(c, &viewer, id, patch, now).await?;
                    Ok(old.name != new.name || old.slug != new.slug)
                }))
                .await;
            match saved {
                Ok(renamed) => {
                    if renamed {
                        reindex_category(&st, id).await;
                    }
                    Ok(())
                }
                Err(e) => Err(e),
            }
        }
        Err(e) => Err(e.into()),
    };
    then(&st, &me, Some((Some(id), &f)), result).await
}

/// `POST /kb/categories/{id}/delete`: deletes an empty category; one still holding
/// articles stays, and the page says so (409).
pub async fn delete(
    State(st): State<AppState>,
    me: Me,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<serde_json::Value>,
) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::ManageKb) {
        return r;
    }
    let viewer = me.session.viewer.clone();
    let result = st
        .db
        .write(op!(c => {
            let k = kb::categories::get(c, Some(&Principal::System), id).await?;
            kb::categories::delete(c, &viewer, id).await.map_err(|e| match e {
                StoreError::Conflict(m) => StoreError::Conflict(format!("“{}” was not deleted: {m}", k.name)),
                e => e,
            })
        }))
        .await;
    then(&st, &me, None, result).await
}
