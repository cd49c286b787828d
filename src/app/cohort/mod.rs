//! Cohort mode: a whole archive measured study by study in the browser, on the same
//! core as `sarcoscope batch` (`sarcoscope::batch::run` decides, the page's workers decode
//! and segment).

mod client;
mod folder;
mod join;
mod masks;
mod reopen;
mod view;

pub use client::Cohort;
pub use reopen::ReviewBar;
pub use view::CohortView;
