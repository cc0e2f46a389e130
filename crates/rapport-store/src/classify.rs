//! The ticket classifier's counts: learning from a ticket whose category an agent set
//! ([`learn`], at once — a correction moves the example), classifying a new ticket
//! ([`classify`]: applied at or over the threshold, only suggested below it), rebuilding
//! the counts from the examples ([`retrain`], on a schedule), and the model's size
//! ([`report`]). The rules and the arithmetic are `rapport_domain::classify`.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};

use rapport_domain::classify::{Model, Prediction, features};
use rapport_domain::{EventKind, Timestamp};
use serde_json::json;

use crate::db::Conn;
use crate::error::Result;
use crate::events::{self, Actor};
use crate::value::Value;

/// Features written per statement (three parameters each).
const CHUNK: usize = 300;

/// Changes to the counts gathered from several examples and written together by
/// [`flush`]: a subscriber's batch of hundreds of tickets shares most of its words and
/// character 3-grams, so one write per distinct feature replaces one per feature of every
/// ticket. Learning adds to it; flushing writes it before anything reads the counts.
#[derive(Debug, Default)]
pub struct Tally {
    /// Per category, per feature, the change of its count.
    counts: HashMap<String, HashMap<String, i64>>,
    /// Per feature, the change of its count over all categories.
    features: HashMap<String, i64>,
    /// Per category, the change of its examples and of its features' total.
    classes: HashMap<String, (i64, i64)>,
}

/// Adds `n` to `key`'s count, copying the key only the first time the map meets it (a
/// batch's examples share most features).
fn bump(map: &mut HashMap<String, i64>, key: &str, n: i64) {
    match map.get_mut(key) {
        Some(v) => *v += n,
        None => {
            map.insert(key.to_owned(), n);
        }
    }
}

impl Tally {
    /// Adds (`sign` 1) or takes back (`sign` -1) one example.
    fn add(&mut self, category: &str, doc: &BTreeMap<String, u32>, sign: i64) {
        let mut total = 0;
        let of_class = self.counts.entry(category.to_owned()).or_default();
        for (f, n) in doc {
            let n = i64::from(*n) * sign;
            total += n;
            bump(of_class, f, n);
            bump(&mut self.features, f, n);
        }
        let class = self.classes.entry(category.to_owned()).or_default();
        class.0 += sign;
        class.1 += total;
    }

    /// Adds what another tally gathered: one step per distinct feature, where adding its
    /// examples one by one takes one per feature of every example.
    fn merge(&mut self, other: &Tally) {
        for (category, counts) in &other.counts {
            let of_class = self.counts.entry(category.clone()).or_default();
            for (f, n) in counts {
                bump(of_class, f, *n);
            }
        }
        for (f, n) in &other.features {
            bump(&mut self.features, f, *n);
        }
        for (category, (docs, total)) in &other.classes {
            let class = self.classes.entry(category.clone()).or_default();
            class.0 += docs;
            class.1 += total;
        }
    }

    /// Whether nothing waits to be written.
    pub fn is_empty(&self) -> bool {
        self.classes.is_empty()
    }
}

/// How many of these features have a count (rows whose count reached zero are deleted).
async fn present(c: &mut dyn Conn, feats: &[&String]) -> Result<i64> {
    let mut n = 0;
    for chunk in feats.chunks(CHUNK) {
        let marks = crate::dialect::placeholders(1, chunk.len());
        let params: Vec<Value> = chunk.iter().map(|f| (*f).clone().into()).collect();
        n += c
            .one(
                &format!(
                    "SELECT COUNT(*) AS n FROM classifier_features WHERE feature IN ({})",
                    marks
                ),
                &params,
            )
            .await?
            .int("n")?;
    }
    Ok(n)
}

