//! Sex as the scores and cut-offs use it: a leaf that body composition (sex-specific
//! SMI cut-offs) and the clinical scores (MELD 3.0's female term) both depend on.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Sex as the scores and cut-offs use it (MELD 3.0's female term, sex-specific SMI).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Male,
    Female,
}

impl Sex {
    /// From a DICOM PatientSex or a form: "M"/"F" or the words. "O" and anything else
    /// stay unknown, so no sex-specific number is computed from a guess.
    pub fn parse(text: &str) -> Option<Sex> {
        match text.trim().to_ascii_lowercase().as_str() {
            "m" | "male" | "man" => Some(Sex::Male),
            "f" | "female" | "woman" | "w" => Some(Sex::Female),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Sex::Male => "M",
            Sex::Female => "F",
        }
    }
}

impl fmt::Display for Sex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Sex::Male => "male",
            Sex::Female => "female",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_male_and_female_are_read_the_rest_stays_unknown() {
        assert_eq!(Sex::parse("F"), Some(Sex::Female));
        assert_eq!(Sex::parse(" male "), Some(Sex::Male));
        assert_eq!(Sex::parse("O"), None);
        assert_eq!(Sex::parse(""), None);
    }
}
