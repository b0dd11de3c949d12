//! The catalogue's read views, field for field as the seeds `000_*`, `002_*` and
//! `003_*` show them: snake_case, ids as strings, RFC 3339 UTC date-times.

use std::collections::HashMap;

use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use crate::domain::catalogue::{
    BaseProfile, CatalogueIndex, CommercialProduct, SaleTypeName, Service, ValueAddedServiceLink,
    MAX_PRODUCT_VIEW_ITEMS, MAX_REQUIRED_SERVICES, MAX_REQUIRES_LEVELS,
};

/// A provisioning profile of a bundled product with its work-order types.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "39", "name": "turkeySauce", "in_catalogue_since": "2019-08-24T14:15:22Z", "in_catalogue_until": null,
    "activation_work_order_type_id": "WO_ACT", "deactivation_work_order_type_id": "WO_DEACT",
    "suspension_work_order_type_id": null, "resume_work_order_type_id": null,
    "cancellation_work_order_type_id": "WO_CANCEL", "partial_cancellation_work_order_type_id": null,
    "territory_owners": "FIBMM02,MASMOVIL"
}))]
pub struct ProvisioningProfileView {
    /// The SPCM provisioning profile's id, as a string.
    pub id: String,
    /// The SPCM provisioning profile's current name.
    pub name: String,
    #[schema(format = DateTime, required = true)]
    pub in_catalogue_since: Option<String>,
    #[schema(format = DateTime, required = true)]
    pub in_catalogue_until: Option<String>,
    /// The work-order type of an activation order of the bundled product; null: none.
    #[schema(required = true)]
    pub activation_work_order_type_id: Option<String>,
    /// The work-order type of a deactivation order of the bundled product; null: none.
    #[schema(required = true)]
    pub deactivation_work_order_type_id: Option<String>,
    /// The work-order type of a suspension order of the bundled product; null: none.
    #[schema(required = true)]
    pub suspension_work_order_type_id: Option<String>,
    /// The work-order type of a resume order of the bundled product; null: none.
    #[schema(required = true)]
    pub resume_work_order_type_id: Option<String>,
    /// The work-order type of a cancellation order of the bundled product; null: none.
    #[schema(required = true)]
    pub cancellation_work_order_type_id: Option<String>,
    /// The work-order type of a partial cancellation order of the bundled product; null: none.
    #[schema(required = true)]
    pub partial_cancellation_work_order_type_id: Option<String>,
    /// The owners joined by commas; null for the profile serving every other owner.
    #[schema(required = true)]
    pub territory_owners: Option<String>,
}

/// A base profile, with its services where the view includes them.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "71_COMPRODUCT", "name": "PERFIL FTTH 50MB", "in_catalogue_since": "2019-08-24T14:15:22Z",
    "in_catalogue_until": "2019-08-24T14:15:22Z", "network_id": "2", "network_provisioning_id": "MM_CERO_VC_600M",
    "service_class": "2900", "offer_id": "300030015", "charging_id": "300030015", "manual_renewal": false,
    "download_speed": "300", "internet_speed": "300", "upload_speed": "300"
}))]
pub struct BaseProfileView {
    pub id: String,
    #[schema(required = true)]
    pub name: Option<String>,
    #[schema(format = DateTime, required = true)]
    pub in_catalogue_since: Option<String>,
    #[schema(format = DateTime, required = true)]
    pub in_catalogue_until: Option<String>,
    #[schema(required = true)]
    pub network_id: Option<String>,
    #[schema(required = true)]
    pub network_provisioning_id: Option<String>,
    #[schema(required = true)]
    pub service_class: Option<String>,
    #[schema(required = true)]
    pub offer_id: Option<String>,
    #[schema(required = true)]
    pub charging_id: Option<String>,
    #[schema(required = true)]
    pub manual_renewal: Option<bool>,
    #[schema(required = true)]
    pub download_speed: Option<String>,
    #[schema(required = true)]
    pub internet_speed: Option<String>,
    #[schema(required = true)]
    pub upload_speed: Option<String>,
    /// The base profile's services, in the views of a commercial product's base profiles.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Vec<ServiceView>, required = false)]
    pub services: Option<Vec<ServiceView>>,
}

