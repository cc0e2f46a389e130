//! What the judged-set tests share: the demo knowledge base (read by `rapport-demo`, as the
//! demo seeds it), indexed as a server would index its published articles.

use std::path::PathBuf;

use rapport_domain::kb::ArticleStatus;
use rapport_index::kb::{ArticleDoc, KbIndex};

/// The demo knowledge base's folder (its judged sets live there).
pub fn kb_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../rapport-demo/kb")
}

/// The demo's published articles, every language, with its synonym groups.
pub fn demo_index() -> KbIndex {
    let docs: Vec<ArticleDoc> = rapport_demo::kb::articles()
        .expect("the demo articles")
        .into_iter()
        .filter(|a| a.status == ArticleStatus::Published)
        .zip(1..)
        .map(|(a, id)| ArticleDoc {
            id,
            slug: a.slug.as_str().to_owned(),
            visibility: a.visibility,
            default_locale: a.text.locale.clone(),
            tags: a.tags.iter().map(|t| t.as_str().to_owned()).collect(),
            category: None,
            translations: std::iter::once(&a.text)
                .chain(&a.translations)
                .map(|t| {
                    (
                        t.locale.clone(),
                        t.title.as_str().to_owned(),
                        t.body.as_str().to_owned(),
                    )
                })
                .collect(),
        })
        .collect();
    let kb = KbIndex::default();
    kb.put(&docs).expect("indexed");
    let groups: Vec<String> = rapport_demo::kb::synonym_groups()
        .iter()
        .map(|g| g.join(", "))
        .collect();
    kb.set_synonyms(groups.iter().map(String::as_str));
    kb
}