/// Writes what the tally gathered and empties it: one upsert per distinct feature (and
/// per feature and category), counts that reached zero deleted, the vocabulary moved by
/// the features that appeared or went.
pub async fn flush(c: &mut dyn Conn, tally: &mut Tally) -> Result<()> {
    if tally.is_empty() {
        return Ok(());
    }
    let tally = std::mem::take(tally);
    lock(c).await?;
    // In key order, so two writers would meet rows in the same order.
    let mut feats: Vec<(String, i64)> = tally
        .features
        .into_iter()
        .filter(|(_, n)| *n != 0)
        .collect();
    feats.sort();
    let mut counts: Vec<((String, String), i64)> = tally
        .counts
        .into_iter()
        .flat_map(|(cat, m)| m.into_iter().map(move |(f, n)| ((f, cat.clone()), n)))
        .filter(|(_, n)| *n != 0)
        .collect();
    counts.sort();
    let keys: Vec<&String> = feats.iter().map(|(f, _)| f).collect();
    let before = present(c, &keys).await?;
    for chunk in feats.chunks(CHUNK) {
        let mut params: Vec<Value> = Vec::with_capacity(chunk.len() * 2);
        let rows: Vec<String> = chunk
            .iter()
            .map(|(f, n)| {
                params.push(f.clone().into());
                params.push((*n).into());
                let i = params.len();
                format!("(${}, ${i})", i - 1)
            })
            .collect();
        c.execute(
            &format!(
                "INSERT INTO classifier_features (feature, n) VALUES {}
                 ON CONFLICT (feature) DO UPDATE SET n = classifier_features.n + excluded.n",
                rows.join(", ")
            ),
            &params,
        )
        .await?;
    }
    for chunk in counts.chunks(CHUNK) {
        let mut params: Vec<Value> = Vec::with_capacity(chunk.len() * 3);
        let rows: Vec<String> = chunk
            .iter()
            .map(|((f, cat), n)| {
                params.push(f.clone().into());
                params.push(cat.clone().into());
                params.push((*n).into());
                let i = params.len();
                format!("(${}, ${}, ${i})", i - 2, i - 1)
            })
            .collect();
        c.execute(
            &format!(
                "INSERT INTO classifier_counts (feature, category, n) VALUES {}
                 ON CONFLICT (feature, category) DO UPDATE SET n = classifier_counts.n + excluded.n",
                rows.join(", ")
            ),
            &params,
        )
        .await?;
    }
    // Counts that reached zero go (only features whose count fell can have).
    let fell: Vec<&String> = counts
        .iter()
        .filter(|(_, n)| *n < 0)
        .map(|((f, _), _)| f)
        .collect();
    for chunk in fell.chunks(CHUNK) {
        let marks = crate::dialect::placeholders(1, chunk.len());
        let params: Vec<Value> = chunk.iter().map(|f| (*f).clone().into()).collect();
        let list = marks;
        c.execute(
            &format!("DELETE FROM classifier_counts WHERE n <= 0 AND feature IN ({list})"),
            &params,
        )
        .await?;
        c.execute(
            &format!("DELETE FROM classifier_features WHERE n <= 0 AND feature IN ({list})"),
            &params,
        )
        .await?;
    }
    let after = present(c, &keys).await?;
    c.execute(
        "UPDATE classifier_meta SET vocabulary = vocabulary + $1 WHERE id = 1",
        &[(after - before).into()],
    )
    .await?;
    let mut classes: Vec<(String, (i64, i64))> = tally.classes.into_iter().collect();
    classes.sort();
    for (category, (docs, total)) in classes {
        c.execute(
            "INSERT INTO classifier_classes (category, docs, total) VALUES ($1, $2, $3)
             ON CONFLICT (category) DO UPDATE SET docs = classifier_classes.docs + excluded.docs,
                                                  total = classifier_classes.total + excluded.total",
            &[category.into(), docs.into(), total.into()],
        )
        .await?;
    }
    c.execute("DELETE FROM classifier_classes WHERE docs <= 0", &[])
        .await?;
    Ok(())
}

/// Makes the writers of the counts take turns: learning (the subscriber) and a rebuild
/// (the daily job, an admin's request) on PostgreSQL lock the one meta row first; SQLite
/// has one writer.
async fn lock(c: &mut dyn Conn) -> Result<()> {
    let lock = crate::dialect::row_lock(c.backend(), "classifier_meta");
    c.one(
        &format!("SELECT id FROM classifier_meta WHERE id = 1{lock}"),
        &[],
    )
    .await?;
    Ok(())
}

/// Learns from a ticket whose category an agent set (or cleared: `None` forgets it). An
/// example learned before is taken back first, so a correction moves it. The
/// classifier's own verdict on the ticket goes: an agent's word replaces it. The examples
/// are written at once; their counts go into `tally`, for [`flush`] to write before the
/// counts are next read (the caller's transaction must flush before it commits).
pub async fn learn(
    c: &mut dyn Conn,
    ticket_id: i64,
    category: Option<&str>,
    now: Timestamp,
    tally: &mut Tally,
) -> Result<()> {
    lock(c).await?;
    c.execute(
        "DELETE FROM ticket_classification WHERE ticket_id = $1",
        &[ticket_id.into()],
    )
    .await?;
    add(c, ticket_id, category, now, tally).await
}

