//! spcm: the provisioning-profile admin service.
//!
//! `main.rs` only parses the command line; everything else lives here so that the
//! integration tests build the application exactly as the binary does.

pub mod api;
pub mod auth;
pub mod background;
pub mod cli;
pub mod clock;
pub mod config;
pub mod console;
pub mod domain;
pub mod events;
pub mod metrics;
pub mod startup;
pub mod store;
pub mod telemetry;
