//! Whole-document validation of a catalogue import (contract §3.1): every problem is
//! collected with its JSON path; links to SPCM profiles are resolved to profile ids.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, SecondsFormat, Utc};

use super::{CatalogueDocument, ValueAddedServiceLink, SALE_TYPES};

/// A document that passed validation: dates in RFC 3339 UTC, profile links by id.
#[derive(Debug, Clone)]
pub struct ValidCatalogue {
    pub document: CatalogueDocument,
    /// The SPCM profiles the catalogue uses, each once.
    pub profile_ids: Vec<i64>,
}

/// One problem: the JSON path and what is wrong there.
pub type Problem = (String, String);

struct Problems(Vec<Problem>);

impl Problems {
    fn add(&mut self, path: String, description: impl Into<String>) {
        self.0.push((path, description.into()));
    }

    /// Normalizes an optional date-time to RFC 3339 UTC, or notes why it cannot be one.
    fn date(&mut self, path: String, value: &mut Option<String>) {
        if let Some(raw) = value {
            match DateTime::parse_from_rfc3339(raw) {
                Ok(parsed) => *raw = parsed.with_timezone(&Utc).to_rfc3339_opts(SecondsFormat::AutoSi, true),
                Err(_) => self.add(path, format!("'{raw}' is not an RFC 3339 date-time")),
            }
        }
    }

    fn id(&mut self, path: String, id: &str, seen: &mut HashSet<String>, kind: &str) {
        if id.trim().is_empty() {
            self.add(path, format!("{kind} id must not be empty"));
        } else if !seen.insert(id.to_owned()) {
            self.add(path, format!("duplicate {kind} id '{id}'"));
        }
    }

    fn since_until(&mut self, path: &str, since: &mut Option<String>, until: &mut Option<String>) {
        self.date(format!("{path}.in_catalogue_since"), since);
        self.date(format!("{path}.in_catalogue_until"), until);
    }

    fn links(&mut self, path: &str, links: &[ValueAddedServiceLink], vas: &HashMap<String, usize>) {
        for (k, link) in links.iter().enumerate() {
            let path = format!("{path}.value_added_services[{k}]");
            if !vas.contains_key(&link.value_added_service_id) {
                let id = &link.value_added_service_id;
                self.add(format!("{path}.value_added_service_id"), format!("unknown value-added service '{id}'"));
            }
            for (m, name) in link.sale_type_names.iter().flatten().enumerate() {
                if !SALE_TYPES.contains(&name.as_str()) {
                    let known = SALE_TYPES.join(", ");
                    self.add(
                        format!("{path}.sale_type_names[{m}]"),
                        format!("unknown sale type '{name}' (one of {known})"),
                    );
                }
            }
        }
    }
}

fn index<T>(items: &[T], id: impl Fn(&T) -> &str) -> HashMap<String, usize> {
    items.iter().enumerate().map(|(i, item)| (id(item).to_owned(), i)).collect()
}

