//! Where a medical number comes from. Every formula, cut-off and threshold in the core
//! carries a [`Source`], and the page shows it next to the number, so a reader can cite
//! it — and sees at once when it rests on a recalled, unchecked reference.

use serde::Serialize;

/// How firmly a source was checked, with the tags of `shared/reference/CLINICAL.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Evidence {
    /// Checked against the primary text or a reference implementation ([V]).
    Verified,
    /// Recalled from the literature or a secondary source; the primary text was not
    /// checked ([R]). Shown as "unverified" wherever it is used.
    Recalled,
}

impl Evidence {
    pub fn label(self) -> &'static str {
        match self {
            Evidence::Verified => "verified",
            Evidence::Recalled => "unverified: primary text not checked",
        }
    }
}

/// A citation with how firmly it was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Source {
    pub citation: &'static str,
    pub evidence: Evidence,
}

impl Source {
    pub const fn verified(citation: &'static str) -> Source {
        Source {
            citation,
            evidence: Evidence::Verified,
        }
    }

    pub const fn recalled(citation: &'static str) -> Source {
        Source {
            citation,
            evidence: Evidence::Recalled,
        }
    }

    /// The citation as printed under a number: "[unverified …]" is added where it applies.
    pub fn cite(&self) -> String {
        match self.evidence {
            Evidence::Verified => self.citation.to_string(),
            Evidence::Recalled => format!("{} [{}]", self.citation, self.evidence.label()),
        }
    }
}
