//! The statistics worker's entry point (built by Trunk as its own wasm module).

fn main() {
    sarcoscope_web::start_statistics();
}
