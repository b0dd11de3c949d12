//! Whole-document validation of a catalogue import (contract §3.1): every problem is
//! collected with its JSON path; links to SPCM profiles are resolved to profile ids.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, SecondsFormat, Utc};

use super::{CatalogueDocument, ValueAddedServiceLink, SALE_TYPES};

/// Longest id of any kind, in characters (contract §3.1).
pub const MAX_ID_CHARS: usize = 100;
/// Most services that following `requires` from one value-added service reaches,
/// counting repeats and the service itself (contract §3.1).
pub const MAX_REQUIRED_SERVICES: u64 = 1_000;
/// Most levels that following `requires` from one value-added service reaches; the
/// service itself is level 1 (contract §3.1).
pub const MAX_REQUIRES_LEVELS: u32 = 16;
/// Most items one product's view holds: the value-added services that its links expand
/// to, or its base profiles with their services (docs/api-decisions.md).
pub const MAX_PRODUCT_VIEW_ITEMS: u64 = 10_000;

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

/// Contract §1.1: the problem with a text that holds a control character or a Unicode
/// noncharacter, if it does.
fn forbidden(text: &str) -> Option<String> {
    crate::domain::forbidden_character(text).map(crate::domain::forbidden_character_problem)
}

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

    /// An id: 1–100 characters, no control characters or noncharacters, no space at either
    /// end, unique within its kind. Trailing spaces matter: MariaDB would otherwise pad
    /// them away.
    fn id(&mut self, path: String, id: &str, seen: &mut HashSet<String>, kind: &str) {
        let length = id.chars().count();
        if id.is_empty() {
            self.add(path, format!("{kind} id must not be empty"));
        } else if length > MAX_ID_CHARS {
            self.add(path, format!("{kind} id must be at most {MAX_ID_CHARS} characters, not {length}"));
        } else if let Some(problem) = forbidden(id) {
            self.add(path, format!("{kind} id {problem}"));
        } else if id.starts_with(char::is_whitespace) || id.ends_with(char::is_whitespace) {
            self.add(path, format!("{kind} id '{id}' must not start or end with a space"));
        } else if !seen.insert(id.to_owned()) {
            self.add(path, format!("duplicate {kind} id '{id}'"));
        }
    }

    /// A reference to an id of `kind`; false (with the problem noted) unless it is clean
    /// text, so that the caller looks it up only then.
    fn reference(&mut self, path: &str, id: &str) -> bool {
        match forbidden(id) {
            Some(problem) => {
                self.add(path.to_owned(), format!("a reference {problem}"));
                false
            }
            None => true,
        }
    }

    /// Free text fields (names, descriptions, codes): no control characters or noncharacters.
    fn texts<'a>(&mut self, path: &str, fields: impl IntoIterator<Item = (&'static str, &'a Option<String>)>) {
        for (name, value) in fields {
            if let Some(problem) = value.as_deref().and_then(forbidden) {
                self.add(format!("{path}.{name}"), format!("{name} {problem}"));
            }
        }
    }

    fn since_until(&mut self, path: &str, since: &mut Option<String>, until: &mut Option<String>) {
        self.date(format!("{path}.in_catalogue_since"), since);
        self.date(format!("{path}.in_catalogue_until"), until);
    }

    fn links(&mut self, path: &str, links: &[ValueAddedServiceLink], vas: &HashMap<String, usize>) {
        for (k, link) in links.iter().enumerate() {
            let path = format!("{path}.value_added_services[{k}]");
            let id = &link.value_added_service_id;
            let id_path = format!("{path}.value_added_service_id");
            if self.reference(&id_path, id) && !vas.contains_key(id) {
                self.add(id_path, format!("unknown value-added service '{id}'"));
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

    /// A product's links together expand to at most [`MAX_PRODUCT_VIEW_ITEMS`] services.
    fn expansion(
        &mut self,
        path: &str,
        links: &[ValueAddedServiceLink],
        vas: &HashMap<String, usize>,
        reach: &[Reach],
    ) {
        let total = links
            .iter()
            .filter_map(|link| vas.get(&link.value_added_service_id))
            .fold(0u64, |total, &target| total.saturating_add(reach[target].services));
        if total > MAX_PRODUCT_VIEW_ITEMS {
            self.add(
                format!("{path}.value_added_services"),
                format!(
                    "these value-added services, with the ones they require, come to more than \
                     {MAX_PRODUCT_VIEW_ITEMS} services (counting repeats)"
                ),
            );
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
        problems.texts(
            &path,
            [
                ("name", &service.name),
                ("description", &service.description),
                ("network_code", &service.network_code),
                ("language", &service.language),
                ("speed", &service.speed),
                ("available_networks", &service.available_networks),
            ],
        );
        problems.since_until(&path, &mut service.in_catalogue_since, &mut service.in_catalogue_until);
    }

    let mut seen = HashSet::new();
    for (i, base) in document.base_profiles.iter_mut().enumerate() {
        let path = format!("$.base_profiles[{i}]");
        problems.id(format!("{path}.id"), &base.id, &mut seen, "base profile");
        problems.texts(
            &path,
            [
                ("name", &base.name),
                ("network_id", &base.network_id),
                ("network_provisioning_id", &base.network_provisioning_id),
                ("service_class", &base.service_class),
                ("offer_id", &base.offer_id),
                ("charging_id", &base.charging_id),
                ("download_speed", &base.download_speed),
                ("internet_speed", &base.internet_speed),
                ("upload_speed", &base.upload_speed),
            ],
        );
        problems.since_until(&path, &mut base.in_catalogue_since, &mut base.in_catalogue_until);
        for (j, link) in base.services.iter_mut().enumerate() {
            let path = format!("{path}.services[{j}]");
            let id_path = format!("{path}.service_id");
            if problems.reference(&id_path, &link.service_id) && !services.contains_key(&link.service_id) {
                problems.add(id_path, format!("unknown service '{}'", link.service_id));
            }
            problems.date(format!("{path}.from"), &mut link.from);
            problems.date(format!("{path}.to"), &mut link.to);
        }
    }

    let mut seen = HashSet::new();
    for (i, service) in document.value_added_services.iter_mut().enumerate() {
        let path = format!("$.value_added_services[{i}]");
        problems.id(format!("{path}.id"), &service.id, &mut seen, "value-added service");
        problems.texts(
            &path,
            [
                ("name", &service.name),
                ("description", &service.description),
                ("mysim_service_id", &service.mysim_service_id),
            ],
        );
        problems.since_until(&path, &mut service.in_catalogue_since, &mut service.in_catalogue_until);
        for (j, requirement) in service.requires.iter().enumerate() {
            let id = &requirement.value_added_service_id;
            let id_path = format!("{path}.requires[{j}].value_added_service_id");
            if problems.reference(&id_path, id) && !vas.contains_key(id) {
                problems.add(id_path, format!("unknown value-added service '{id}'"));
            }
        }
    }
    // The bounds are measured on a graph without cycles only; a cycle is reported instead.
    let reach = check_cycles(&document, &vas, &mut problems).map(|order| {
        let reach = reach(&document, &vas, &order);
        check_reach(&document, &reach, &mut problems);
        reach
    });

    let mut seen = HashSet::new();
    for (i, product) in document.commercial_products.iter_mut().enumerate() {
        let path = format!("$.commercial_products[{i}]");
        problems.id(format!("{path}.id"), &product.id, &mut seen, "commercial product");
        problems.texts(&path, [("name", &product.name)]);
        problems.since_until(&path, &mut product.in_catalogue_since, &mut product.in_catalogue_until);
        let mut items = 0u64;
        for (j, base) in product.base_profile_ids.iter().enumerate() {
            let id_path = format!("{path}.base_profile_ids[{j}]");
            match base_profiles.get(base) {
                Some(&position) => {
                    let services = document.base_profiles[position].services.len() as u64;
                    items = items.saturating_add(1 + services);
                }
                None if problems.reference(&id_path, base) => {
                    problems.add(id_path, format!("unknown base profile '{base}'"))
                }
                None => {}
            }
        }
        if items > MAX_PRODUCT_VIEW_ITEMS {
            problems.add(
                format!("{path}.base_profile_ids"),
                format!("these base profiles with their services come to more than {MAX_PRODUCT_VIEW_ITEMS} items"),
            );
        }
        problems.links(&path, &product.value_added_services, &vas);
        if let Some(reach) = &reach {
            problems.expansion(&path, &product.value_added_services, &vas, reach);
        }
    }

    let mut profile_ids = Vec::new();
    let (mut seen_bp, mut seen_st, mut seen_bcp) = (HashSet::new(), HashSet::new(), HashSet::new());
    for (i, bundled) in document.bundled_products.iter_mut().enumerate() {
        let path = format!("$.bundled_products[{i}]");
        problems.id(format!("{path}.id"), &bundled.id, &mut seen_bp, "bundled product");
        problems.texts(&path, [("name", &bundled.name)]);
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
            problems.texts(
                &path,
                [
                    ("activation_work_order_type_id", &link.activation_work_order_type_id),
                    ("deactivation_work_order_type_id", &link.deactivation_work_order_type_id),
                    ("suspension_work_order_type_id", &link.suspension_work_order_type_id),
                    ("resume_work_order_type_id", &link.resume_work_order_type_id),
                    ("cancellation_work_order_type_id", &link.cancellation_work_order_type_id),
                    ("partial_cancellation_work_order_type_id", &link.partial_cancellation_work_order_type_id),
                ],
            );
            let name_path = format!("{path}.profile_name");
            match link.profile_name.take() {
                None => problems.add(name_path, "profile_name is mandatory"),
                Some(name) => {
                    let clean = problems.reference(&name_path, &name);
                    match profiles.get(&name) {
                        Some(id) => {
                            link.profile_id = Some(*id);
                            if !profile_ids.contains(id) {
                                profile_ids.push(*id);
                            }
                        }
                        None if clean => {
                            problems.add(name_path, format!("no provisioning profile named '{name}' in this tenant"))
                        }
                        None => {}
                    }
                }
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
                        let clean = problems.reference(&path, owner);
                        if clean && (owner.trim().is_empty() || owner.contains(',')) {
                            problems.add(path, "a territory owner is a non-empty name without commas");
                        } else if clean && !owners_seen.insert(owner.clone()) {
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
            problems.texts(&path, [("name", &subs_type.name)]);
            problems.since_until(&path, &mut subs_type.in_catalogue_since, &mut subs_type.in_catalogue_until);
            for (k, product) in subs_type.bundled_commercial_products.iter_mut().enumerate() {
                let path = format!("{path}.bundled_commercial_products[{k}]");
                problems.id(format!("{path}.id"), &product.id, &mut seen_bcp, "bundled commercial product");
                problems.texts(&path, [("name", &product.name)]);
                let id = &product.commercial_product_id;
                let id_path = format!("{path}.commercial_product_id");
                if problems.reference(&id_path, id) && !commercial_products.contains_key(id) {
                    problems.add(id_path, format!("unknown commercial product '{id}'"));
                }
                problems.since_until(&path, &mut product.in_catalogue_since, &mut product.in_catalogue_until);
                problems.links(&path, &product.value_added_services, &vas);
                if let Some(reach) = &reach {
                    problems.expansion(&path, &product.value_added_services, &vas, reach);
                }
            }
        }
    }

    if problems.0.is_empty() {
        Ok(ValidCatalogue { document, profile_ids })
    } else {
        Err(problems.0)
    }
}

/// How far `requires` reaches from one value-added service, itself included.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reach {
    /// Services, counting repeats (saturating).
    pub services: u64,
    /// Levels: 1 for a service that requires nothing.
    pub levels: u32,
}

/// The reach of every value-added service, without recursion: `order` lists each
/// service after every service it requires, so one pass in that order suffices.
fn reach(document: &CatalogueDocument, vas: &HashMap<String, usize>, order: &[usize]) -> Vec<Reach> {
    let services = &document.value_added_services;
    let mut reach = vec![Reach::default(); services.len()];
    for &node in order {
        let mut own = Reach { services: 1, levels: 1 };
        for requirement in &services[node].requires {
            if let Some(&target) = vas.get(&requirement.value_added_service_id) {
                own.services = own.services.saturating_add(reach[target].services);
                own.levels = own.levels.max(reach[target].levels.saturating_add(1));
            }
        }
        reach[node] = own;
    }
    reach
}

/// Reports each value-added service whose `requires` reach beyond the bounds.
fn check_reach(document: &CatalogueDocument, reach: &[Reach], problems: &mut Problems) {
    for (i, (service, reach)) in document.value_added_services.iter().zip(reach).enumerate() {
        let path = format!("$.value_added_services[{i}].requires");
        let id = &service.id;
        if reach.services > MAX_REQUIRED_SERVICES {
            problems.add(
                path.clone(),
                format!(
                    "following requires from '{id}' reaches more than {MAX_REQUIRED_SERVICES} services \
                     (counting repeats and '{id}' itself)"
                ),
            );
        }
        if reach.levels > MAX_REQUIRES_LEVELS {
            problems.add(
                path,
                format!(
                    "following requires from '{id}' reaches {} levels, more than {MAX_REQUIRES_LEVELS} \
                     ('{id}' itself is level 1)",
                    reach.levels
                ),
            );
        }
    }
}

/// Reports each `requires` edge that closes a cycle, with the cycle it closes. Without
/// a cycle, answers the services in an order where each comes after those it requires.
fn check_cycles(
    document: &CatalogueDocument,
    vas: &HashMap<String, usize>,
    problems: &mut Problems,
) -> Option<Vec<usize>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    let services = &document.value_added_services;
    let mut marks = vec![Mark::New; services.len()];
    let mut finished = Vec::with_capacity(services.len());
    let mut acyclic = true;
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
                finished.push(node);
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
                    acyclic = false;
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
    acyclic.then_some(finished)
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
