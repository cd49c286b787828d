//! Decoding in a Web Worker: the page's client (which carries what [`sarcoscope::ingest`]
//! decides) and the worker itself. The messages are the core's
//! ([`sarcoscope::ingest::messages`]).

mod client;
pub mod worker;

pub use client::Decoder;