/// Validates `document` whole. `profiles` maps the tenant's SPCM profile names to ids.
pub fn validate(
    mut document: CatalogueDocument,
    profiles: &HashMap<String, i64>,
) -> Result<ValidCatalogue, Vec<Problem>> {
    let mut problems = Problems(Vec::new());
    let services = index(&document.services, |s| &s.id);
    let base_profiles = index(&document.base_profiles, |b| &b.id);
    let vas = index(&document.value_added_services, |v| &v.id);
    let commercial_products = index(&document.commercial_products, |c| &c.id);

    let mut seen = HashSet::new();
    for (i, service) in document.services.iter_mut().enumerate() {
        let path = format!("$.services[{i}]");
        problems.id(format!("{path}.id"), &service.id, &mut seen, "service");
        problems.since_until(&path, &mut service.in_catalogue_since, &mut service.in_catalogue_until);
    }

    let mut seen = HashSet::new();
    for (i, base) in document.base_profiles.iter_mut().enumerate() {
        let path = format!("$.base_profiles[{i}]");
        problems.id(format!("{path}.id"), &base.id, &mut seen, "base profile");
        problems.since_until(&path, &mut base.in_catalogue_since, &mut base.in_catalogue_until);
        for (j, link) in base.services.iter_mut().enumerate() {
            let path = format!("{path}.services[{j}]");
            if !services.contains_key(&link.service_id) {
                problems.add(format!("{path}.service_id"), format!("unknown service '{}'", link.service_id));
            }
            problems.date(format!("{path}.from"), &mut link.from);
            problems.date(format!("{path}.to"), &mut link.to);
        }
    }

    let mut seen = HashSet::new();
    for (i, service) in document.value_added_services.iter_mut().enumerate() {
        let path = format!("$.value_added_services[{i}]");
        problems.id(format!("{path}.id"), &service.id, &mut seen, "value-added service");
        problems.since_until(&path, &mut service.in_catalogue_since, &mut service.in_catalogue_until);
        for (j, requirement) in service.requires.iter().enumerate() {
            if !vas.contains_key(&requirement.value_added_service_id) {
                let id = &requirement.value_added_service_id;
                problems.add(
                    format!("{path}.requires[{j}].value_added_service_id"),
                    format!("unknown value-added service '{id}'"),
                );
            }
        }
    }
    check_cycles(&document, &vas, &mut problems);

    let mut seen = HashSet::new();
    for (i, product) in document.commercial_products.iter_mut().enumerate() {
        let path = format!("$.commercial_products[{i}]");
        problems.id(format!("{path}.id"), &product.id, &mut seen, "commercial product");
        problems.since_until(&path, &mut product.in_catalogue_since, &mut product.in_catalogue_until);
        for (j, base) in product.base_profile_ids.iter().enumerate() {
            if !base_profiles.contains_key(base) {
                problems.add(format!("{path}.base_profile_ids[{j}]"), format!("unknown base profile '{base}'"));
            }
        }
        problems.links(&path, &product.value_added_services, &vas);
    }

    let mut profile_ids = Vec::new();
    let (mut seen_bp, mut seen_st, mut seen_bcp) = (HashSet::new(), HashSet::new(), HashSet::new());
    for (i, bundled) in document.bundled_products.iter_mut().enumerate() {
        let path = format!("$.bundled_products[{i}]");
        problems.id(format!("{path}.id"), &bundled.id, &mut seen_bp, "bundled product");
        problems.since_until(&path, &mut bundled.in_catalogue_since, &mut bundled.in_catalogue_until);
        let mut owners_seen = HashSet::new();
        let mut catch_all = false;
        for (j, link) in bundled.provisioning_profiles.iter_mut().enumerate() {
            let path = format!("{path}.provisioning_profiles[{j}]");
            if link.profile_id.take().is_some() {
                problems.add(
                    format!("{path}.profile_id"),
                    "profile_id is set by the service; name the profile with profile_name",
                );
            }
            match link.profile_name.take() {
                None => problems.add(format!("{path}.profile_name"), "profile_name is mandatory"),
                Some(name) => match profiles.get(&name) {
                    Some(id) => {
                        link.profile_id = Some(*id);
                        if !profile_ids.contains(id) {
                            profile_ids.push(*id);
                        }
                    }
                    None => problems.add(
                        format!("{path}.profile_name"),
                        format!("no provisioning profile named '{name}' in this tenant"),
                    ),
                },
            }
            match &link.territory_owners {
                None if catch_all => problems.add(
                    format!("{path}.territory_owners"),
                    "only one provisioning profile per bundled product may serve the other territory owners (null)",
                ),
                None => catch_all = true,
                Some(owners) => {
                    for (k, owner) in owners.iter().enumerate() {
                        let path = format!("{path}.territory_owners[{k}]");
                        if owner.trim().is_empty() || owner.contains(',') {
                            problems.add(path, "a territory owner is a non-empty name without commas");
                        } else if !owners_seen.insert(owner.clone()) {
                            problems.add(path, format!("territory owner '{owner}' has another provisioning profile in this bundled product"));
                        }
                    }
                }
            }
            problems.since_until(&path, &mut link.in_catalogue_since, &mut link.in_catalogue_until);
        }
        for (j, subs_type) in bundled.bundled_product_subs_types.iter_mut().enumerate() {
            let path = format!("{path}.bundled_product_subs_types[{j}]");
            problems.id(format!("{path}.id"), &subs_type.id, &mut seen_st, "bundled product subscription type");
            problems.since_until(&path, &mut subs_type.in_catalogue_since, &mut subs_type.in_catalogue_until);
            for (k, product) in subs_type.bundled_commercial_products.iter_mut().enumerate() {
                let path = format!("{path}.bundled_commercial_products[{k}]");
                problems.id(format!("{path}.id"), &product.id, &mut seen_bcp, "bundled commercial product");
                if !commercial_products.contains_key(&product.commercial_product_id) {
                    let id = &product.commercial_product_id;
                    problems.add(format!("{path}.commercial_product_id"), format!("unknown commercial product '{id}'"));
                }
                problems.since_until(&path, &mut product.in_catalogue_since, &mut product.in_catalogue_until);
                problems.links(&path, &product.value_added_services, &vas);
            }
        }
    }

    if problems.0.is_empty() {
        Ok(ValidCatalogue { document, profile_ids })
    } else {
        Err(problems.0)
    }
}

