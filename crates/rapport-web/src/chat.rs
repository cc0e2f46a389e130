//! Live chat in the browser: the visitor's widget (`/widget.js`), one static script a site
//! embeds with `<script src="https://HOST/widget.js" async></script>`. It speaks the
//! protocol of docs/CHAT.md to the API's `chat` room; nothing here touches the store.

use axum::response::Response;

/// The widget: plain JavaScript, compiled in.
pub async fn widget_js() -> Response {
    crate::asset(
        "application/javascript; charset=utf-8",
        include_str!("../assets/widget.js"),
    )
}
