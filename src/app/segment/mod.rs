//! Segmentation in a Web Worker of its own (the network's code is large, so the page
//! and the decoder never wait for it): the page's client, the messages, and the worker.

mod client;
pub mod messages;
#[cfg(feature = "network")]
pub mod worker;

pub use client::Segmenter;
