//! The browser app: a thin Leptos page over the core, and a Web Worker that does all
//! reading and decoding so the page never freezes.

mod body_panel;
mod case;
mod controller;
mod correction;
mod download;
mod lazy_worker;
mod page;
mod protocol;
mod render;
mod report_panel;
mod scores_panel;
mod segmentation;
#[cfg(feature = "network")]
mod segmenter;
mod store;
mod tissue_panel;
mod worker;

/// Entry point of the page module.
pub fn start_page() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(page::App);
}

/// Entry point of the worker module.
pub fn start_worker() {
    console_error_panic_hook::set_once();
    worker::run();
}

/// Entry point of the segmentation worker module.
#[cfg(feature = "network")]
pub fn start_segmenter() {
    console_error_panic_hook::set_once();
    segmenter::run();
}