/// Takes tickets' examples out of the model — their counts and the features kept for
/// them — as when their customer is erased: their words then count nowhere. Tickets that
/// are no examples are passed over. Takes the counts' lock first (before the caller
/// touches the tickets, in the order the subscriber takes them) and writes the counts once.
pub async fn forget(c: &mut dyn Conn, ticket_ids: &[i64]) -> Result<()> {
    if ticket_ids.is_empty() {
        return Ok(());
    }
    lock(c).await?;
    let mut tally = Tally::default();
    for chunk in ticket_ids.chunks(500) {
        let marks = crate::dialect::placeholders(1, chunk.len());
        let params: Vec<Value> = chunk.iter().map(|id| (*id).into()).collect();
        let list = marks;
        for r in c
            .query(
                &format!(
                    "SELECT category, features, text FROM classifier_examples
                     WHERE ticket_id IN ({list})"
                ),
                &params,
            )
            .await?
        {
            tally.add(&r.text("category")?, &counted(&r)?, -1);
        }
        c.execute(
            &format!("DELETE FROM classifier_examples WHERE ticket_id IN ({list})"),
            &params,
        )
        .await?;
    }
    flush(c, &mut tally).await
}

/// The features an example was counted with: those of the text it keeps (since migration
/// 53), or, for an older row, its features as JSON. Before [`forget`], erasure left `[]` in
/// their place: nothing to take back from those. (Should [`features`] ever read a text
/// differently, a take-back may differ from what was added; the daily [`retrain`] counts
/// everything afresh.)
fn counted(r: &crate::value::Row) -> Result<BTreeMap<String, u32>> {
    if let Some(text) = r.opt_text("text")? {
        return Ok(features(&text));
    }
    Ok(match r.text("features")?.as_str() {
        "" | "[]" => BTreeMap::new(),
        json => serde_json::from_str(json)?,
    })
}

async fn add(
    c: &mut dyn Conn,
    ticket_id: i64,
    category: Option<&str>,
    now: Timestamp,
    tally: &mut Tally,
) -> Result<()> {
    if let Some(old) = c
        .opt(
            "SELECT category, features, text FROM classifier_examples WHERE ticket_id = $1",
            &[ticket_id.into()],
        )
        .await?
    {
        tally.add(&old.text("category")?, &counted(&old)?, -1);
        c.execute(
            "DELETE FROM classifier_examples WHERE ticket_id = $1",
            &[ticket_id.into()],
        )
        .await?;
    }
    let Some(category) = category else {
        return Ok(());
    };
    let Some(text) = crate::tickets::opening_text(c, ticket_id).await? else {
        return Ok(());
    };
    let doc = features(&text);
    tally.add(category, &doc, 1);
    let old_form = features_column(c, &doc)?;
    c.execute(
        "INSERT INTO classifier_examples (ticket_id, category, features, text, created_at)
         VALUES ($1, $2, $3, $4, $5)",
        &[
            ticket_id.into(),
            category.into(),
            old_form.into(),
            text.into(),
            now.into(),
        ],
    )
    .await?;
    Ok(())
}

/// What a new example's `features` column holds: empty (its text is kept instead), except
/// where nodes of the release before migration 53 may still read it during a rolling deploy
/// (`dialect::rolling_deploys`): there the features as JSON, as that release wrote them.
/// The next release stops writing them.
fn features_column(c: &dyn Conn, doc: &BTreeMap<String, u32>) -> Result<String> {
    Ok(if crate::dialect::rolling_deploys(c.backend()) {
        serde_json::to_string(doc)?
    } else {
        String::new()
    })
}

/// New tickets' opening texts with their features, worked out by [`prepare`] before the
/// write that keeps them as examples, and all of them counted together.
#[derive(Debug, Default)]
pub struct Prepared {
    /// Per ticket: its category and opening text as read, and the text's features.
    docs: HashMap<i64, (String, String, BTreeMap<String, u32>)>,
    /// Every one of them counted as an example of its category.
    sum: Tally,
}