/// Reports each `requires` edge that closes a cycle, with the cycle it closes.
fn check_cycles(document: &CatalogueDocument, vas: &HashMap<String, usize>, problems: &mut Problems) {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    let services = &document.value_added_services;
    let mut marks = vec![Mark::New; services.len()];
    for root in 0..services.len() {
        if marks[root] != Mark::New {
            continue;
        }
        // Iterative depth-first search: (service, next requirement to look at).
        let mut stack = vec![(root, 0usize)];
        marks[root] = Mark::Open;
        while let Some((node, next)) = stack.pop() {
            let Some(requirement) = services[node].requires.get(next) else {
                marks[node] = Mark::Done;
                continue;
            };
            stack.push((node, next + 1));
            let Some(&target) = vas.get(&requirement.value_added_service_id) else { continue };
            match marks[target] {
                Mark::New => {
                    marks[target] = Mark::Open;
                    stack.push((target, 0));
                }
                Mark::Open => {
                    let start = stack.iter().position(|(n, _)| *n == target).unwrap_or(0);
                    let mut cycle: Vec<&str> = stack[start..].iter().map(|(n, _)| services[*n].id.as_str()).collect();
                    cycle.push(&services[target].id);
                    problems.add(
                        format!("$.value_added_services[{node}].requires[{next}].value_added_service_id"),
                        format!("cycle in requires: {}", cycle.join(" → ")),
                    );
                }
                Mark::Done => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(value: serde_json::Value) -> CatalogueDocument {
        serde_json::from_value(value).unwrap()
    }

    fn paths(result: Result<ValidCatalogue, Vec<Problem>>) -> Vec<String> {
        result.unwrap_err().into_iter().map(|(path, _)| path).collect()
    }

    #[test]
    fn a_cycle_in_requires_is_reported_at_the_closing_edge() {
        let document = parse(json!({"value_added_services": [
            {"id": "A", "name": "a", "requires": [{"value_added_service_id": "B", "is_mandatory": true, "max_quantity": 1}]},
            {"id": "B", "name": "b", "requires": [{"value_added_service_id": "C", "is_mandatory": true, "max_quantity": 1}]},
            {"id": "C", "name": "c", "requires": [{"value_added_service_id": "A", "is_mandatory": true, "max_quantity": 1}]},
            {"id": "D", "name": "d", "requires": [{"value_added_service_id": "D", "is_mandatory": true, "max_quantity": 1}]}
        ]}));
        let problems = validate(document, &HashMap::new()).unwrap_err();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert_eq!(problems[0].0, "$.value_added_services[2].requires[0].value_added_service_id");
        assert!(problems[0].1.contains("A → B → C → A"), "{}", problems[0].1);
        assert_eq!(problems[1].0, "$.value_added_services[3].requires[0].value_added_service_id");
    }

    #[test]
    fn a_diamond_is_no_cycle_and_dates_become_utc() {
        let requires = |id: &str| json!({"value_added_service_id": id, "is_mandatory": false, "max_quantity": 1});
        let document = parse(json!({"value_added_services": [
            {"id": "A", "name": "a", "in_catalogue_since": "2019-08-24T16:15:22+02:00", "requires": [requires("B"), requires("C")]},
            {"id": "B", "name": "b", "requires": [requires("D")]},
            {"id": "C", "name": "c", "requires": [requires("D")]},
            {"id": "D", "name": "d"}
        ]}));
        let valid = validate(document, &HashMap::new()).unwrap();
        assert_eq!(valid.document.value_added_services[0].in_catalogue_since.as_deref(), Some("2019-08-24T14:15:22Z"));
    }

    #[test]
    fn every_kind_of_problem_is_reported_at_once() {
        let document = parse(json!({
            "services": [{"id": "S", "name": "s"}, {"id": "S", "name": "again"}],
            "base_profiles": [{"id": "B", "name": "b", "services": [{"service_id": "nope", "from": "yesterday"}]}],
            "value_added_services": [{"id": "V", "name": "v"}],
            "commercial_products": [{"id": "C", "name": "c", "base_profile_ids": ["X"],
                "value_added_services": [{"value_added_service_id": "V", "is_mandatory": true, "max_quantity": 1, "sale_type_names": ["Rebajas"]}]}],
            "bundled_products": [{"id": "BP", "name": "bp", "provisioning_profiles": [{"profile_name": "ghost"}],
                "bundled_product_subs_types": [{"id": "ST", "name": "st", "bundled_commercial_products": [
                    {"id": "BCP", "commercial_product_id": "missing"}]}]}]
        }));
        let profiles = HashMap::from([("chaCha".to_owned(), 1)]);
        assert_eq!(paths(validate(document, &profiles)), [
            "$.services[1].id",
            "$.base_profiles[0].services[0].service_id",
            "$.base_profiles[0].services[0].from",
            "$.commercial_products[0].base_profile_ids[0]",
            "$.commercial_products[0].value_added_services[0].sale_type_names[0]",
            "$.bundled_products[0].provisioning_profiles[0].profile_name",
            "$.bundled_products[0].bundled_product_subs_types[0].bundled_commercial_products[0].commercial_product_id",
        ]);
    }

    #[test]
    fn profile_names_resolve_to_ids() {
        let document = parse(json!({"bundled_products": [{"id": "BP", "name": "bp", "provisioning_profiles": [
            {"profile_name": "chaCha", "territory_owners": ["YOIGO"]},
            {"profile_name": "chaCha", "territory_owners": null}
        ]}]}));
        let profiles = HashMap::from([("chaCha".to_owned(), 7)]);
        let valid = validate(document, &profiles).unwrap();
        assert_eq!(valid.profile_ids, [7]);
        let link = &valid.document.bundled_products[0].provisioning_profiles[0];
        assert_eq!((link.profile_id, link.profile_name.as_deref()), (Some(7), None));
    }
}
