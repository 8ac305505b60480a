//! Keyholder's HTTP API: routes, the error type, authentication, the OpenAPI
//! document, telemetry, configuration and background workers.

pub mod app;
pub mod auth;
pub mod backup;
pub mod clock;
pub mod conditional;
pub mod config;
pub mod ctx;
pub mod error;
pub mod extract;
pub mod files;
pub mod idempotency;
pub mod lifecycle;
pub mod mail;
pub mod openapi;
pub mod ops;
pub mod passwords;
pub mod problems;
pub mod proxy;
pub mod ratelimit;
pub mod routes;
pub mod seeding;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod views;
pub mod webhooks;

pub use app::Application;
pub use clock::Clock;
pub use config::Config;
