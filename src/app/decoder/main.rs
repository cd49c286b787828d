//! The decoding worker's entry point (built for the browser by Trunk).

fn main() {
    sarcoscope_web::start_worker();
}
