//! The engine over forum threads: questions and answers found, forgiveness, freshness.

use rapport_store::community::index::IndexedTopic;

use super::*;

fn topic(id: i64, title: &str, posts: &[(i64, &str)]) -> IndexedTopic {
    IndexedTopic {
        id,
        title: title.into(),
        posts: posts.iter().map(|(p, b)| (*p, (*b).to_owned())).collect(),
    }
}

fn index() -> CommunityIndex {
    let ix = CommunityIndex::default();
    ix.put(&[
        topic(
            1,
            "How do I reset my password?",
            &[
                (10, "The reset email never came."),
                (11, "Check the spam folder, then ask for a new link."),
            ],
        ),
        topic(
            2,
            "Shipping to Canada",
            &[
                (20, "Do you ship parcels there?"),
                (21, "Yes, in five to seven days."),
            ],
        ),
        topic(
            3,
            "Printer will not connect",
            &[(30, "The light keeps blinking after the update.")],
        ),
    ])
    .unwrap();
    ix
}

fn find(ix: &CommunityIndex, text: &str) -> Vec<i64> {
    ix.search(&TopicQuery {
        text,
        limit: 10,
        suggest: false,
    })
    .into_iter()
    .map(|h| h.topic_id)
    .collect()
}

#[test]
fn questions_and_answers_are_found_forgivingly() {
    let ix = index();
    assert_eq!(ix.topics(), 3);
    assert_eq!(find(&ix, "pasword")[0], 1, "a misspelling");
    assert_eq!(find(&ix, "resetting passwords")[0], 1, "stems");
    assert_eq!(find(&ix, "spam folder")[0], 1, "an answer's words");
    let hit = &ix.search(&TopicQuery {
        text: "spam folder",
        limit: 1,
        suggest: false,
    })[0];
    assert_eq!(hit.post_id, 11, "the answer that matched");
    assert_eq!(find(&ix, "blinking light printer")[0], 3);
    assert!(find(&ix, "zebra").is_empty());
}

#[test]
fn as_you_type_finds_what_a_prefix_begins() {
    let ix = index();
    let hits: Vec<i64> = ix
        .search(&TopicQuery {
            text: "shipping to can",
            limit: 5,
            suggest: true,
        })
        .into_iter()
        .map(|h| h.topic_id)
        .collect();
    assert_eq!(hits.first(), Some(&2));
}

#[test]
fn a_topic_is_replaced_or_removed_as_a_whole() {
    let ix = index();
    // An answer hidden: the topic is indexed again without it.
    ix.put(&[topic(
        1,
        "How do I reset my password?",
        &[(10, "The reset email never came.")],
    )])
    .unwrap();
    assert!(find(&ix, "spam folder").is_empty());
    assert_eq!(find(&ix, "password"), [1]);
    // The topic hidden: gone.
    ix.remove(1).unwrap();
    assert!(find(&ix, "password").is_empty());
    assert_eq!(ix.topics(), 2);
}
