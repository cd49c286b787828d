//! The Reader study view: readers' masks compared with the automatic measurement
//! (agreement per case and over the cohort), on the same core as `sarcoscope agree`.

mod client;
mod view;

pub use client::Agreement;
pub use view::ReaderView;
