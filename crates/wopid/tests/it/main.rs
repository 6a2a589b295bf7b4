//! The HTTP integration suite: a real wopid on 127.0.0.1:0 per test, spoken to over HTTP.

mod access;
mod bad_input;
mod browser;
mod cli;
mod concurrency;
mod containers;
mod content;
mod editors;
mod emulator;
mod exposure;
mod harness;
mod hostile;
mod locks;
mod migrate;
mod misc;
mod multinode;
mod names;
mod native;
mod oidc;
mod ops;
mod relative;
mod resilience;
mod services;
mod signin;
mod tls;
mod web;
