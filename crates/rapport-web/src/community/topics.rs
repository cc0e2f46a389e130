//! The topic list (with search and the "ask a question" form) and a topic's page.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use rapport_domain::FieldError;
use rapport_domain::community::{PostBody, PostState, TopicTitle};
use rapport_http::AppState;
use rapport_http::api::community::find::{Find, find_topics, reindex_topic};
use rapport_http::api::kb::search::{Found, record_search};
use rapport_http::client::ClientIp;
use rapport_http::visitor::{Visitor, ensure_cookie};
use rapport_store::community::list::TopicSort;
use rapport_store::community::topics::{self as store, NewTopic};
use rapport_store::community::{Post, Posted, Topic, posts};
use rapport_store::kb::searches::Source;
use rapport_store::op;
use serde::Deserialize;

use super::{Reader, post_html, shown_time, signin_link, too_many_posts};
use crate::page::{page, store_error};
use crate::sessions::Me;

/// A topic in the list.
pub(crate) struct TopicRow {
    pub id: i64,
    pub title: String,
    pub author: String,
    pub agent: bool,
    pub answers: i64,
    pub votes: i64,
    pub answered: bool,
    pub state: &'static str,
    pub at: String,
    pub at_iso: String,
}

impl From<&Topic> for TopicRow {
    fn from(t: &Topic) -> Self {
        let (at, at_iso) = shown_time(t.created_at);
        Self {
            id: t.id,
            title: t.title.clone(),
            author: t.author.name.clone(),
            agent: t.author.is_agent(),
            answers: t.answers,
            votes: t.votes,
            answered: t.accepted_post_id.is_some(),
            state: state_words(t.state),
            at,
            at_iso,
        }
    }
}

/// How a state reads ("" when shown).
pub(crate) fn state_words(s: PostState) -> &'static str {
    match s {
        PostState::Visible => "",
        PostState::Held => "awaiting review",
        PostState::Hidden => "hidden",
        PostState::Spam => "spam",
    }
}

#[derive(Template)]
#[template(path = "community_list.html")]
struct ListPage {
    csrf: String,
    signed_in: bool,
    agent: bool,
    /// The portal's sign-in, coming back here.
    signin: String,
    query: String,
    sort: &'static str,
    /// (link, label, current).
    tabs: Vec<(String, &'static str, bool)>,
    topics: Vec<TopicRow>,
    /// The next and previous pages' links.
    next: Option<String>,
    prev: Option<String>,
    title: String,
    body: String,
    error: Option<String>,
}

/// Topics on a page of the list.
const PAGE: usize = 30;

/// The list's query.
#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    sort: String,
    /// Where the page starts (from a "Next page" or "Previous page" link).
    #[serde(default)]
    cursor: String,
}

/// The list's address for `sort` and `query`, with `cursor` when given.
fn list_href(sort: TopicSort, query: &str, cursor: Option<&str>) -> String {
    let mut href = format!("/community?sort={}", sort.as_str());
    if !query.is_empty() {
        href.push_str("&q=");
        href.extend(form_urlencoded::byte_serialize(query.as_bytes()));
    }
    if let Some(c) = cursor {
        href.push_str("&cursor=");
        href.push_str(c);
    }
    href
}

async fn render_list(
    st: &AppState,
    headers: &HeaderMap,
    visitor: Option<&Visitor>,
    reader: &Reader,
    q: ListQuery,
    form: (String, String, Option<String>),
    status: axum::http::StatusCode,
) -> Response {
    let sort = TopicSort::parse(&q.sort);
    let query: String = q.q.trim().chars().take(200).collect();
    let first_page = q.cursor.is_empty();
    let f = Find {
        query: query.clone(),
        sort,
        limit: PAGE,
        cursor: Some(q.cursor),
    };
    let who = reader.principal();
    let found = match find_topics(st, who.as_ref(), &f).await {
        Ok(t) => t,
        Err(e) => return store_error(e),
    };
    // A search's first page goes to the search log, so the content-gap report sees
    // what people looked for in the forum and did not find.
    if let Some(visitor) = visitor
        && !query.is_empty()
        && first_page
    {
        let seen = Found {
            hits: found.topics.len(),
            confident: !found.topics.is_empty(),
            top_article_id: None,
        };
        record_search(st, &query, Source::Community, &seen, who.as_ref(), visitor);
    }
    let tabs = [
        (
            TopicSort::Newest,
            if query.is_empty() {
                "Newest"
            } else {
                "Best match"
            },
        ),
        (TopicSort::Unanswered, "Unanswered"),
        (TopicSort::Votes, "Most voted"),
    ]
    .into_iter()
    .map(|(k, label)| (list_href(k, &query, None), label, k == sort))
    .collect();
    let page_href =
        |c: rapport_store::community::list::Cursor| list_href(sort, &query, Some(&c.encode(sort)));
    let csrf = reader.csrf(st, headers);
    let mut r = page(&ListPage {
        csrf: csrf.clone(),
        signed_in: !matches!(reader, Reader::Anonymous),
        agent: reader.is_agent(),
        signin: signin_link(&list_href(sort, &query, None)),
        sort: sort.as_str(),
        tabs,
        topics: found.topics.iter().map(TopicRow::from).collect(),
        next: found.next.map(page_href),
        prev: found.prev.map(page_href),
        query,
        title: form.0,
        body: form.1,
        error: form.2,
    });
    *r.status_mut() = status;
    reader.finish(st, r, &csrf)
}

