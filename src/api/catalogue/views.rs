//! The catalogue's read views, field for field as the seeds `000_*`, `002_*` and
//! `003_*` show them: snake_case, ids as strings, RFC 3339 UTC date-times.

use std::collections::HashMap;

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::catalogue::{BaseProfile, CatalogueIndex, Service, ValueAddedServiceLink};

/// Seed `000_*`: a provisioning profile of a bundled product with its work-order types.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "39", "name": "turkeySauce", "in_catalogue_since": "2019-08-24T14:15:22Z", "in_catalogue_until": null,
    "activation_work_order_type_id": "WO_ACT", "deactivation_work_order_type_id": "WO_DEACT",
    "suspension_work_order_type_id": null, "resume_work_order_type_id": null,
    "cancellation_work_order_type_id": "WO_CANCEL", "partial_cancellation_work_order_type_id": null,
    "territory_owners": "FIBMM02,MASMOVIL"
}))]
pub struct ProvisioningProfileView {
    pub id: String,
    pub name: String,
    pub in_catalogue_since: Option<String>,
    pub in_catalogue_until: Option<String>,
    pub activation_work_order_type_id: Option<String>,
    pub deactivation_work_order_type_id: Option<String>,
    pub suspension_work_order_type_id: Option<String>,
    pub resume_work_order_type_id: Option<String>,
    pub cancellation_work_order_type_id: Option<String>,
    pub partial_cancellation_work_order_type_id: Option<String>,
    /// The owners joined by commas; null for the profile serving every other owner.
    pub territory_owners: Option<String>,
}

/// Seed `002_*`: a base profile, with its services where the view includes them.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "71_COMPRODUCT", "name": "PERFIL FTTH 50MB", "in_catalogue_since": "2019-08-24T14:15:22Z",
    "in_catalogue_until": "2019-08-24T14:15:22Z", "network_id": "2", "network_provisioning_id": "MM_CERO_VC_600M",
    "service_class": "2900", "offer_id": "300030015", "charging_id": "300030015", "manual_renewal": false,
    "download_speed": "300", "internet_speed": "300", "upload_speed": "300"
}))]
pub struct BaseProfileView {
    pub id: String,
    pub name: Option<String>,
    pub in_catalogue_since: Option<String>,
    pub in_catalogue_until: Option<String>,
    pub network_id: Option<String>,
    pub network_provisioning_id: Option<String>,
    pub service_class: Option<String>,
    pub offer_id: Option<String>,
    pub charging_id: Option<String>,
    pub manual_renewal: Option<bool>,
    pub download_speed: Option<String>,
    pub internet_speed: Option<String>,
    pub upload_speed: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub services: Option<Vec<ServiceView>>,
}

/// Seed `002_*`: a service of a base profile, with the link's `from` / `to`.
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
    pub name: Option<String>,
    pub description: Option<String>,
    pub in_catalogue_since: Option<String>,
    pub in_catalogue_until: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub network_code: Option<String>,
    pub is_changeable: Option<bool>,
    pub activate_on_network_provisioning: Option<bool>,
    pub language: Option<String>,
    pub speed: Option<String>,
    pub available_networks: Option<String>,
}

/// Seed `003_*`: a value-added service and, nested, the ones required with it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "V1", "name": "Roaming", "description": null, "in_catalogue_since": null, "in_catalogue_until": null,
    "mysim_service_id": "MS1", "is_mandatory": true, "max_cardinality": "1", "max_quantity": 1,
    "related_bundled_product_id": "BP1", "value_added_services": []
}))]
#[schema(no_recursion)]
pub struct ValueAddedServiceView {
    pub id: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub in_catalogue_since: Option<String>,
    pub in_catalogue_until: Option<String>,
    pub mysim_service_id: Option<String>,
    pub is_mandatory: bool,
    /// `max_quantity` as a string (deprecated by the seed, still served).
    pub max_cardinality: String,
    pub max_quantity: u32,
    pub related_bundled_product_id: Option<String>,
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

/// Filters of the value-added-services views.
#[derive(Debug, Default, Clone)]
pub struct VasFilter {
    pub sale_type_name: Option<String>,
    pub mysim_service_id: Option<String>,
}

/// The value-added services of a (bundled) commercial product's links, each with the
/// ones it requires nested to any depth (`requires` has no cycles: the import checks).
pub fn value_added_services(
    index: &CatalogueIndex,
    links: &[ValueAddedServiceLink],
    related_bundled_product_id: Option<&str>,
    filter: &VasFilter,
) -> Vec<ValueAddedServiceView> {
    links
        .iter()
        .filter(|link| link.applies_to(filter.sale_type_name.as_deref()))
        .filter_map(|link| {
            let position = *index.value_added_services.get(&link.value_added_service_id)?;
            let service = &index.document.value_added_services[position];
            if filter.mysim_service_id.as_ref().is_some_and(|wanted| service.mysim_service_id.as_ref() != Some(wanted))
            {
                return None;
            }
            Some(detail(index, position, link.is_mandatory, link.max_quantity, related_bundled_product_id))
        })
        .collect()
}

fn detail(
    index: &CatalogueIndex,
    position: usize,
    is_mandatory: bool,
    max_quantity: u32,
    related_bundled_product_id: Option<&str>,
) -> ValueAddedServiceView {
    let service = &index.document.value_added_services[position];
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
        related_bundled_product_id: related_bundled_product_id.map(str::to_owned),
        value_added_services: service
            .requires
            .iter()
            .filter_map(|required| {
                let nested = *index.value_added_services.get(&required.value_added_service_id)?;
                Some(detail(index, nested, required.is_mandatory, required.max_quantity, related_bundled_product_id))
            })
            .collect(),
    }
}