impl Prepared {
    /// The features worked out for this ticket, if it was read with this very category
    /// and text.
    fn features_of(
        &self,
        ticket: i64,
        category: &str,
        text: &str,
    ) -> Option<&BTreeMap<String, u32>> {
        self.docs
            .get(&ticket)
            .filter(|(cat, read, _)| cat == category && read == text)
            .map(|(_, _, doc)| doc)
    }
}

/// Works out, on a read snapshot before the write transaction, the features of the
/// opening texts of these new tickets that have a category — the examples [`on_created`]
/// is about to keep — and counts them together. Counting a text's words and character
/// 3-grams is most of the work of keeping an example; done here, it is not done inside
/// the write, which on SQLite every other write waits for. The write uses a ticket's
/// features only if the category and text it reads then are the same (an agent, an
/// erasure or a split may have changed them in between), and the sum only if it keeps
/// exactly these examples so.
pub async fn prepare(c: &mut dyn Conn, tickets: &[i64]) -> Result<Prepared> {
    let found = crate::tickets::openings(c, tickets).await?;
    let mut prepared = Prepared::default();
    for (id, o) in found {
        let Some(category) = o.category else {
            continue;
        };
        let doc = features(&o.text);
        prepared.sum.add(&category, &doc, 1);
        prepared.docs.insert(id, (category, o.text, doc));
    }
    Ok(prepared)
}