/// `/community`: topics (newest, unanswered or most voted; searched with `q`) and the
/// form to ask.
pub async fn list(
    State(st): State<AppState>,
    me: Option<Me>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    visitor: Visitor,
    Query(q): Query<ListQuery>,
) -> Response {
    // A search is held to the same allowance per client address as the API's community
    // reads (120 a minute).
    if !q.q.trim().is_empty() {
        if st.community_reads.is_blocked(ip) {
            return crate::page::error_page(
                axum::http::StatusCode::TOO_MANY_REQUESTS,
                "Slow down",
                "Too many searches from your address. Please try again in a minute.",
            );
        }
        st.community_reads.fail(ip);
    }
    let reader = Reader::of(&st, &headers, me).await;
    let mut r = render_list(
        &st,
        &headers,
        Some(&visitor),
        &reader,
        q,
        (String::new(), String::new(), None),
        axum::http::StatusCode::OK,
    )
    .await;
    ensure_cookie(r.headers_mut(), &visitor, st.https);
    r
}

/// The "ask a question" form.
#[derive(Deserialize)]
pub struct AskForm {
    csrf: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
}

/// Asks a question: the topic's page next (awaiting review when the spam filter held it).
pub async fn ask(
    State(st): State<AppState>,
    me: Option<Me>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(f): Form<AskForm>,
) -> Response {
    let reader = Reader::of(&st, &headers, me).await;
    if let Some(r) = reader.refuse_post(&st, &headers, &f.csrf, ip) {
        return r;
    }
    let parsed = (|| -> Result<NewTopic, FieldError> {
        Ok(NewTopic {
            title: TopicTitle::parse(&f.title)?,
            body: PostBody::parse(&f.body, "body")?,
        })
    })();
    let new = match parsed {
        Ok(n) => n,
        Err(e) => {
            let msg = format!("Please check the {}: {}", e.field, e.message);
            return render_list(
                &st,
                &headers,
                None,
                &reader,
                ListQuery::default(),
                (f.title, f.body, Some(msg)),
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let Some(who) = reader.principal() else {
        return super::sign_in_first();
    };
    let now = st.now();
    match st
        .db
        .write(op!(c => store::create(c, &who, new, now).await))
        .await
    {
        Ok(Posted::Done(t)) => {
            reindex_topic(&st, t.id).await;
            Redirect::to(&format!("/community/topics/{}", t.id)).into_response()
        }
        Ok(Posted::Limited { per_hour }) => too_many_posts(per_hour),
        Err(e) => store_error(e),
    }
}

/// A post on the topic's page.
pub(crate) struct PostRow {
    pub id: i64,
    pub html: String,
    pub author: String,
    pub agent: bool,
    pub votes: i64,
    pub voted: bool,
    pub can_vote: bool,
    pub can_accept: bool,
    pub accepted: bool,
    pub state: &'static str,
    pub at: String,
    pub at_iso: String,
}

#[derive(Template)]
#[template(path = "community_topic.html")]
struct TopicPage {
    csrf: String,
    signed_in: bool,
    agent: bool,
    /// The portal's sign-in, coming back here.
    signin: String,
    topic: TopicRow,
    locked: bool,
    open: bool,
    /// The question first, then the answers.
    posts: Vec<PostRow>,
    ticket_id: Option<i64>,
    article_id: Option<i64>,
}

/// A topic's page: the question, then the accepted answer, then by votes; forms to
/// vote, accept and answer for those who may.
pub async fn topic(
    State(st): State<AppState>,
    me: Option<Me>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Response {
    let reader = Reader::of(&st, &headers, me).await;
    let who = reader.principal();
    let customer = reader.customer();
    let loaded = st
        .db
        .read(op!(c => {
            let (t, ps) = store::thread(c, who.as_ref(), id).await?;
            let voted = match customer {
                Some(cu) => posts::voted_by(c, cu, id).await?,
                None => Vec::new(),
            };
            Ok((t, ps, voted))
        }))
        .await;
    let (t, ps, voted) = match loaded {
        Ok(x) => x,
        Err(e) => return store_error(e),
    };
    let asker = customer.is_some() && t.author.customer_id == customer;
    let row = |p: &Post| -> PostRow {
        let (at, at_iso) = shown_time(p.created_at);
        let shown = p.state == PostState::Visible;
        PostRow {
            id: p.id,
            html: post_html(&p.body),
            author: p.author.name.clone(),
            agent: p.author.is_agent(),
            votes: p.votes,
            voted: voted.contains(&p.id),
            can_vote: shown && customer.is_some() && p.author.customer_id != customer,
            can_accept: shown
                && !p.is_question
                && (asker || reader.is_agent())
                && t.accepted_post_id != Some(p.id),
            accepted: t.accepted_post_id == Some(p.id),
            state: state_words(p.state),
            at,
            at_iso,
        }
    };
    let posts: Vec<PostRow> = ps.iter().map(row).collect();
    if posts.is_empty() {
        return store_error(rapport_store::StoreError::NotFound("topic"));
    }
    let csrf = reader.csrf(&st, &headers);
    let r = page(&TopicPage {
        csrf: csrf.clone(),
        signed_in: !matches!(reader, Reader::Anonymous),
        agent: reader.is_agent(),
        signin: signin_link(&format!("/community/topics/{}", t.id)),
        topic: TopicRow::from(&t),
        locked: t.locked,
        open: !t.locked && t.state == PostState::Visible,
        posts,
        ticket_id: t.ticket_id,
        article_id: t.article_id,
    });
    reader.finish(&st, r, &csrf)
}
