//! Body composition from a tissue mask: areas and attenuation per tissue, height
//! indices, and the sarcopenia and myosteatosis calls under a chosen cut-off set.

pub mod composition;
pub mod cutoffs;
pub mod metrics;

pub use composition::{
    myosteatosis, sarcopenia, yes_no, Anthropometry, Call, Composition, Height, HeightSource,
    Indices,
};
pub use cutoffs::{MyosteatosisCutoffs, SmiCutoffs, CUTOFFS_VERSION};
pub use metrics::{measure, TissueMeasure};
