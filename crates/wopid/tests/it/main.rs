//! The HTTP integration suite: a real wopid on 127.0.0.1:0 per test, spoken to over HTTP.

mod bad_input;
mod browser;
mod cli;
mod containers;
mod content;
mod editors;
mod emulator;
mod harness;
mod locks;
mod misc;
mod native;
mod relative;
mod web;
