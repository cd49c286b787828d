//! Decoding in a Web Worker: the page's client (which carries what [`crate::ingest`]
//! decides) and the worker itself. The messages are the core's
//! ([`crate::ingest::messages`]).

mod client;
pub mod worker;

pub use client::Decoder;
