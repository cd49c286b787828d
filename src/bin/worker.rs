//! The decoding worker's entry point (built for the browser by Trunk).

#[cfg(target_arch = "wasm32")]
fn main() {
    sarcoscope::app::start_worker();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!(
        "sarcoscope-worker runs inside the browser app: build it with `trunk build` (see README)."
    );
    std::process::exit(2);
}
