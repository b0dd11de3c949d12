//! A strict JSON reader: like `serde_json::from_slice::<Value>`, but an object with the
//! same key twice is refused (serde_json keeps the last value silently), and so is a
//! document nested deeper than [`MAX_DEPTH`]. Both refusals name their JSON path
//! (contract §1.1).

use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// Deepest nesting of arrays and objects accepted; the documents of both faces need
/// about ten, and serde_json itself stops at 128.
pub const MAX_DEPTH: usize = 64;

/// Why a body is not acceptable JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonError {
    /// Not JSON at all: serde_json's message, with line and column.
    Syntax(String),
    /// Well-formed JSON that is refused, at a JSON path such as `$.services[0].name`.
    Refused { path: String, description: String },
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JsonError::Syntax(why) => write!(f, "{why}"),
            JsonError::Refused { path, description } => write!(f, "{description} (at {path})"),
        }
    }
}

/// Parses one JSON value, refusing duplicate keys and nesting deeper than [`MAX_DEPTH`].
pub fn from_slice(bytes: &[u8]) -> Result<Value, JsonError> {
    let mut walk = Walk { path: Vec::new(), refused: None };
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let parsed = ValueSeed { walk: &mut walk }.deserialize(&mut deserializer).and_then(|value| {
        deserializer.end()?;
        Ok(value)
    });
    match (parsed, walk.refused) {
        (_, Some(refused)) => Err(refused),
        (Ok(value), None) => Ok(value),
        (Err(err), None) => Err(JsonError::Syntax(err.to_string())),
    }
}

enum Step {
    Key(String),
    Index(usize),
}

/// Where the reader is, and the refusal that stopped it, if any.
struct Walk {
    path: Vec<Step>,
    refused: Option<JsonError>,
}

impl Walk {
    fn path(&self) -> String {
        let mut path = String::from("$");
        for step in &self.path {
            match step {
                Step::Index(i) => path.push_str(&format!("[{i}]")),
                Step::Key(key) if !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => {
                    path.push('.');
                    path.push_str(key);
                }
                Step::Key(key) => path.push_str(&format!("[{}]", Value::String(key.clone()))),
            }
        }
        path
    }

    /// Records why the document is refused; the returned error only stops serde_json.
    fn refuse<E: de::Error>(&mut self, description: String) -> E {
        let path = self.path();
        self.refused = Some(JsonError::Refused { path, description });
        E::custom("refused")
    }

    fn enter<E: de::Error>(&mut self) -> Result<(), E> {
        if self.path.len() >= MAX_DEPTH {
            return Err(self.refuse(format!("JSON nested deeper than {MAX_DEPTH} levels")));
        }
        Ok(())
    }
}

struct ValueSeed<'a> {
    walk: &'a mut Walk,
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let walk = self.walk;
        walk.enter()?;
        let mut items = Vec::new();
        loop {
            walk.path.push(Step::Index(items.len()));
            let item = seq.next_element_seed(ValueSeed { walk: &mut *walk })?;
            walk.path.pop();
            match item {
                Some(item) => items.push(item),
                None => return Ok(Value::Array(items)),
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let walk = self.walk;
        walk.enter()?;
        let mut fields = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if fields.contains_key(&key) {
                walk.path.push(Step::Key(key.clone()));
                return Err(walk.refuse(format!("the key '{key}' appears twice in this object")));
            }
            walk.path.push(Step::Key(key.clone()));
            let value = map.next_value_seed(ValueSeed { walk: &mut *walk })?;
            walk.path.pop();
            fields.insert(key, value);
        }
        Ok(Value::Object(fields))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn refused(text: &str) -> (String, String) {
        match from_slice(text.as_bytes()) {
            Err(JsonError::Refused { path, description }) => (path, description),
            other => panic!("expected a refusal of {text}, got {other:?}"),
        }
    }

    #[test]
    fn reads_what_serde_json_reads() {
        let text =
            r#"{"a": [1, -2, 3.5, "x\u00e9", true, null, {}], "b": {"c": []}, "": 0, "big": 18446744073709551615}"#;
        assert_eq!(from_slice(text.as_bytes()).unwrap(), serde_json::from_str::<Value>(text).unwrap());
        assert_eq!(from_slice(b" 7 ").unwrap(), json!(7));
    }

    #[test]
    fn a_duplicate_key_is_refused_at_its_path() {
        let (path, description) = refused(r#"{"services": [{"id": "1", "name": "a", "name": "b"}]}"#);
        assert_eq!(path, "$.services[0].name");
        assert!(description.contains("'name'"), "{description}");
        assert_eq!(refused(r#"{"a": 1, "a": 1}"#).0, "$.a");
        assert_eq!(refused(r#"{"x": {"a b": {"k": 1, "k": 2}}}"#).0, r#"$.x["a b"].k"#);
        // The same key in sibling objects is fine.
        assert!(from_slice(br#"[{"a": 1}, {"a": 2}]"#).is_ok());
    }

    #[test]
    fn deep_nesting_is_refused_before_serde_json_gives_up() {
        let deep = |levels: usize| format!("{}{}", "[".repeat(levels), "]".repeat(levels));
        assert!(from_slice(deep(MAX_DEPTH).as_bytes()).is_ok());
        let (path, description) = refused(&deep(MAX_DEPTH + 1));
        assert_eq!(path, format!("${}", "[0]".repeat(MAX_DEPTH)));
        assert!(description.contains("64 levels"), "{description}");
        assert!(matches!(from_slice(deep(10_000).as_bytes()), Err(JsonError::Refused { .. })));
    }

    #[test]
    fn syntax_errors_and_trailing_text_are_syntax_errors() {
        for text in ["{\"a\": ", "[1,]", "{} {}", "nul", ""] {
            assert!(matches!(from_slice(text.as_bytes()), Err(JsonError::Syntax(_))), "{text}");
        }
    }
}
