-- The community forum: topics (a question and its answers, all posts), one vote per
-- customer per post, and the spam filter's learned word counts. A topic stands where
-- its question post does (`state` is copied onto the topic for listing).

CREATE TABLE community_topics (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    author_customer_id INTEGER REFERENCES customers(id),
    author_user_id INTEGER REFERENCES users(id),
    state TEXT NOT NULL,
    locked BOOLEAN NOT NULL DEFAULT FALSE,
    accepted_post_id INTEGER,
    votes INTEGER NOT NULL DEFAULT 0,
    ticket_id INTEGER REFERENCES tickets(id),
    article_id INTEGER REFERENCES kb_articles(id) ON DELETE SET NULL,
    last_activity_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX community_topics_recent ON community_topics(state, last_activity_at);
CREATE INDEX community_topics_votes ON community_topics(state, votes);

CREATE TABLE community_posts (
    id INTEGER PRIMARY KEY,
    topic_id INTEGER NOT NULL REFERENCES community_topics(id) ON DELETE CASCADE,
    is_question BOOLEAN NOT NULL,
    body TEXT NOT NULL,
    author_customer_id INTEGER REFERENCES customers(id),
    author_user_id INTEGER REFERENCES users(id),
    state TEXT NOT NULL,
    spam_score INTEGER NOT NULL DEFAULT 0,
    trained TEXT,
    votes INTEGER NOT NULL DEFAULT 0,
    moderated_by INTEGER REFERENCES users(id),
    moderated_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX community_posts_topic ON community_posts(topic_id, id);
CREATE INDEX community_posts_author ON community_posts(author_customer_id, created_at);
CREATE INDEX community_posts_state ON community_posts(state, created_at);

CREATE TABLE community_votes (
    post_id INTEGER NOT NULL REFERENCES community_posts(id) ON DELETE CASCADE,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (post_id, customer_id)
);

-- The spam filter: in how many posts learned as spam and as good each token appeared,
-- and how many posts of each were learned (`label` spam | ham).
CREATE TABLE community_spam_tokens (
    token TEXT PRIMARY KEY,
    spam INTEGER NOT NULL DEFAULT 0,
    ham INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE community_spam_totals (
    label TEXT PRIMARY KEY,
    docs INTEGER NOT NULL DEFAULT 0
);