/// A service of a base profile, with the link's `from` / `to`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "2", "name": "BLOQUEO DE LLAMADAS ENTRANTES", "description": "BLOQUEO DE LLAMADAS ENTRANTES",
    "in_catalogue_since": "2019-08-24T14:15:22Z", "in_catalogue_until": "2019-08-24T14:15:22Z",
    "from": "2019-08-24T14:15:22Z", "to": "2019-08-24T14:15:22Z", "network_code": "obi", "is_changeable": true,
    "activate_on_network_provisioning": true, "language": "ESPANOL", "speed": "300Mb",
    "available_networks": "RED YOIGO+ORANGE+TELEFÓNICA"
}))]
pub struct ServiceView {
    pub id: String,
    #[schema(required = true)]
    pub name: Option<String>,
    #[schema(required = true)]
    pub description: Option<String>,
    #[schema(format = DateTime, required = true)]
    pub in_catalogue_since: Option<String>,
    #[schema(format = DateTime, required = true)]
    pub in_catalogue_until: Option<String>,
    /// Since when the base profile holds the service; null: no start.
    #[schema(format = DateTime, required = true)]
    pub from: Option<String>,
    /// Until when the base profile holds the service; null: no end.
    #[schema(format = DateTime, required = true)]
    pub to: Option<String>,
    #[schema(required = true)]
    pub network_code: Option<String>,
    #[schema(required = true)]
    pub is_changeable: Option<bool>,
    #[schema(required = true)]
    pub activate_on_network_provisioning: Option<bool>,
    #[schema(required = true)]
    pub language: Option<String>,
    #[schema(required = true)]
    pub speed: Option<String>,
    #[schema(required = true)]
    pub available_networks: Option<String>,
}

/// A value-added service and, nested, the ones required with it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "V1", "name": "Roaming", "description": null, "in_catalogue_since": null, "in_catalogue_until": null,
    "mysim_service_id": "MS1", "is_mandatory": true, "max_cardinality": "1", "max_quantity": 1,
    "related_bundled_product_id": "BP1", "value_added_services": []
}))]
#[schema(no_recursion)]
pub struct ValueAddedServiceView {
    pub id: String,
    #[schema(required = true)]
    pub name: Option<String>,
    #[schema(required = true)]
    pub description: Option<String>,
    #[schema(format = DateTime, required = true)]
    pub in_catalogue_since: Option<String>,
    #[schema(format = DateTime, required = true)]
    pub in_catalogue_until: Option<String>,
    #[schema(required = true)]
    pub mysim_service_id: Option<String>,
    pub is_mandatory: bool,
    /// `max_quantity` as a string; use `max_quantity` instead.
    #[schema(deprecated)]
    pub max_cardinality: String,
    /// How many of this service can be hired with the product at most.
    pub max_quantity: u32,
    /// The bundled product the service is hired with; null for a commercial product.
    #[schema(required = true)]
    pub related_bundled_product_id: Option<String>,
    /// The services required with this one, each with those it requires in turn.
    pub value_added_services: Vec<ValueAddedServiceView>,
}

pub fn provisioning_profiles(
    index: &CatalogueIndex,
    bundled_product: usize,
    names: &HashMap<i64, String>,
) -> Vec<ProvisioningProfileView> {
    index.document.bundled_products[bundled_product]
        .provisioning_profiles
        .iter()
        .filter_map(|link| {
            let id = link.profile_id?;
            Some(ProvisioningProfileView {
                id: id.to_string(),
                name: names.get(&id)?.clone(),
                in_catalogue_since: link.in_catalogue_since.clone(),
                in_catalogue_until: link.in_catalogue_until.clone(),
                activation_work_order_type_id: link.activation_work_order_type_id.clone(),
                deactivation_work_order_type_id: link.deactivation_work_order_type_id.clone(),
                suspension_work_order_type_id: link.suspension_work_order_type_id.clone(),
                resume_work_order_type_id: link.resume_work_order_type_id.clone(),
                cancellation_work_order_type_id: link.cancellation_work_order_type_id.clone(),
                partial_cancellation_work_order_type_id: link.partial_cancellation_work_order_type_id.clone(),
                territory_owners: link.territory_owners.as_ref().map(|owners| owners.join(",")),
            })
        })
        .collect()
}

