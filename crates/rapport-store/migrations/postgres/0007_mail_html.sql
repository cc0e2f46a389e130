-- The sanitised HTML of an email (the text stays the body), and the Content-ID of
-- inline images, so `cid:` references show the right picture in place.
ALTER TABLE messages ADD COLUMN html TEXT;
ALTER TABLE attachments ADD COLUMN content_id TEXT;
