//! Why a request did not fit its type, read from serde's own structured hooks instead of
//! its messages. The body (or query) is deserialised once more over an adapter whose error
//! type records `missing_field` and `unknown_field` as data; `serde_path_to_error` gives
//! the path to them.

use std::fmt;

use serde::de::value::{MapAccessDeserializer, MapDeserializer, SeqDeserializer};
use serde::de::{self, DeserializeOwned, IntoDeserializer, Visitor};
use serde_json::Value;

/// What went wrong, as data.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Misfit {
    /// A required field was absent.
    Missing(&'static str),
    /// A field the type does not have.
    Unknown(String),
    /// Anything else (a wrong type, a bad value).
    Other(String),
}

impl fmt::Display for Misfit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Misfit::Missing(n) => write!(f, "missing field `{n}`"),
            Misfit::Unknown(n) => write!(f, "unknown field `{n}`"),
            Misfit::Other(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Misfit {}

impl de::Error for Misfit {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Misfit::Other(msg.to_string())
    }

    fn missing_field(field: &'static str) -> Self {
        Misfit::Missing(field)
    }

    fn unknown_field(field: &str, _expected: &'static [&'static str]) -> Self {
        Misfit::Unknown(field.to_owned())
    }
}

/// The path to the misfit and, for a missing or unknown field, its name.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Located {
    /// serde_path_to_error's path (`.` at the top).
    pub path: String,
    /// The missing or unknown field's name, if that is what went wrong.
    pub named: Option<String>,
}

impl Located {
    /// The request field at fault: the path, ending in the named field when there is one.
    pub fn field(&self) -> String {
        let path = if self.path == "." { "" } else { &self.path };
        match &self.named {
            // An unknown key is already the last segment of the path.
            Some(n) if path == n || path.ends_with(&format!(".{n}")) => path.to_owned(),
            Some(n) if path.is_empty() => n.clone(),
            Some(n) => format!("{path}.{n}"),
            None => path.to_owned(),
        }
    }
}

/// Deserialises `T` from `value` over the adapter; `None` when it fits. Query strings are
/// `lenient` (every value is text, read as a number or boolean where one is expected).
pub(crate) fn locate<T: DeserializeOwned>(value: &Value, lenient: bool) -> Option<Located> {
    let err = serde_path_to_error::deserialize::<_, T>(ValueDe { value, lenient }).err()?;
    let path = err.path().to_string();
    let named = match err.into_inner() {
        Misfit::Missing(n) => Some(n.to_owned()),
        Misfit::Unknown(n) => Some(n),
        Misfit::Other(_) => None,
    };
    Some(Located { path, named })
}

/// A deserializer over a parsed JSON value whose errors are [`Misfit`]s.
#[derive(Clone, Copy)]
struct ValueDe<'a> {
    value: &'a Value,
    lenient: bool,
}

impl<'a> ValueDe<'a> {
    fn child(self, value: &'a Value) -> Self {
        Self { value, ..self }
    }

    fn parsed<T: std::str::FromStr>(self) -> Option<T> {
        match self.value {
            Value::String(s) if self.lenient => s.parse().ok(),
            _ => None,
        }
    }
}

impl<'de> IntoDeserializer<'de, Misfit> for ValueDe<'_> {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

macro_rules! lenient {
    ($($method:ident => $t:ty, $visit:ident;)*) => {$(
        fn $method<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Misfit> {
            match self.parsed::<$t>() {
                Some(x) => v.$visit(x),
                None => self.deserialize_any(v),
            }
        }
    )*};
}

impl<'de> de::Deserializer<'de> for ValueDe<'_> {
    type Error = Misfit;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Misfit> {
        match self.value {
            Value::Null => v.visit_unit(),
            Value::Bool(b) => v.visit_bool(*b),
            Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
                (Some(u), _, _) => v.visit_u64(u),
                (_, Some(i), _) => v.visit_i64(i),
                (_, _, f) => v.visit_f64(f.unwrap_or(f64::NAN)),
            },
            Value::String(s) => v.visit_str(s),
            Value::Array(items) => {
                let mut seq = SeqDeserializer::new(items.iter().map(|x| self.child(x)));
                let out = v.visit_seq(&mut seq)?;
                seq.end()?;
                Ok(out)
            }
            Value::Object(map) => {
                let mut access =
                    MapDeserializer::new(map.iter().map(|(k, x)| (k.as_str(), self.child(x))));
                let out = v.visit_map(&mut access)?;
                access.end()?;
                Ok(out)
            }
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Misfit> {
        match self.value {
            Value::Null => v.visit_none(),
            _ => v.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        v: V,
    ) -> Result<V::Value, Misfit> {
        v.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Misfit> {
        match self.value {
            Value::String(s) => v.visit_enum(s.as_str().into_deserializer()),
            Value::Object(map) => v.visit_enum(MapAccessDeserializer::new(MapDeserializer::new(
                map.iter().map(|(k, x)| (k.as_str(), self.child(x))),
            ))),
            _ => self.deserialize_any(v),
        }
    }

    lenient! {
        deserialize_bool => bool, visit_bool;
        deserialize_i8 => i8, visit_i8;
        deserialize_i16 => i16, visit_i16;
        deserialize_i32 => i32, visit_i32;
        deserialize_i64 => i64, visit_i64;
        deserialize_u8 => u8, visit_u8;
        deserialize_u16 => u16, visit_u16;
        deserialize_u32 => u32, visit_u32;
        deserialize_u64 => u64, visit_u64;
        deserialize_f32 => f32, visit_f32;
        deserialize_f64 => f64, visit_f64;
    }

    serde::forward_to_deserialize_any! {
        i128 u128 char str string bytes byte_buf unit unit_struct seq tuple
        tuple_struct map struct identifier ignored_any
    }
}
