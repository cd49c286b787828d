//! The browser app: a thin Leptos page over the core, a Web Worker that does all reading
//! and decoding (so the page never freezes) and one for the cohort statistics. The worker
//! that runs the segmentation network is the `sarcoscope-segmenter` crate, which uses this
//! one's message envelope and segmentation messages.
//!
//! The page's state is one [`workspace::Workspace`] of signal handles, built by
//! [`page::App`] and handed to every view; the workers' clients carry what the core
//! decides ([`sarcoscope::ingest`]) and report into it.

mod body_panel;
mod case;
mod cohort;
mod correction;
mod decode;
mod download;
pub mod envelope;
mod facts_panel;
mod figures;
mod lazy_worker;
mod level_panel;
mod loaded;
mod model_choice;
mod offline;
mod page;
mod picked;
mod prediction_panel;
mod reader;
mod render;
mod report_panel;
mod said;
mod scores_panel;
pub mod segment;
mod shell;
mod statistics;
mod store;
mod summary;
mod tissue_panel;
mod viewer;
mod workspace;

/// Entry point of the page module.
pub fn start_page() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(page::App);
}

/// Entry point of the worker module.
pub fn start_worker() {
    console_error_panic_hook::set_once();
    decode::worker::run();
}

/// Entry point of the statistics worker module.
pub fn start_statistics() {
    console_error_panic_hook::set_once();
    statistics::worker::run();
}
