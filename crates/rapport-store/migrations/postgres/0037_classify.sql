-- The ticket classifier (issue: routing and SLAs): a multinomial naive Bayes kept as
-- counts, so every node predicts from the same model and an agent's correction counts at
-- once. Examples are tickets whose category an agent set, with the features they were
-- counted with (so a correction takes back exactly what was added).
CREATE TABLE classifier_examples (
    ticket_id BIGINT PRIMARY KEY REFERENCES tickets(id),
    category TEXT NOT NULL,
    features TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE classifier_classes (
    category TEXT PRIMARY KEY,
    docs BIGINT NOT NULL,
    total BIGINT NOT NULL
);
CREATE TABLE classifier_counts (
    feature TEXT NOT NULL,
    category TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (feature, category)
);
-- Each feature's count over all categories; the rows are the vocabulary.
CREATE TABLE classifier_features (
    feature TEXT PRIMARY KEY,
    n BIGINT NOT NULL
);
-- One row: the vocabulary's size, the confidence (per mille) a prediction needs to be
-- applied, and when the model was last rebuilt from its examples.
CREATE TABLE classifier_meta (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    vocabulary BIGINT NOT NULL,
    threshold_permille INTEGER NOT NULL,
    retrained_at BIGINT
);
INSERT INTO classifier_meta (id, vocabulary, threshold_permille) VALUES (1, 0, 600);
-- The classifier's verdict on a ticket: its category, confidence (per mille) and whether
-- it was applied (at or over the threshold) or only suggested.
CREATE TABLE ticket_classification (
    ticket_id BIGINT PRIMARY KEY REFERENCES tickets(id),
    category TEXT NOT NULL,
    confidence_permille INTEGER NOT NULL,
    applied BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL
);
