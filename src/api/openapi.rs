//! The OpenAPI 3.1 document, generated from the handlers' own annotations, and the
//! Swagger UI served from the binary.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{catalogue, ops, spcm};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "spcm",
        description = "Provisioning-profile admin service: the SPCM API (`/pcc/spcm/provisionProfile`, HTTP Basic \
                       plus the `tenant` header) and the product-catalogue API v2 (`/v2/orgs/{org_id}/…`, bearer tokens)."
    ),
    paths(
        spcm::handlers::list,
        spcm::handlers::create,
        spcm::handlers::update_many,
        spcm::handlers::delete_many,
        spcm::handlers::get_one,
        spcm::handlers::update_one,
        spcm::handlers::delete_one,
        spcm::changes::history,
        spcm::changes::feed,
        catalogue::handlers::provisioning_profiles,
        catalogue::handlers::base_profiles,
        catalogue::handlers::base_profile_services,
        catalogue::handlers::commercial_product_base_profiles,
        catalogue::handlers::commercial_product_value_added_services,
        catalogue::handlers::bundled_commercial_product_value_added_services,
        catalogue::handlers::nested_value_added_services,
        catalogue::handlers::export,
        catalogue::handlers::import,
        ops::index,
        ops::live,
        ops::ready,
        ops::metrics,
    ),
    components(schemas(
        spcm::ErrorBody,
        spcm::ValidationFailed,
        spcm::ServerError,
        catalogue::ItemNotFound,
        catalogue::JsonString,
        catalogue::handlers::SaleTypeName,
    )),
    modifiers(&SecuritySchemes),
    tags(
        (name = "provisioning profiles", description = "The SPCM API: a tenant's provisioning profiles \
            (HTTP Basic and the `tenant` header)"),
        (name = "change history", description = "Who changed what and when: a profile's history and the tenant's feed"),
        (name = "catalogue", description = "The product-catalogue API v2: which profile and work-order types each \
            bundled product provisions with, base profiles, services and value-added services (bearer tokens)"),
        (name = "operations", description = "Where the documents are, health checks and metrics"),
    )
)]
pub struct ApiDoc;

/// HTTP Basic with the `tenant` header for the SPCM face, bearer tokens for the catalogue.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("basicAuth", SecurityScheme::Http(Http::new(HttpAuthScheme::Basic)));
        components.add_security_scheme(
            "tenant",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description("tenant", "The tenant's name"))),
        );
        components.add_security_scheme("bearerAuth", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
    }
}

/// The document as `spcm openapi` prints it and `/api-docs/openapi.json` serves it.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
