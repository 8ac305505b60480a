//! The API's answers: the JSON shapes use cases return and handlers send,
//! shared by [`crate::ops`] (which builds them) and [`crate::routes`] (which
//! documents and sends them).

pub mod access;
pub mod accounts;
pub mod admin;
pub mod assets;
pub mod audit;
pub mod common;
pub mod estates;
pub mod export;
pub mod exports;
pub mod files;
pub mod households;
pub mod invitations;
pub mod shares;
pub mod webhooks;
pub mod wire;
