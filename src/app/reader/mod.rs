//! The Reader study view: readers' masks compared with the automatic measurement
//! (agreement per case and over the cohort, on the same core as `sarcoscope agree`), and
//! a reader study run in the page, its cases read in the Patient view; and the
//! segmentation model every view runs, fine-tuned here on the readers' masks.

mod client;
mod model_view;
mod study;
mod study_view;
mod tuning;
mod view;

pub use client::Agreement;
pub use study::{ReaderBar, ReaderStudyState};
pub use view::ReaderView;