pub fn base_profile(index: &CatalogueIndex, base: &BaseProfile, with_services: bool) -> BaseProfileView {
    BaseProfileView {
        id: base.id.clone(),
        name: base.name.clone(),
        in_catalogue_since: base.in_catalogue_since.clone(),
        in_catalogue_until: base.in_catalogue_until.clone(),
        network_id: base.network_id.clone(),
        network_provisioning_id: base.network_provisioning_id.clone(),
        service_class: base.service_class.clone(),
        offer_id: base.offer_id.clone(),
        charging_id: base.charging_id.clone(),
        manual_renewal: base.manual_renewal,
        download_speed: base.download_speed.clone(),
        internet_speed: base.internet_speed.clone(),
        upload_speed: base.upload_speed.clone(),
        services: with_services.then(|| services_of(index, base)),
    }
}

/// The base profiles of a commercial product with their services, cut at
/// [`MAX_PRODUCT_VIEW_ITEMS`] items for a document stored before the import bounded it.
pub fn base_profiles_of(index: &CatalogueIndex, product: &CommercialProduct) -> Vec<BaseProfileView> {
    let mut left = MAX_PRODUCT_VIEW_ITEMS;
    let mut views = Vec::new();
    for position in product.base_profile_ids.iter().filter_map(|id| index.base_profiles.get(id)) {
        let base = &index.document.base_profiles[*position];
        let items = 1 + base.services.len() as u64;
        if items > left {
            break;
        }
        left -= items;
        views.push(base_profile(index, base, true));
    }
    views
}

pub fn services_of(index: &CatalogueIndex, base: &BaseProfile) -> Vec<ServiceView> {
    base.services
        .iter()
        .filter_map(|link| {
            let service: &Service = &index.document.services[*index.services.get(&link.service_id)?];
            Some(ServiceView {
                id: service.id.clone(),
                name: service.name.clone(),
                description: service.description.clone(),
                in_catalogue_since: service.in_catalogue_since.clone(),
                in_catalogue_until: service.in_catalogue_until.clone(),
                from: link.from.clone(),
                to: link.to.clone(),
                network_code: service.network_code.clone(),
                is_changeable: service.is_changeable,
                activate_on_network_provisioning: service.activate_on_network_provisioning,
                language: service.language.clone(),
                speed: service.speed.clone(),
                available_networks: service.available_networks.clone(),
            })
        })
        .collect()
}

/// Filters of the value-added-services views, as the query gives them.
#[derive(Debug, Default, Clone, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VasParams {
    /// Only services linked for this sale type (links without sale types apply to all).
    pub sale_type_name: Option<SaleTypeName>,
    /// Only services with this mySim id.
    #[param(min_length = 1)]
    pub mysim_service_id: Option<String>,
}

/// The value-added services of a (bundled) commercial product's links, each with the
/// ones it requires nested (`requires` has no cycles: the import checks). The import
/// also bounds the nesting (contract §3.1); a document stored before those bounds is
/// cut at them here, so no view can exhaust the stack or the memory.
pub fn value_added_services(
    index: &CatalogueIndex,
    links: &[ValueAddedServiceLink],
    related_bundled_product_id: Option<&str>,
    filter: &VasParams,
) -> Vec<ValueAddedServiceView> {
    let mut left = MAX_PRODUCT_VIEW_ITEMS;
    let mut views = Vec::new();
    for link in links.iter().filter(|link| link.applies_to(filter.sale_type_name.map(SaleTypeName::as_str))) {
        let Some(&position) = index.value_added_services.get(&link.value_added_service_id) else { continue };
        let service = &index.document.value_added_services[position];
        if filter.mysim_service_id.as_ref().is_some_and(|wanted| service.mysim_service_id.as_ref() != Some(wanted)) {
            continue;
        }
        if left == 0 {
            break;
        }
        let mut budget = Budget { services: left.min(MAX_REQUIRED_SERVICES), related: related_bundled_product_id };
        let before = budget.services;
        views.push(detail(index, position, link.is_mandatory, link.max_quantity, 1, &mut budget));
        left -= before - budget.services;
    }
    views
}

/// What a top-level service's nesting may still take.
struct Budget<'a> {
    /// Services, counting each repeat; the caller has counted none yet for `detail`'s.
    services: u64,
    related: Option<&'a str>,
}

