//! Segmentation in a Web Worker of its own (the network's code is large, so the page
//! and the decoder never wait for it): the page's client and the messages. The worker
//! is its own crate (`src/app/segmenter`), the only part of the app that carries Burn.

mod client;
pub mod messages;

pub(crate) use client::Segmenter;