/// New tickets' examples (`(ticket, category, text)`), kept together in one statement per
/// [`CHUNK`] / 3 rows; those not kept before (a ticket handled again after a crash) are
/// counted into `tally`. Features [`prepare`]d from the same category and text are used as
/// they are; when the examples kept are exactly those prepared, their sum is added at once.
async fn keep(
    c: &mut dyn Conn,
    examples: &mut Vec<(i64, String, String)>,
    prepared: &Prepared,
    now: Timestamp,
    tally: &mut Tally,
) -> Result<()> {
    // The examples newly kept, and whether each was kept as prepared.
    let mut newly: Vec<(&str, Cow<'_, BTreeMap<String, u32>>)> = Vec::new();
    let mut as_prepared = true;
    for chunk in examples.chunks(CHUNK / 3) {
        let mut params: Vec<Value> = Vec::with_capacity(chunk.len() * 5);
        let mut rows = Vec::with_capacity(chunk.len());
        let mut docs = Vec::with_capacity(chunk.len());
        for (ticket, category, text) in chunk {
            let i = params.len();
            rows.push(format!(
                "(${}, ${}, ${}, ${}, ${})",
                i + 1,
                i + 2,
                i + 3,
                i + 4,
                i + 5
            ));
            let doc = prepared
                .features_of(*ticket, category, text)
                .map_or_else(|| Cow::Owned(features(text)), Cow::Borrowed);
            params.push((*ticket).into());
            params.push(category.clone().into());
            params.push(features_column(c, &doc)?.into());
            params.push(text.clone().into());
            params.push(now.into());
            docs.push(doc);
        }
        let mut kept: HashSet<i64> = c
            .query(
                &format!(
                    "INSERT INTO classifier_examples (ticket_id, category, features, text, created_at)
                     VALUES {} ON CONFLICT (ticket_id) DO NOTHING RETURNING ticket_id",
                    rows.join(", ")
                ),
                &params,
            )
            .await?
            .iter()
            .map(|r| r.int("ticket_id"))
            .collect::<Result<_>>()?;
        for ((ticket, category, _), doc) in chunk.iter().zip(docs) {
            // Once per ticket, even were it twice in the batch.
            if kept.remove(ticket) {
                as_prepared &= matches!(doc, Cow::Borrowed(_));
                newly.push((category, doc));
            }
        }
    }
    // The tickets newly kept are distinct (`kept.remove` within a chunk, `ON CONFLICT`
    // across chunks and calls), and each used what was prepared for it only if it was
    // prepared: as many as were prepared means exactly those, so their sum is the same.
    if as_prepared && newly.len() == prepared.docs.len() {
        tally.merge(&prepared.sum);
    } else {
        for (category, doc) in &newly {
            tally.add(category, doc.as_ref(), 1);
        }
    }
    drop(newly);
    examples.clear();
    Ok(())
}

/// Handles new tickets, in order (`(ticket, opened by an agent)`): a category an agent
/// gave is an example, kept at once with its counts in `tally`; a ticket opened without
/// one is classified, after the examples before it are counted (so the verdict sees
/// them). Their categories and texts are read together and the examples written together,
/// so a batch of new tickets costs a few statements, not a few per ticket; the features
/// of their texts come from `prepared` where they were worked out before.
pub async fn on_created(
    c: &mut dyn Conn,
    created: &[(i64, bool)],
    prepared: &Prepared,
    now: Timestamp,
    tally: &mut Tally,
) -> Result<()> {
    let ids: Vec<i64> = created.iter().map(|(id, _)| *id).collect();
    let found = crate::tickets::openings(c, &ids).await?;
    let mut examples = Vec::new();
    for (ticket, by_agent) in created {
        let Some(crate::tickets::Opening { category, text }) = found.get(ticket) else {
            continue;
        };
        match category {
            // A new ticket has no example and no verdict yet: nothing to take back, and no
            // lock until the counts are written (`flush` takes it; a rebuild running at the
            // same time counts this example or leaves it to the flush, never both).
            Some(cat) if *by_agent => examples.push((*ticket, cat.clone(), text.clone())),
            Some(_) => {}
            None => {
                keep(c, &mut examples, prepared, now, tally).await?;
                flush(c, tally).await?;
                classify(c, *ticket, now).await?;
            }
        }
    }
    keep(c, &mut examples, prepared, now, tally).await
}

/// The counts a prediction for this document needs.
pub async fn model_for(c: &mut dyn Conn, doc: &BTreeMap<String, u32>) -> Result<Model> {
    let mut m = Model {
        vocabulary: u64::try_from(
            c.one("SELECT vocabulary FROM classifier_meta WHERE id = 1", &[])
                .await?
                .int("vocabulary")?,
        )
        .unwrap_or(0),
        ..Model::default()
    };
    for r in c
        .query("SELECT category, docs, total FROM classifier_classes", &[])
        .await?
    {
        m.classes.insert(
            r.text("category")?,
            (
                u64::try_from(r.int("docs")?).unwrap_or(0),
                u64::try_from(r.int("total")?).unwrap_or(0),
            ),
        );
    }
    let keys: Vec<&String> = doc.keys().collect();
    let mut counts: HashMap<String, HashMap<String, u64>> = HashMap::new();
    let mut known: HashSet<String> = HashSet::new();
    for chunk in keys.chunks(CHUNK) {
        let marks = crate::dialect::placeholders(1, chunk.len());
        let params: Vec<Value> = chunk.iter().map(|f| (*f).clone().into()).collect();
        for r in c
            .query(
                &format!(
                    "SELECT feature, category, n FROM classifier_counts WHERE feature IN ({})",
                    marks
                ),
                &params,
            )
            .await?
        {
            let f = r.text("feature")?;
            known.insert(f.clone());
            counts
                .entry(f)
                .or_default()
                .insert(r.text("category")?, u64::try_from(r.int("n")?).unwrap_or(0));
        }
    }
    m.counts = counts;
    m.known = known;
    Ok(m)
}

/// The confidence (0–1) a prediction needs to be applied.
pub async fn threshold(c: &mut dyn Conn) -> Result<f64> {
    let p = c
        .one(
            "SELECT threshold_permille FROM classifier_meta WHERE id = 1",
            &[],
        )
        .await?
        .int("threshold_permille")?;
    Ok(p as f64 / 1000.0)
}

/// Sets the confidence a prediction needs to be applied.
pub async fn set_threshold(c: &mut dyn Conn, threshold: f64) -> Result<()> {
    let t = rapport_domain::classify::threshold(threshold)?;
    c.execute(
        "UPDATE classifier_meta SET threshold_permille = $1 WHERE id = 1",
        &[((t * 1000.0).round() as i64).into()],
    )
    .await?;
    Ok(())
}

/// The classifier's verdict on a ticket.
#[derive(Debug, Clone, PartialEq)]
pub struct Classification {
    /// The likeliest category.
    pub category: String,
    /// How sure (0–1).
    pub confidence: f64,
    /// Whether it was applied (at or over the threshold) or only suggested.
    pub applied: bool,
}

/// Classifies a ticket nobody categorised: records the verdict and, when the confidence
/// reaches the threshold and the category still exists, sets it (recorded as Rapport's
/// change). A ticket that has a category, or a model with fewer than two categories,
/// gets no verdict.
pub async fn classify(
    c: &mut dyn Conn,
    ticket_id: i64,
    now: Timestamp,
) -> Result<Option<Classification>> {
    let Some(t) = c
        .opt(
            "SELECT category FROM tickets WHERE id = $1",
            &[ticket_id.into()],
        )
        .await?
    else {
        return Ok(None);
    };
    if t.opt_text("category")?.is_some() {
        return Ok(None);
    }
    let Some(text) = crate::tickets::opening_text(c, ticket_id).await? else {
        return Ok(None);
    };
    let doc = features(&text);
    let model = model_for(c, &doc).await?;
    let Some(Prediction {
        category,
        confidence,
        ..
    }) = model.predict(&doc)
    else {
        return Ok(None);
    };
    let exists = c
        .opt(
            "SELECT slug FROM categories WHERE slug = $1",
            &[category.clone().into()],
        )
        .await?
        .is_some();
    let applied = exists && confidence >= threshold(c).await?;
    let permille = (confidence * 1000.0).round() as i64;
    c.execute(
        "INSERT INTO ticket_classification (ticket_id, category, confidence_permille, applied,
                                            created_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (ticket_id) DO UPDATE SET category = excluded.category,
             confidence_permille = excluded.confidence_permille, applied = excluded.applied,
             created_at = excluded.created_at",
        &[
            ticket_id.into(),
            category.clone().into(),
            permille.into(),
            applied.into(),
            now.into(),
        ],
    )
    .await?;
    if applied {
        c.execute(
            "UPDATE tickets SET category = $1 WHERE id = $2 AND category IS NULL",
            &[category.clone().into(), ticket_id.into()],
        )
        .await?;
        events::record(
            c,
            ticket_id,
            Actor::System,
            EventKind::FieldsChanged,
            &json!({"category": {"from": null, "to": category}}),
            now,
        )
        .await?;
    }
    Ok(Some(Classification {
        category,
        confidence: permille as f64 / 1000.0,
        applied,
    }))
}

/// Rebuilds every count from the examples, reading each ticket's text again (so a change
/// to how features are read reaches the old examples too). Returns how many examples.
pub async fn retrain(c: &mut dyn Conn, now: Timestamp) -> Result<usize> {
    lock(c).await?;
    let examples: Vec<(i64, String)> = c
        .query(
            "SELECT ticket_id, category FROM classifier_examples ORDER BY ticket_id",
            &[],
        )
        .await?
        .iter()
        .map(|r| Ok((r.int("ticket_id")?, r.text("category")?)))
        .collect::<Result<_>>()?;
    for sql in [
        "DELETE FROM classifier_examples",
        "DELETE FROM classifier_counts",
        "DELETE FROM classifier_features",
        "DELETE FROM classifier_classes",
    ] {
        c.execute(sql, &[]).await?;
    }
    c.execute(
        "UPDATE classifier_meta SET vocabulary = 0, retrained_at = $1 WHERE id = 1",
        &[now.into()],
    )
    .await?;
    let mut tally = Tally::default();
    for (ticket, category) in &examples {
        add(c, *ticket, Some(category), now, &mut tally).await?;
    }
    flush(c, &mut tally).await?;
    Ok(examples.len())
}

/// The model's size: examples per category and the vocabulary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Per category, its examples.
    pub examples: Vec<(String, i64)>,
    /// Distinct features.
    pub vocabulary: i64,
    /// The confidence (per mille) needed to apply a category.
    pub threshold_permille: i64,
    /// When the counts were last rebuilt.
    pub retrained_at: Option<Timestamp>,
}

/// The model's size.
pub async fn report(c: &mut dyn Conn) -> Result<Report> {
    let meta = c
        .one(
            "SELECT vocabulary, threshold_permille, retrained_at FROM classifier_meta WHERE id = 1",
            &[],
        )
        .await?;
    let examples = c
        .query(
            "SELECT category, docs FROM classifier_classes ORDER BY category",
            &[],
        )
        .await?
        .iter()
        .map(|r| Ok((r.text("category")?, r.int("docs")?)))
        .collect::<Result<_>>()?;
    Ok(Report {
        examples,
        vocabulary: meta.int("vocabulary")?,
        threshold_permille: meta.int("threshold_permille")?,
        retrained_at: meta.opt_int("retrained_at")?.map(Timestamp),
    })
}