/// One service at `level` (1 for a top-level one) and, while the budget lasts, the ones
/// it requires. Recurses at most [`MAX_REQUIRES_LEVELS`] deep.
fn detail(
    index: &CatalogueIndex,
    position: usize,
    is_mandatory: bool,
    max_quantity: u32,
    level: u32,
    budget: &mut Budget,
) -> ValueAddedServiceView {
    budget.services = budget.services.saturating_sub(1);
    let service = &index.document.value_added_services[position];
    let mut nested = Vec::new();
    if level < MAX_REQUIRES_LEVELS {
        for required in &service.requires {
            if budget.services == 0 {
                break;
            }
            let Some(&target) = index.value_added_services.get(&required.value_added_service_id) else { continue };
            nested.push(detail(index, target, required.is_mandatory, required.max_quantity, level + 1, budget));
        }
    }
    ValueAddedServiceView {
        id: service.id.clone(),
        name: service.name.clone(),
        description: service.description.clone(),
        in_catalogue_since: service.in_catalogue_since.clone(),
        in_catalogue_until: service.in_catalogue_until.clone(),
        mysim_service_id: service.mysim_service_id.clone(),
        is_mandatory,
        max_cardinality: max_quantity.to_string(),
        max_quantity,
        related_bundled_product_id: budget.related.map(str::to_owned),
        value_added_services: nested,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use proptest::prelude::*;
    use serde_json::json;

    use super::*;
    use crate::domain::catalogue::{validate, CatalogueDocument};

    /// Nodes and depth of a view's tree, counted without recursion.
    fn size_and_depth(view: &ValueAddedServiceView) -> (u64, u32) {
        let (mut nodes, mut depth) = (0, 0);
        let mut stack = vec![(view, 1u32)];
        while let Some((view, level)) = stack.pop() {
            nodes += 1;
            depth = depth.max(level);
            stack.extend(view.value_added_services.iter().map(|nested| (nested, level + 1)));
        }
        (nodes, depth)
    }

    /// A document whose value-added service `i` requires each of `requires[i]` (by
    /// index, repeats allowed) and whose commercial product `C` links `links`.
    fn document(requires: &[Vec<usize>], links: &[usize]) -> CatalogueDocument {
        let requirement =
            |j: &usize| json!({"value_added_service_id": format!("V{j}"), "is_mandatory": true, "max_quantity": 1});
        let services: Vec<_> = requires
            .iter()
            .enumerate()
            .map(|(i, targets)| json!({"id": format!("V{i}"), "name": "s", "requires": targets.iter().map(requirement).collect::<Vec<_>>()}))
            .collect();
        let links: Vec<_> = links.iter().map(requirement).collect();
        serde_json::from_value(json!({"value_added_services": services,
            "commercial_products": [{"id": "C", "name": "c", "value_added_services": links}]}))
        .expect("document")
    }

    fn product_view(document: CatalogueDocument) -> Vec<ValueAddedServiceView> {
        let index = CatalogueIndex::new(1, document);
        let links = index.document.commercial_products[0].value_added_services.clone();
        value_added_services(&index, &links, None, &VasParams::default())
    }

    /// Graphs whose edges all go from a lower to a higher index, so without cycles.
    fn dag() -> impl Strategy<Value = Vec<Vec<usize>>> {
        let chain = (1..300usize).prop_map(|n| (0..n).map(|i| if i + 1 < n { vec![i + 1] } else { vec![] }).collect());
        let repeated_chain = (1..40usize, 1..4usize)
            .prop_map(|(n, times)| (0..n).map(|i| if i + 1 < n { vec![i + 1; times] } else { vec![] }).collect());
        let diamonds = (1..20usize, 1..6usize).prop_map(|(layers, width)| {
            (0..layers * width)
                .map(|i| {
                    let next = (i / width + 1) * width;
                    if next < layers * width {
                        (next..next + width).collect()
                    } else {
                        vec![]
                    }
                })
                .collect()
        });
        let fan = (1..300usize, any::<bool>()).prop_map(|(n, shared_leaf)| {
            (0..n)
                .map(|i| match i {
                    0 => (1..n).collect(),
                    i if shared_leaf && i + 1 < n => vec![n - 1],
                    _ => vec![],
                })
                .collect()
        });
        let random = (2..300usize).prop_flat_map(|n| {
            prop::collection::vec((0..n, 0..n, 1..3usize), 0..n * 3).prop_map(move |edges| {
                let mut requires = vec![Vec::new(); n];
                for (a, b, times) in edges {
                    if a != b {
                        requires[a.min(b)].extend(std::iter::repeat_n(a.max(b), times));
                    }
                }
                requires
            })
        });
        prop_oneof![chain, repeated_chain, diamonds, fan, random]
    }

    fn graph_and_links() -> impl Strategy<Value = (Vec<Vec<usize>>, Vec<usize>)> {
        dag().prop_flat_map(|requires| {
            let n = requires.len();
            (Just(requires), prop::collection::vec(0..n, 0..20))
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        /// The import refuses exactly the graphs beyond the bounds, at a `requires` path
        /// (or the product's links); what it accepts has views within the bounds, whole.
        #[test]
        fn requires_graphs_are_refused_or_give_bounded_views((requires, links) in graph_and_links()) {
            // Reach of each service, by an independent count: edges go to higher indices.
            let n = requires.len();
            let mut reach = vec![(0u64, 0u32); n];
            for i in (0..n).rev() {
                reach[i] = requires[i].iter().fold((1, 1), |(services, levels), &j| {
                    (services.saturating_add(reach[j].0), levels.max(reach[j].1 + 1))
                });
            }
            let product: u64 = links.iter().fold(0, |total, &j| total.saturating_add(reach[j].0));
            let beyond = reach.iter().any(|&(services, levels)| services > MAX_REQUIRED_SERVICES || levels > MAX_REQUIRES_LEVELS)
                || product > MAX_PRODUCT_VIEW_ITEMS;

            match validate(document(&requires, &links), &HashMap::new()) {
                Err(problems) => {
                    prop_assert!(beyond, "refused within the bounds: {problems:?}");
                    for (path, _) in &problems {
                        let at_requires = path.starts_with("$.value_added_services[") && path.ends_with("].requires");
                        prop_assert!(at_requires || path == "$.commercial_products[0].value_added_services", "{path}");
                    }
                }
                Ok(valid) => {
                    prop_assert!(!beyond, "accepted beyond the bounds");
                    let views = product_view(valid.document);
                    prop_assert_eq!(views.len(), links.len());
                    let mut total = 0;
                    for (view, &j) in views.iter().zip(&links) {
                        let (nodes, depth) = size_and_depth(view);
                        prop_assert!(nodes <= MAX_REQUIRED_SERVICES && depth <= MAX_REQUIRES_LEVELS);
                        prop_assert_eq!((nodes, depth), reach[j], "an accepted view is whole");
                        total += nodes;
                    }
                    prop_assert!(total <= MAX_PRODUCT_VIEW_ITEMS);
                }
            }
        }

        /// A back edge closes a cycle: refused at the edge, never measured.
        #[test]
        fn a_cycle_is_refused_at_a_requires_path(mut requires in dag(), from in any::<prop::sample::Index>()) {
            let from = from.index(requires.len());
            requires[0].push(from);
            requires[from].push(0);
            let problems = validate(document(&requires, &[0]), &HashMap::new()).expect_err("a cycle");
            prop_assert!(problems.iter().any(|(path, why)| path.contains("].requires[") && why.contains("cycle")), "{problems:?}");
        }
    }

    #[test]
    fn views_of_a_document_stored_beyond_the_bounds_are_cut_at_them() {
        // A chain of 2,000 (once: a stack overflow) and 20 levels each requiring the next
        // twice (once: a 250 MB answer), neither validated.
        let chain: Vec<Vec<usize>> = (0..2_000).map(|i| if i + 1 < 2_000 { vec![i + 1] } else { vec![] }).collect();
        let doubling: Vec<Vec<usize>> = (0..20).map(|i| if i + 1 < 20 { vec![i + 1, i + 1] } else { vec![] }).collect();
        for requires in [chain, doubling] {
            let views = product_view(document(&requires, &[0; 30]));
            let sizes: Vec<_> = views.iter().map(size_and_depth).collect();
            assert!(
                sizes.iter().all(|&(nodes, depth)| nodes <= MAX_REQUIRED_SERVICES && depth <= MAX_REQUIRES_LEVELS),
                "{sizes:?}"
            );
            assert!(sizes.iter().map(|(nodes, _)| nodes).sum::<u64>() <= MAX_PRODUCT_VIEW_ITEMS);
            assert_eq!(sizes[0].1, MAX_REQUIRES_LEVELS, "cut at the deepest allowed level, not before");
        }
    }
}
