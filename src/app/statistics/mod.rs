//! Cohort statistics in a Web Worker of its own (a bootstrap of a Cox model runs for
//! minutes and must never freeze the page): the view, its client, the messages, and
//! the worker, all over `sarcoscope::survival`.

mod client;
mod competing;
pub mod messages;
mod pooling;
mod validation;
mod view;
pub mod worker;

pub use client::Statistics;
pub use view::StatisticsView;
