//! The catalogue document of contract §3.1: one JSON document per tenant that replaces
//! the tenant's whole catalogue. `validate` checks it whole and resolves its links.

mod index;
mod validate;

pub use index::{BcpPosition, CatalogueIndex};

pub use validate::{
    validate, Problem, ValidCatalogue, MAX_ID_CHARS, MAX_PRODUCT_VIEW_ITEMS, MAX_REQUIRED_SERVICES, MAX_REQUIRES_LEVELS,
};

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The sale types a value-added service can be linked for.
pub const SALE_TYPES: [&str; 5] = ["Venta", "Migración", "Añadir Línea", "Cross Sell", "Cartera"];

/// The sale types a value-added service can be offered for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
pub enum SaleTypeName {
    Venta,
    #[serde(rename = "Migración")]
    Migracion,
    #[serde(rename = "Añadir Línea")]
    AnadirLinea,
    #[serde(rename = "Cross Sell")]
    CrossSell,
    Cartera,
}

impl SaleTypeName {
    const ALL: [SaleTypeName; 5] = [
        SaleTypeName::Venta,
        SaleTypeName::Migracion,
        SaleTypeName::AnadirLinea,
        SaleTypeName::CrossSell,
        SaleTypeName::Cartera,
    ];

    /// The sale type named exactly `name`, if any.
    pub fn parse(name: &str) -> Option<SaleTypeName> {
        SaleTypeName::ALL.into_iter().find(|sale_type| sale_type.as_str() == name)
    }

    /// Its name, one of [`SALE_TYPES`].
    pub fn as_str(self) -> &'static str {
        SALE_TYPES[self as usize]
    }
}

/// The whole catalogue of an org, as imported and exported. The export leaves out an
/// entity's absent or null fields and empty lists.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CatalogueDocument {
    #[serde(default)]
    pub services: Vec<Service>,
    #[serde(default)]
    pub base_profiles: Vec<BaseProfile>,
    #[serde(default)]
    pub value_added_services: Vec<ValueAddedService>,
    #[serde(default)]
    pub commercial_products: Vec<CommercialProduct>,
    #[serde(default)]
    pub bundled_products: Vec<BundledProduct>,
}

/// A network service that base profiles hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Service {
    /// Unique among the catalogue's entities of its kind; no control characters or Unicode
    /// noncharacters, no space at either end.
    #[schema(min_length = 1, max_length = 100)]
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub in_catalogue_since: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub in_catalogue_until: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_changeable: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activate_on_network_provisioning: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speed: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available_networks: Option<String>,
}

/// A base profile and the services it holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BaseProfile {
    /// Unique among the catalogue's entities of its kind; no control characters or Unicode
    /// noncharacters, no space at either end.
    #[schema(min_length = 1, max_length = 100)]
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub in_catalogue_since: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub in_catalogue_until: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_provisioning_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_class: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offer_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charging_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manual_renewal: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub download_speed: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internet_speed: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_speed: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<BaseProfileService>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BaseProfileService {
    pub service_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub to: Option<String>,
}

/// A value-added service and the ones required with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ValueAddedService {
    /// Unique among the catalogue's entities of its kind; no control characters or Unicode
    /// noncharacters, no space at either end.
    #[schema(min_length = 1, max_length = 100)]
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub in_catalogue_since: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub in_catalogue_until: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mysim_service_id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires: Vec<Requirement>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    pub value_added_service_id: String,
    pub is_mandatory: bool,
    pub max_quantity: u32,
}

/// A value-added service that can be hired with a (bundled) commercial product.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ValueAddedServiceLink {
    pub value_added_service_id: String,
    pub is_mandatory: bool,
    pub max_quantity: u32,
    /// The sale types the link applies to; absent or null: every sale type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<SaleTypeName>>)]
    pub sale_type_names: Option<Vec<String>>,
}

