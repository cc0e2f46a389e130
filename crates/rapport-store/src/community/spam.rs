//! The spam filter's memory: in how many spam and good posts each word appeared, and
//! how many posts of each were learned. Only moderators' decisions teach it: a post
//! flagged as spam, a post shown again or released as not spam, an answer an agent
//! accepted (good). Posts nobody judged teach nothing, so a flood of posts cannot train
//! the filter to let its kind through. A later decision replaces an earlier one: the
//! post's counts move to the other side, or are taken back when a moderator hides it.
//! The scoring itself is `rapport_domain::community::spam`.

use rapport_domain::community::PostState;
use rapport_domain::community::spam::{self as rules, Counts};

use crate::db::Conn;
use crate::error::{Result, StoreError};
use crate::value::Value;

/// What a post was learned as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Label {
    /// Spam.
    Spam,
    /// A good post.
    Ham,
}

impl Label {
    fn as_str(self) -> &'static str {
        match self {
            Label::Spam => "spam",
            Label::Ham => "ham",
        }
    }

    fn parse(raw: &str) -> Option<Self> {
        match raw {
            "spam" => Some(Label::Spam),
            "ham" => Some(Label::Ham),
            _ => None,
        }
    }
}

/// The spam probability of a text, from the counts learned so far.
pub async fn score(c: &mut dyn Conn, text: &str) -> Result<f64> {
    let tokens: Vec<String> = rules::tokens(text).into_iter().collect();
    let mut counts = Counts::default();
    for r in c
        .query("SELECT label, docs FROM community_spam_totals", &[])
        .await?
    {
        match Label::parse(&r.text("label")?) {
            Some(Label::Spam) => counts.spam_docs = r.int("docs")?,
            Some(Label::Ham) => counts.ham_docs = r.int("docs")?,
            None => {}
        }
    }
    if tokens.is_empty() || counts.spam_docs < rules::MIN_SPAM_DOCS {
        return Ok(0.5);
    }
    let placeholders = crate::dialect::placeholders(1, tokens.len());
    let sql = format!(
        "SELECT spam, ham FROM community_spam_tokens WHERE token IN ({})",
        placeholders
    );
    let params: Vec<Value> = tokens.iter().map(|t| t.as_str().into()).collect();
    for r in c.query(&sql, &params).await? {
        counts.tokens.push((r.int("spam")?, r.int("ham")?));
    }
    Ok(rules::score(&counts))
}

/// How a new post starts: a customer's likely spam is held for review; everything else
/// is shown. Returns the state and the score in thousandths.
pub async fn judge(c: &mut dyn Conn, by_customer: bool, text: &str) -> Result<(PostState, i64)> {
    if !by_customer {
        return Ok((PostState::Visible, 0));
    }
    let s = score(c, text).await?;
    #[expect(clippy::cast_possible_truncation, reason = "a probability times 1000")]
    let permille = (s * 1000.0).round() as i64;
    let state = if s >= rules::HOLD_AT {
        PostState::Held
    } else {
        PostState::Visible
    };
    Ok((state, permille))
}

/// The text the filter reads for a post: a question's title and details, or an answer.
async fn text_of(c: &mut dyn Conn, post_id: i64) -> Result<(String, Option<Label>)> {
    let r = c
        .opt(
            "SELECT p.body, p.is_question, p.trained, t.title
             FROM community_posts p JOIN community_topics t ON t.id = p.topic_id
             WHERE p.id = $1",
            &[post_id.into()],
        )
        .await?
        .ok_or(StoreError::NotFound("post"))?;
    let text = if r.bool("is_question")? {
        format!("{}\n{}", r.text("title")?, r.text("body")?)
    } else {
        r.text("body")?
    };
    let trained = r.opt_text("trained")?.as_deref().and_then(Label::parse);
    Ok((text, trained))
}

/// Learns a post as `label` (or forgets it, with `None`), moving its counts from what it
/// was learned as before, if anything: a post counts once, on one side.
pub async fn learn(c: &mut dyn Conn, post_id: i64, label: Option<Label>) -> Result<()> {
    let (text, before) = text_of(c, post_id).await?;
    if before == label {
        return Ok(());
    }
    let delta = |l: Label| -> i64 { i64::from(label == Some(l)) - i64::from(before == Some(l)) };
    let (ds, dh) = (delta(Label::Spam), delta(Label::Ham));
    for token in rules::tokens(&text) {
        c.execute(
            "INSERT INTO community_spam_tokens (token, spam, ham) VALUES ($1, $2, $3)
             ON CONFLICT (token) DO UPDATE SET
                 spam = community_spam_tokens.spam + excluded.spam,
                 ham = community_spam_tokens.ham + excluded.ham",
            &[token.into(), ds.into(), dh.into()],
        )
        .await?;
    }
    for (l, d) in [(Label::Spam, ds), (Label::Ham, dh)] {
        if d != 0 {
            c.execute(
                "INSERT INTO community_spam_totals (label, docs) VALUES ($1, $2)
                 ON CONFLICT (label) DO UPDATE SET
                     docs = community_spam_totals.docs + excluded.docs",
                &[l.as_str().into(), d.into()],
            )
            .await?;
        }
    }
    c.execute(
        "UPDATE community_posts SET trained = $1 WHERE id = $2",
        &[label.map(Label::as_str).into(), post_id.into()],
    )
    .await?;
    Ok(())
}
