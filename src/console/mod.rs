//! The console for tenant administrators (contract §8): server-rendered pages under
//! `/console/`, plain forms and 303 redirects, over the same domain rules and store
//! writes as the SPCM face. Its one stylesheet is compiled into the binary.

mod access;
mod changes;
mod error;
mod form;
mod home;
mod layout;
mod profiles;
mod session;
mod sign_in;
mod signed;

pub use session::{ConsoleConfig, COOKIE};

use actix_web::http::{header, StatusCode};
use actix_web::middleware::DefaultHeaders;
use actix_web::{web, HttpResponse};
use maud::Markup;

use error::ConsoleError;

const STYLESHEET: &str = include_str!("assets/console.css");

/// Every console page: no framing, nothing from elsewhere, no caching of what a
/// signed-in user saw, no referrer beyond the site.
fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        ))
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::REFERRER_POLICY, "same-origin"))
        .add((header::CACHE_CONTROL, "no-store"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
}

pub fn configure(cfg: &mut web::ServiceConfig, config: ConsoleConfig) {
    cfg.service(web::redirect("/console", "/console/"));
    cfg.service(
        web::scope("/console")
            .app_data(web::Data::new(config))
            .wrap(security_headers())
            .route("/", web::get().to(home::home))
            .route("/assets/console.css", web::get().to(stylesheet))
            .route("/sign-in", web::get().to(sign_in::form))
            .route("/sign-in", web::post().to(sign_in::submit))
            .route("/sign-out", web::post().to(sign_in::sign_out))
            .route("/profiles", web::get().to(profiles::list))
            .route("/profiles", web::post().to(profiles::create))
            .route("/profiles/new", web::get().to(profiles::new_form))
            .route("/profiles/{id}", web::get().to(profiles::show))
            .route("/profiles/{id}", web::post().to(profiles::update))
            .route("/profiles/{id}/edit", web::get().to(profiles::edit_form))
            .route("/profiles/{id}/default", web::get().to(profiles::confirm_default))
            .route("/profiles/{id}/default", web::post().to(profiles::make_default))
            .route("/profiles/{id}/delete", web::get().to(profiles::confirm_delete))
            .route("/profiles/{id}/delete", web::post().to(profiles::delete))
            .route("/changes", web::get().to(changes::changes))
            .route("/users", web::get().to(access::users))
            .route("/users", web::post().to(access::add_user))
            .route("/users/{username}", web::get().to(access::user))
            .route("/users/{username}/permissions", web::post().to(access::set_permissions))
            .route("/users/{username}/password", web::post().to(access::reset_password))
            .route("/users/{username}/remove", web::post().to(access::remove_user))
            .route("/tokens", web::get().to(access::tokens))
            .route("/tokens", web::post().to(access::create_token))
            .route("/tokens/{id}/revoke", web::post().to(access::revoke_token))
            .default_service(web::to(not_found)),
    );
}

async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok().content_type("text/css; charset=utf-8").body(STYLESHEET)
}

async fn not_found() -> Result<HttpResponse, ConsoleError> {
    Err(ConsoleError::NotFound("There is no such page in the console.".into()))
}

/// A 303 to `location`: every form that changes something answers so.
fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, location.to_owned())).finish()
}

/// A console page with `status`.
fn html_page(status: StatusCode, markup: Markup) -> HttpResponse {
    HttpResponse::build(status).content_type("text/html; charset=utf-8").body(markup.into_string())
}
