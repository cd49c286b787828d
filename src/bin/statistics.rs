//! The statistics worker's entry point (built by Trunk as its own wasm module).

#[cfg(target_arch = "wasm32")]
fn main() {
    sarcoscope::app::start_statistics();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!(
        "sarcoscope-statistics runs in a browser worker; build it with Trunk (scripts/serve). On the command line, use `sarcoscope cohort`."
    );
    std::process::exit(2);
}
