-- A classifier example keeps the text it was counted from (the ticket's subject and first
-- message, a few hundred bytes) instead of its features as JSON (several kilobytes): a
-- correction takes back the features of that text. Rows from before keep their features
-- (`text` NULL); new rows leave `features` empty.
ALTER TABLE classifier_examples ADD COLUMN text TEXT;
