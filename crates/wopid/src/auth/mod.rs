//! Authentication and authorisation: access tokens, who may reach what, passwords, OAuth 2.0.

pub mod access;
pub mod api_key;
pub mod cookie;
pub mod issue;
pub mod oauth;
pub mod oidc;
pub mod password;
pub mod purge;
pub mod session;
pub mod signed;
pub mod tokens;

pub use access::Access;
pub use tokens::{Grant, Perms, Secret};
