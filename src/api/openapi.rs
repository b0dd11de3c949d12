//! The OpenAPI 3.1 document, generated from the handlers' own annotations, and the
//! Swagger UI served from the binary.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{Content, RefOr};
use utoipa::{Modify, OpenApi};

use super::{catalogue, negotiation, ops, spcm};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "spcm",
        description = "Provisioning-profile admin service: the SPCM API (`/pcc/spcm/provisionProfile`, HTTP Basic \
                       plus the `tenant` header) and the product-catalogue API v2 (`/v2/orgs/{org_id}/…`, bearer tokens).\n\n\
                       The SPCM API answers in JSON (`application/hal+json`) or, when `Accept` asks for it, in XML \
                       (`application/xml` or `text/xml`), errors included; it reads request bodies in either."
    ),
    servers((url = "/", description = "The service that serves this document, at the address you reached it on")),
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
        crate::domain::catalogue::SaleTypeName,
    )),
    modifiers(&SecuritySchemes, &XmlRepresentation),
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

/// The SPCM face answers in XML whatever it answers in JSON, but for the 406 (the client
/// accepts neither; see `negotiation::representation`): each such answer gets its
/// `application/xml` twin, with the same schema. Examples stay with the JSON.
///
/// Request bodies may be XML too, but are documented as JSON, with the XML form in their
/// description: XML text carries no JSON types, and the service reads an empty element
/// as null and a repeated one as an error, which a JSON schema read as XML does not say.
/// Clients generated from the document, and schemathesis, would otherwise send XML that
/// the schema allows and the service refuses.
struct XmlRepresentation;

const XML: &str = "application/xml";

fn add_xml<'a>(content: impl IntoIterator<Item = (&'a String, &'a Content)>) -> Option<Content> {
    let (_, json) = content.into_iter().find(|(media_type, _)| media_type.contains("json"))?;
    Some(Content::new(json.schema.clone()))
}

impl Modify for XmlRepresentation {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            if !path.starts_with(negotiation::NEGOTIATED_PREFIX) {
                continue;
            }
            let operations = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
            for operation in operations.into_iter().flatten() {
                for (status, response) in operation.responses.responses.iter_mut() {
                    let RefOr::T(response) = response else { continue };
                    if status == "406" {
                        continue;
                    }
                    if let Some(xml) = add_xml(&response.content) {
                        response.content.entry(XML.to_owned()).or_insert(xml);
                    }
                }
            }
        }
    }
}

/// The document as `spcm openapi` prints it and `/api-docs/openapi.json` serves it.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
