//! One integration-test binary: a real server on a random port, a fresh database per
//! test, real HTTP. `helpers` holds `spawn_app` and the backend matrix.

mod helpers;

mod auth;
mod authority;
mod bulk;
mod caches;
mod catalogue;
mod catalogue_bounds;
mod changes;
mod cli;
mod conditional;
mod console;
mod cors;
mod default_profile;
mod errors;
mod events;
mod fair_share;
mod faults;
mod hardening;
mod hygiene;
mod idempotency;
mod links;
mod listing;
mod openapi;
mod ops;
mod profiles;
mod reads;
mod resilience;
mod store;
mod tenancy;
#[cfg(feature = "postgres")]
mod tenant_lock;
mod xml;
