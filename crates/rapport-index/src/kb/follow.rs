//! Following the event stream: each `article_changed` event re-reads its article.
