//! The SPCM face, `/pcc/spcm/provisionProfile` (contract §2).

mod caller;
pub(crate) mod changes;
mod conditional;
pub(crate) mod dto;
mod error;
pub(crate) mod handlers;
#[cfg(test)]
mod properties;
mod queries;
mod reads;
mod requests;

pub use crate::domain::FieldError;
pub use dto::{MultiStatus, ProfileDto, ProfileList};
// The answer sets are public: the OpenAPI document is built from them.
pub use error::{BodyErrors, ErrorBody, ProfileNotFound, ServerError, SpcmError, SpcmErrors, ValidationFailed};
pub use reads::ReadCache;

use actix_web::http::Method;
use actix_web::web;

use super::Endpoint;

pub const BASE_PATH: &str = "/pcc/spcm/provisionProfile";
const ONE: &str = "/pcc/spcm/provisionProfile/{id}";
const HISTORY: &str = "/pcc/spcm/provisionProfile/{id}/history";

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(Method::GET, BASE_PATH, super::get().to(handlers::list)),
        Endpoint::new(Method::POST, BASE_PATH, web::post().to(handlers::create)),
        Endpoint::new(Method::PUT, BASE_PATH, web::put().to(handlers::update_many)),
        Endpoint::new(Method::DELETE, BASE_PATH, web::delete().to(handlers::delete_many)),
        Endpoint::new(Method::GET, ONE, super::get().to(handlers::get_one)),
        Endpoint::new(Method::PUT, ONE, web::put().to(handlers::update_one)),
        Endpoint::new(Method::DELETE, ONE, web::delete().to(handlers::delete_one)),
        Endpoint::new(Method::GET, HISTORY, super::get().to(changes::history)),
        Endpoint::new(Method::GET, changes::FEED_PATH, super::get().to(changes::feed)),
    ]
}