impl ValueAddedServiceLink {
    pub fn applies_to(&self, sale_type: Option<&str>) -> bool {
        match (sale_type, &self.sale_type_names) {
            (Some(wanted), Some(names)) => names.iter().any(|n| n == wanted),
            _ => true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommercialProduct {
    /// Unique among the catalogue's entities of its kind; no control characters or Unicode
    /// noncharacters, no space at either end.
    #[schema(min_length = 1, max_length = 100)]
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub in_catalogue_since: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub in_catalogue_until: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub base_profile_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub value_added_services: Vec<ValueAddedServiceLink>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BundledProduct {
    /// Unique among the catalogue's entities of its kind; no control characters or Unicode
    /// noncharacters, no space at either end.
    #[schema(min_length = 1, max_length = 100)]
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub in_catalogue_since: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub in_catalogue_until: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub provisioning_profiles: Vec<ProvisioningProfileLink>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bundled_product_subs_types: Vec<SubscriptionType>,
}

/// Which SPCM profile a bundled product provisions with, where, and with which
/// work-order type per lifecycle action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProvisioningProfileLink {
    /// The name of one of the tenant's provisioning profiles. The link follows the
    /// profile when it is renamed: the export names it by its current name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String, required = true, min_length = 1)]
    pub profile_name: Option<String>,
    /// Set when stored, so that the link follows a renamed profile; an import that
    /// sends it is refused, so the document's schema leaves it out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(ignore)]
    pub profile_id: Option<i64>,
    /// The territory owners this profile serves (non-empty names without commas; each
    /// owner at most once per bundled product); absent or null: every owner without a
    /// profile of its own, for at most one profile of the bundled product.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub territory_owners: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub in_catalogue_since: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub in_catalogue_until: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activation_work_order_type_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deactivation_work_order_type_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspension_work_order_type_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume_work_order_type_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancellation_work_order_type_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partial_cancellation_work_order_type_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionType {
    /// Unique among the catalogue's entities of its kind; no control characters or Unicode
    /// noncharacters, no space at either end.
    #[schema(min_length = 1, max_length = 100)]
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub in_catalogue_since: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub in_catalogue_until: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bundled_commercial_products: Vec<BundledCommercialProduct>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BundledCommercialProduct {
    /// Unique among the catalogue's entities of its kind; no control characters or Unicode
    /// noncharacters, no space at either end.
    #[schema(min_length = 1, max_length = 100)]
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub commercial_product_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub in_catalogue_since: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub in_catalogue_until: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub value_added_services: Vec<ValueAddedServiceLink>,
}

/// What a catalogue holds, as the import answers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CatalogueCounts {
    pub services: usize,
    pub base_profiles: usize,
    pub value_added_services: usize,
    pub commercial_products: usize,
    pub bundled_products: usize,
    pub bundled_product_subs_types: usize,
    pub bundled_commercial_products: usize,
}

/// Serde reads a struct from an array too, field by field in order, so `[]` would pass
/// as an empty catalogue (and replace the stored one). Entities are always objects: the
/// document itself, and every element of its arrays that is not a string.
fn positional_struct(path: String, value: &serde_json::Value, object_expected: bool) -> Result<(), Problem> {
    match value {
        serde_json::Value::Array(_) if object_expected => Err((path, "expected an object, found an array".into())),
        serde_json::Value::Array(items) => {
            items.iter().enumerate().try_for_each(|(i, item)| positional_struct(format!("{path}[{i}]"), item, true))
        }
        serde_json::Value::Object(fields) => {
            fields.iter().try_for_each(|(name, field)| positional_struct(format!("{path}.{name}"), field, false))
        }
        _ => Ok(()),
    }
}

impl CatalogueDocument {
    pub fn counts(&self) -> CatalogueCounts {
        let subs_types = self.bundled_products.iter().flat_map(|bp| &bp.bundled_product_subs_types);
        CatalogueCounts {
            services: self.services.len(),
            base_profiles: self.base_profiles.len(),
            value_added_services: self.value_added_services.len(),
            commercial_products: self.commercial_products.len(),
            bundled_products: self.bundled_products.len(),
            bundled_product_subs_types: subs_types.clone().count(),
            bundled_commercial_products: subs_types.map(|st| st.bundled_commercial_products.len()).sum(),
        }
    }

    /// Parses a document; a structural problem (wrong type, unknown or missing field) is
    /// reported with its JSON path.
    pub fn from_json(json: serde_json::Value) -> Result<CatalogueDocument, Problem> {
        positional_struct("$".to_owned(), &json, true)?;
        serde_path_to_error::deserialize(json).map_err(|err| {
            let path = err.path().to_string();
            let path = if path == "." { "$".to_owned() } else { format!("$.{path}") };
            (path, err.into_inner().to_string())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_sale_type_is_named_as_documented() {
        for name in SALE_TYPES {
            let documented: SaleTypeName = serde_json::from_value(json!(name)).unwrap();
            assert_eq!(SaleTypeName::parse(name), Some(documented));
            assert_eq!(documented.as_str(), name);
        }
        assert_eq!(SaleTypeName::parse("venta"), None);
    }

    #[test]
    fn entities_given_as_arrays_are_refused_with_their_path() {
        let problem = |json| CatalogueDocument::from_json(json).map(|_| ()).unwrap_err();
        assert_eq!(problem(json!([])), ("$".to_owned(), "expected an object, found an array".to_owned()));
        assert_eq!(problem(json!({"services": [["s1", "name"]]})).0, "$.services[0]");
        let link = json!({"bundled_products": [{"id": "b", "provisioning_profiles": [[]]}]});
        assert_eq!(problem(link).0, "$.bundled_products[0].provisioning_profiles[0]");
        let ok = json!({"services": [{"id": "s1", "name": "S"}], "base_profiles": [{"id": "p", "name": "P", "services": []}]});
        assert_eq!(CatalogueDocument::from_json(ok).unwrap().counts().services, 1);
    }
}
