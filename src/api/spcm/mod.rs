//! The SPCM face, `/pcc/spcm/provisionProfile` (contract §2).

mod caller;
mod dto;
mod error;
mod handlers;

pub use error::{FieldError, SpcmError};

use actix_web::web;

pub const BASE_PATH: &str = "/pcc/spcm/provisionProfile";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource(BASE_PATH)
            .route(web::get().to(handlers::list))
            .route(web::post().to(handlers::create))
            .route(web::put().to(handlers::update_many))
            .route(web::delete().to(handlers::delete_many))
            .default_service(web::to(handlers::method_not_allowed)),
    )
    .service(
        web::resource(format!("{BASE_PATH}/{{id}}"))
            .route(web::get().to(handlers::get_one))
            .route(web::put().to(handlers::update_one))
            .route(web::delete().to(handlers::delete_one))
            .default_service(web::to(handlers::method_not_allowed)),
    );
}
