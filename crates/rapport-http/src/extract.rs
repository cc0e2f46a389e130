//! Request extractors that turn every way a request can be malformed into the JSON error
//! contract: wrong content type (415), body too large (413), malformed JSON (400), a
//! field of the wrong type or a missing one (422 naming the field). The bearer token is
//! read in [`crate::auth`].

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Pulls the field name out of a serde message such as "missing field `subject`" or
/// "unknown field `foo`, expected …", joined to the path where it happened.
fn field_of(path: &str, message: &str) -> String {
    let named = message
        .split('`')
        .nth(1)
        .filter(|_| message.starts_with("missing field") || message.starts_with("unknown field"));
    let path = if path == "." { "" } else { path };
    if named.is_some_and(|n| path == n || path.ends_with(&format!(".{n}"))) {
        return path.to_owned();
    }
    match (path.is_empty(), named) {
        (true, Some(n)) => n.to_owned(),
        (false, Some(n)) => format!("{path}.{n}"),
        (_, None) => path.to_owned(),
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
        let mut de = serde_json::Deserializer::from_slice(&bytes);
        match serde_path_to_error::deserialize::<_, T>(&mut de) {
            Ok(v) => {
                de.end()
                    .map_err(|e| ApiError::bad_request(format!("malformed JSON: {e}")))?;
                Ok(JsonBody(v))
            }
            Err(err) => {
                let path = err.path().to_string();
                let inner = err.into_inner();
                if inner.is_data() {
                    let msg = inner.to_string();
                    let msg = msg.split(" at line ").next().unwrap_or(&msg).to_owned();
                    let field = field_of(&path, &msg);
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
                let field = field_of(&path, &msg);
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
    use super::field_of;

    #[test]
    fn field_names_come_from_serde_messages() {
        assert_eq!(field_of(".", "missing field `subject`"), "subject");
        assert_eq!(
            field_of("customer", "missing field `email`"),
            "customer.email"
        );
        assert_eq!(
            field_of("priority", "invalid type: integer `3`, expected a string"),
            "priority"
        );
        assert_eq!(field_of(".", "unknown field `x`, expected `a`"), "x");
        assert_eq!(field_of("x", "unknown field `x`, expected `a`"), "x");
        assert_eq!(
            field_of("customer.x", "unknown field `x`, expected `a`"),
            "customer.x"
        );
    }
}
