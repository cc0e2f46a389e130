//! Request extractors that turn every way a request can be malformed into the JSON error
//! contract: wrong content type (415), body too large (413), malformed JSON (400), a
//! field of the wrong type or a missing one (422 naming the field). The bearer token is
//! read in [`crate::auth`].

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::ApiError;

mod misfit;

/// The request field a deserialisation error at `path` is about. serde_path_to_error's
/// path locates the error; when it is a missing or unknown field, the structured re-run in
/// [`misfit`] names it (taken only when it fails at the same path, so the first error in
/// the document stays the one reported).
fn field_at<T: DeserializeOwned>(path: &str, value: Option<&Value>, lenient: bool) -> String {
    let located = value.and_then(|v| misfit::locate::<T>(v, lenient));
    match located {
        Some(l) if l.path == path => l.field(),
        _ => misfit::Located {
            path: path.to_owned(),
            named: None,
        }
        .field(),
    }
}

fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        "the request body is larger than this server accepts",
    )
}

/// A JSON request body, parsed into `T` with errors that name the field.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|m| {
                let m = m.trim().to_ascii_lowercase();
                m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
            });
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON with 'Content-Type: application/json'",
            ));
        }
        let announced = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        if announced.is_some_and(|n| n > crate::MAX_BODY_BYTES) {
            // Refuse from the headers, without reading (or waiting for) the body.
            return Err(too_large());
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                too_large()
            } else {
                ApiError::bad_request(format!("could not read the body: {e}"))
            }
        })?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// `bytes` parsed as JSON into `T`, with the error contract of [`JsonBody`].
fn parse_json<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Ok(v) => {
            de.end()
                .map_err(|e| ApiError::bad_request(format!("malformed JSON: {e}")))?;
            Ok(v)
        }
        Err(err) => {
            let path = err.path().to_string();
            let inner = err.into_inner();
            if inner.is_data() {
                let msg = inner.to_string();
                let msg = msg.split(" at line ").next().unwrap_or(&msg).to_owned();
                let value = serde_json::from_slice::<Value>(bytes).ok();
                let field = field_at::<T>(&path, value.as_ref(), false);
                if field.is_empty() {
                    Err(ApiError::field("body", msg))
                } else {
                    Err(ApiError::field(field, msg))
                }
            } else {
                Err(ApiError::bad_request(format!("malformed JSON: {inner}")))
            }
        }
    }
}

/// A JSON body that may be left out: an empty body is `T::default()`; anything else is
/// read as [`JsonBody`] reads it.
pub struct OptionalJsonBody<T>(pub T);

impl<T: DeserializeOwned + Default, S: Send + Sync> FromRequest<S> for OptionalJsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let empty = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() == "0")
            || (req.headers().get(header::CONTENT_TYPE).is_none()
                && req.headers().get(header::TRANSFER_ENCODING).is_none()
                && req.headers().get(header::CONTENT_LENGTH).is_none());
        if empty {
            return Ok(Self(T::default()));
        }
        JsonBody::<T>::from_request(req, state)
            .await
            .map(|JsonBody(v)| Self(v))
    }
}

/// Query parameters parsed into `T`; unknown or malformed parameters are a 422 naming
/// the parameter.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let q = parts.uri.query().unwrap_or("");
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(q.as_bytes()));
        serde_path_to_error::deserialize::<_, T>(de)
            .map(ApiQuery)
            .map_err(|err| {
                let path = err.path().to_string();
                let msg = err.into_inner().to_string();
                let pairs = form_urlencoded::parse(q.as_bytes())
                    .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
                    .collect::<serde_json::Map<_, _>>();
                let field = field_at::<T>(&path, Some(&Value::Object(pairs)), true);
                ApiError::field(
                    if field.is_empty() {
                        "query".into()
                    } else {
                        field
                    },
                    msg,
                )
            })
    }
}

/// A path parameter; one that does not parse is a 400 naming it, in the JSON contract.
pub struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| ApiPath(p.0))
            .map_err(|e| ApiError::bad_request(e.body_text()).with_field("id"))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "only deserialised")]
    struct Customer {
        email: String,
        name: Option<String>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "only deserialised")]
    struct Create {
        subject: String,
        customer: Customer,
        #[serde(default)]
        priority: Option<String>,
        #[serde(default)]
        tags: Vec<String>,
        #[serde(default)]
        custom_fields: BTreeMap<String, String>,
        #[serde(default)]
        attachments: Vec<Customer>,
    }

    /// The field a JSON body is refused for, the way [`JsonBody`] finds it.
    fn json_field(body: &str) -> String {
        let mut de = serde_json::Deserializer::from_str(body);
        let err = serde_path_to_error::deserialize::<_, Create>(&mut de).unwrap_err();
        let value = serde_json::from_str::<Value>(body).ok();
        field_at::<Create>(&err.path().to_string(), value.as_ref(), false)
    }

    #[test]
    fn missing_fields_are_named_at_every_depth() {
        assert_eq!(json_field(r#"{"customer": {"email": "a"}}"#), "subject");
        assert_eq!(json_field(r#"{"subject": "s"}"#), "customer");
        assert_eq!(
            json_field(r#"{"subject": "s", "customer": {}}"#),
            "customer.email"
        );
        assert_eq!(
            json_field(
                r#"{"subject": "s", "customer": {"email": "a"}, "attachments": [{"email": "b"}, {}]}"#
            ),
            "attachments[1].email"
        );
    }

    #[test]
    fn unknown_fields_are_named_at_every_depth() {
        assert_eq!(json_field(r#"{"subject": "s", "colour": 1}"#), "colour");
        assert_eq!(
            json_field(r#"{"subject": "s", "customer": {"email": "a", "x": 1}}"#),
            "customer.x"
        );
        assert_eq!(
            json_field(
                r#"{"subject": "s", "customer": {"email": "a"}, "attachments": [{"email": "b", "y": 2}]}"#
            ),
            "attachments[0].y"
        );
    }

    #[test]
    fn wrong_types_are_named_by_their_path() {
        assert_eq!(json_field(r#"{"subject": 3}"#), "subject");
        assert_eq!(
            json_field(r#"{"subject": "s", "customer": {"email": "a"}, "tags": ["a", 1]}"#),
            "tags[1]"
        );
        assert_eq!(
            json_field(
                r#"{"subject": "s", "customer": {"email": "a"}, "custom_fields": {"x": [1]}}"#
            ),
            "custom_fields.x"
        );
    }

    #[test]
    fn the_first_error_in_the_document_is_the_one_named() {
        // Sorted, `customer` would come first; the body's own order puts `tags` first.
        assert_eq!(
            json_field(r#"{"subject": "s", "tags": 5, "customer": {}}"#),
            "tags"
        );
    }

    #[test]
    fn query_fields_are_named_too() {
        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        #[expect(dead_code, reason = "only deserialised")]
        struct Q {
            q: String,
            limit: Option<u32>,
        }
        let field = |query: &str| {
            let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
            let err = serde_path_to_error::deserialize::<_, Q>(de).unwrap_err();
            let pairs = form_urlencoded::parse(query.as_bytes())
                .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
                .collect::<serde_json::Map<_, _>>();
            field_at::<Q>(&err.path().to_string(), Some(&Value::Object(pairs)), true)
        };
        assert_eq!(field("limit=5"), "q");
        assert_eq!(field("q=a&limit=x"), "limit");
        assert_eq!(field("q=a&limit=5&sort=up"), "sort");
    }
}
