//! The page's entry point (built for the browser by Trunk).

#[cfg(target_arch = "wasm32")]
fn main() {
    sarcoscope::app::start_page();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("sarcoscope-web is the browser app: build it with `trunk build` (see README).");
    std::process::exit(2);
}
