//! Cohort survival statistics for developing and validating a prognostic model, with
//! the estimators and conventions of R (`survival`, `rms`, `riskRegression`) so that a
//! statistician can check every figure against the package they know. Each module
//! names the R function it follows; the tests hold the values R gave on the `pbc`
//! cohort.
//!
//! The path: a cohort file ([`table`]) → columns given roles, incomplete rows listed
//! ([`design`]) → curves and tests ([`km`], [`logrank`], drawn by [`plot`]) → the model
//! ([`cox`]) → how well it ranks patients ([`concordance`]), how well its risks by a
//! horizon match what happened ([`performance`], [`calibration`], with censoring weights
//! from [`ipcw`]) and whether acting on them helps ([`decision`]); with a competing event,
//! cumulative incidence and the Fine–Gray model ([`competing`]); internal validation by
//! the [`bootstrap`]. A fitted model travels between centres as a sealed [`model`] file.

pub mod aggregate;
pub mod analysis;
pub mod bootstrap;
pub mod calibration;
pub mod competing;
pub mod concordance;
pub mod cox;
pub mod decision;
pub mod design;
pub mod ipcw;
mod json;
pub mod km;
pub mod logrank;
pub mod model;
pub mod performance;
pub mod plot;
pub mod pooling;
pub mod prediction;
pub mod published;
pub mod synthetic;
pub mod table;
pub mod zph;
