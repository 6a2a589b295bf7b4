//! The `wopid` binary: parse the command line, start logging, dispatch.

use clap::Parser as _;

/// mimalloc instead of the C library's allocator: a request allocates and frees some hundred
/// small buffers (header maps, strings, the JSON body, futures), and glibc's malloc, free and
/// their consolidation were about a tenth of the CPU time of a CheckFileInfo.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = wopid::cli::Cli::parse();
    wopid::telemetry::init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("wopid: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(wopid::cli::run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wopid: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
