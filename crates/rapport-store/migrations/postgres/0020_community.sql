-- The community forum: topics (a question and its answers, all posts), one vote per
-- customer per post, and the spam filter's learned word counts. A topic stands where
-- its question post does (`state` is copied onto the topic for listing).

CREATE TABLE community_topics (
    id BIGSERIAL PRIMARY KEY,
    title TEXT NOT NULL,
    author_customer_id BIGINT REFERENCES customers(id),
    author_user_id BIGINT REFERENCES users(id),
    state TEXT NOT NULL,
    locked BOOLEAN NOT NULL DEFAULT FALSE,
    accepted_post_id BIGINT,
    votes BIGINT NOT NULL DEFAULT 0,
    ticket_id BIGINT REFERENCES tickets(id),
    article_id BIGINT REFERENCES kb_articles(id) ON DELETE SET NULL,
    last_activity_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX community_topics_recent ON community_topics(state, last_activity_at);
CREATE INDEX community_topics_votes ON community_topics(state, votes);

CREATE TABLE community_posts (
    id BIGSERIAL PRIMARY KEY,
    topic_id BIGINT NOT NULL REFERENCES community_topics(id) ON DELETE CASCADE,
    is_question BOOLEAN NOT NULL,
    body TEXT NOT NULL,
    author_customer_id BIGINT REFERENCES customers(id),
    author_user_id BIGINT REFERENCES users(id),
    state TEXT NOT NULL,
    spam_score BIGINT NOT NULL DEFAULT 0,
    trained TEXT,
    votes BIGINT NOT NULL DEFAULT 0,
    moderated_by BIGINT REFERENCES users(id),
    moderated_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX community_posts_topic ON community_posts(topic_id, id);
CREATE INDEX community_posts_author ON community_posts(author_customer_id, created_at);
CREATE INDEX community_posts_state ON community_posts(state, created_at);

CREATE TABLE community_votes (
    post_id BIGINT NOT NULL REFERENCES community_posts(id) ON DELETE CASCADE,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (post_id, customer_id)
);

-- The spam filter: in how many posts learned as spam and as good each token appeared,
-- and how many posts of each were learned (`label` spam | ham).
CREATE TABLE community_spam_tokens (
    token TEXT PRIMARY KEY,
    spam BIGINT NOT NULL DEFAULT 0,
    ham BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE community_spam_totals (
    label TEXT PRIMARY KEY,
    docs BIGINT NOT NULL DEFAULT 0
);
