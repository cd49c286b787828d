//! Which slice is measured and how it was chosen: kept beside every measurement, since
//! an automatic pick with low confidence and a hand-set slice read differently.

use serde::{Deserialize, Serialize};

use super::{L3Result, L3Status};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum L3Method {
    Automatic {
        confidence: f64,
        status: L3Status,
    },
    Manual,
    /// The study holds only this slice or a few around it (a body-composition archive
    /// often keeps just L3): measured where it is, not searched for.
    Given,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct L3Choice {
    pub slice: usize,
    #[serde(flatten)]
    pub method: L3Method,
}

impl L3Choice {
    /// The automatic proposal, if the search placed L3 inside the series.
    pub fn automatic(found: &L3Result) -> Option<L3Choice> {
        Some(L3Choice {
            slice: found.slice_index?,
            method: L3Method::Automatic {
                confidence: found.confidence,
                status: found.status,
            },
        })
    }

    /// One line for the panel and the report.
    pub fn describe(&self) -> String {
        match &self.method {
            L3Method::Automatic { confidence, status } => format!(
                "slice {} chosen automatically ({}, confidence {:.2})",
                self.slice,
                match status {
                    L3Status::Found => "found",
                    L3Status::Uncertain => "uncertain",
                    L3Status::NotInScan => "not in scan",
                },
                confidence
            ),
            L3Method::Manual => format!("slice {} set by hand", self.slice),
            L3Method::Given => format!(
                "slice {} as the archive gives it (too few slices to search for L3)",
                self.slice
            ),
        }
    }
}
