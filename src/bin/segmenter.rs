//! The segmentation worker's entry point (built by Trunk as its own wasm module).

#[cfg(all(target_arch = "wasm32", feature = "network"))]
fn main() {
    sarcoscope::app::start_segmenter();
}

#[cfg(not(all(target_arch = "wasm32", feature = "network")))]
fn main() {
    eprintln!(
        "sarcoscope-segmenter runs in a browser worker; build it with Trunk (scripts/serve)."
    );
    std::process::exit(2);
}
