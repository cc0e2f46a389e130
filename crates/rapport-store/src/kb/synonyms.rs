//! Synonym groups search expands at query time (`invoice, bill`), edited by admins. A
//! group is stored as its members, lower-cased, trimmed, sorted and joined by `, `, so the
//! same group is never stored twice.

use rapport_domain::{FieldError, Timestamp};

use crate::db::Conn;
use crate::error::{Result, StoreError};
use crate::value::Row;

/// The most members a group may have.
pub const MAX_MEMBERS: usize = 12;
/// The longest member, in characters.
pub const MAX_MEMBER_CHARS: usize = 60;

/// One group of words search treats as one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynonymGroup {
    /// Database id.
    pub id: i64,
    /// Its members, `a, b, c`.
    pub terms: String,
    /// The admin who added it (`None`: built in).
    pub created_by: Option<i64>,
    /// When.
    pub created_at: Timestamp,
}

impl SynonymGroup {
    /// Its members.
    pub fn members(&self) -> Vec<&str> {
        self.terms.split(", ").collect()
    }
}

/// Checks a group someone typed (`invoice, bill` — commas between members) and returns
/// its stored spelling, naming the field `terms`.
pub fn parse_terms(raw: &str) -> std::result::Result<String, FieldError> {
    let mut members: Vec<String> = Vec::new();
    for m in raw.split(',') {
        let m = m
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase();
        if m.is_empty() {
            continue;
        }
        if m.chars().count() > MAX_MEMBER_CHARS || rapport_domain::text::has_control(&m) {
            return Err(FieldError::new(
                "terms",
                "each member must be at most 60 characters, without control characters",
            ));
        }
        if !members.contains(&m) {
            members.push(m);
        }
    }
    if members.len() < 2 {
        return Err(FieldError::new(
            "terms",
            "a group needs at least two words or phrases, separated by commas",
        ));
    }
    if members.len() > MAX_MEMBERS {
        return Err(FieldError::new("terms", "a group has at most 12 members"));
    }
    members.sort();
    Ok(members.join(", "))
}

fn group_from(r: &Row) -> Result<SynonymGroup> {
    Ok(SynonymGroup {
        id: r.int("id")?,
        terms: r.text("terms")?,
        created_by: r.opt_int("created_by")?,
        created_at: Timestamp(r.int("created_at")?),
    })
}

/// Every group, oldest first.
pub async fn list(c: &mut dyn Conn) -> Result<Vec<SynonymGroup>> {
    c.query(
        "SELECT id, terms, created_by, created_at FROM kb_synonyms ORDER BY id",
        &[],
    )
    .await?
    .iter()
    .map(group_from)
    .collect()
}

/// Adds a group (`terms` as typed: see [`parse_terms`]); an identical group already there
/// is a 422 on `terms`.
pub async fn create(
    c: &mut dyn Conn,
    by: Option<i64>,
    terms: &str,
    now: Timestamp,
) -> Result<SynonymGroup> {
    let terms = parse_terms(terms)?;
    if c.opt(
        "SELECT id FROM kb_synonyms WHERE terms = $1",
        &[terms.clone().into()],
    )
    .await?
    .is_some()
    {
        return Err(FieldError::new("terms", "this group already exists").into());
    }
    let row = c
        .one(
            "INSERT INTO kb_synonyms (terms, created_by, created_at) VALUES ($1, $2, $3)
             RETURNING id, terms, created_by, created_at",
            &[terms.into(), by.into(), now.into()],
        )
        .await?;
    group_from(&row)
}

/// Adds a group unless the same group is there already (for loaders: running twice adds
/// nothing). Returns whether it was added.
pub async fn ensure(
    c: &mut dyn Conn,
    by: Option<i64>,
    terms: &str,
    now: Timestamp,
) -> Result<bool> {
    let terms = parse_terms(terms)?;
    let n = c
        .execute(
            "INSERT INTO kb_synonyms (terms, created_by, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (terms) DO NOTHING",
            &[terms.into(), by.into(), now.into()],
        )
        .await?;
    Ok(n > 0)
}

/// Removes a group.
pub async fn delete(c: &mut dyn Conn, id: i64) -> Result<()> {
    let n = c
        .execute("DELETE FROM kb_synonyms WHERE id = $1", &[id.into()])
        .await?;
    if n == 0 {
        return Err(StoreError::NotFound("synonym group"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_are_normalised() {
        assert_eq!(
            parse_terms(" Invoice ,bill,  money   back, bill,").as_deref(),
            Ok("bill, invoice, money back")
        );
        assert!(parse_terms("invoice").is_err());
        assert!(parse_terms("invoice, ,").is_err());
        assert!(parse_terms(&format!("a, {}", "x".repeat(61))).is_err());
        let many: Vec<String> = (0..13).map(|i| format!("w{i}")).collect();
        assert!(parse_terms(&many.join(",")).is_err());
    }
}
