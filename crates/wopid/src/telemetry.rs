//! Logging: `tracing` to standard error, filtered by `RUST_LOG` (default `info,sqlx=warn`), as
//! text or, with `WOPID_LOG_FORMAT=json`, one JSON object per line. Standard output is kept for
//! what commands print. Text lines are coloured only when standard error is a terminal: a log
//! file or journal gets plain lines, which are also cheaper to write (one per request).

use std::io::IsTerminal as _;

use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let json = std::env::var("WOPID_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let _ = if json {
        builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .try_init()
    } else {
        builder.try_init()
    };
}
