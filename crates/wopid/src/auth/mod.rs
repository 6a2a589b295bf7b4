//! Authentication and authorisation: access tokens.

pub mod tokens;

pub use tokens::{Grant, Perms, Secret};
