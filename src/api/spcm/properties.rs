//! Property tests over the SPCM face's request decoding, and the catalogue document's
//! validation that shares its generators: whatever arrives, parsing answers a value or
//! a described error, never a panic. Bounded, so they run in CI.

use proptest::prelude::*;
use serde_json::{Map, Value};

use super::handlers::{parse_ids, ListQuery};
use super::requests::{parse_new, parse_patch};
use crate::domain::catalogue::{validate, CatalogueDocument};

const FIELDS: [&str; 12] = [
    "id",
    "name",
    "defaultProfile",
    "locale",
    "initialCorePlanName",
    "subscriberClass",
    "subscriberType",
    "dpsEnabled",
    "dpsNotification",
    "eosNotification",
    "paygNotification",
    "_links",
];

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,120}".prop_map(Value::String),
        prop_oneof![Just("prepaid"), Just("POSTPAID"), Just("en"), Just("es-ES"), Just("  x  ")]
            .prop_map(|s| Value::String(s.to_owned())),
    ]
}

fn json() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(FIELDS.to_vec()), inner), 0..8).prop_map(
                |pairs| Value::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect::<Map<_, _>>())
            ),
        ]
    })
}

/// A profile object whose known fields hold arbitrary values.
fn profile_object() -> impl Strategy<Value = Value> {
    prop::collection::vec((prop::sample::select(FIELDS.to_vec()), json()), 0..12)
        .prop_map(|pairs| Value::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn profile_bodies_parse_or_name_every_failing_field(body in prop_oneof![json(), profile_object()]) {
        match parse_new(&body) {
            Ok(new) => {
                let name = new.name.as_str();
                prop_assert!(!name.is_empty() && name.chars().count() <= 100 && name.trim() == name);
            }
            Err(errors) => prop_assert!(!errors.is_empty() && errors.iter().all(|e| !e.field.is_empty() && !e.description.is_empty())),
        }
        for path_id in [None, Some(7)] {
            match parse_patch(&body, path_id) {
                Ok((id, _)) => prop_assert!(path_id.is_none_or(|p| p == id)),
                Err(errors) => prop_assert!(!errors.is_empty()),
            }
        }
    }

    #[test]
    fn query_strings_parse_or_are_refused(query in ".{0,200}", ids in "(id=[-0-9a-z%]{0,6}&){0,8}") {
        if let Ok(parsed) = ListQuery::parse(&query) {
            prop_assert!(parsed.page.offset >= 0);
            prop_assert!(parsed.page.limit.is_none_or(|l| (1..=1000).contains(&l)));
        }
        if let Ok(ids) = parse_ids(&ids) {
            prop_assert!(!ids.id.is_empty() && ids.id.len() <= 1000);
        }
    }

    #[test]
    fn catalogue_documents_validate_or_list_their_problems(document in json()) {
        if let Ok(document) = CatalogueDocument::from_json(document) {
            if let Err(problems) = validate(document, &Default::default()) {
                prop_assert!(problems.iter().all(|(path, why)| path.starts_with("$.") && !why.is_empty()));
            }
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_decoder(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(value) = serde_json::from_slice::<Value>(&bytes) {
            let _ = parse_new(&value);
            let _ = CatalogueDocument::from_json(value);
        }
    }
}
