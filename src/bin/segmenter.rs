//! The segmentation worker's entry point (built by Trunk as its own wasm module).

#[cfg(target_arch = "wasm32")]
fn main() {
    sarcoscope::app::start_segmenter();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!(
        "sarcoscope-segmenter runs in a browser worker; build it with Trunk (scripts/serve)."
    );
    std::process::exit(2);
}
