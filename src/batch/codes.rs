//! Case codes: the only name a study has in the cohort table. A multi-centre study
//! wants its centres' codes apart (`C1-0001` at one site, `C2-0001` at the next), so the
//! prefix is typed by the coordinator; the number is the study's place in the run.

/// A run's case codes: a typed prefix and a number from 1, at least four digits.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CaseCodes {
    prefix: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("a case-code prefix is 1 to {MAX_PREFIX} letters, digits, '-' or '_' (\"{0}\" is not): it must not be a name or an identifier")]
    Prefix(String),
}

const MAX_PREFIX: usize = 16;

impl Default for CaseCodes {
    fn default() -> CaseCodes {
        CaseCodes { prefix: "S".into() }
    }
}

impl CaseCodes {
    /// Codes `prefix0001`, `prefix0002`, … Only letters, digits, `-` and `_`: a code
    /// goes into file names (`CASE.seg.dcm`) and CSV cells unquoted.
    pub fn new(prefix: &str) -> Result<CaseCodes, CodeError> {
        let prefix = prefix.trim();
        let allowed = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
        if prefix.is_empty() || prefix.len() > MAX_PREFIX || !prefix.chars().all(allowed) {
            return Err(CodeError::Prefix(prefix.to_owned()));
        }
        Ok(CaseCodes {
            prefix: prefix.to_owned(),
        })
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The code of study `number` (from 1).
    pub fn code(&self, number: usize) -> String {
        format!("{}{number:04}", self.prefix)
    }

    /// The number of `code`, `None` for a code not of this prefix.
    pub fn number(&self, code: &str) -> Option<usize> {
        let digits = code.strip_prefix(self.prefix.as_str())?;
        if digits.len() < 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_carry_the_typed_prefix_and_read_back_to_their_number() {
        let default = CaseCodes::default();
        assert_eq!(default.code(1), "S0001");
        assert_eq!(default.number("S0042"), Some(42));
        let centre = CaseCodes::new(" C1-").expect("a plain prefix");
        assert_eq!(centre.code(7), "C1-0007");
        assert_eq!(centre.code(12345), "C1-12345");
        assert_eq!(centre.number("C1-12345"), Some(12345));
        assert_eq!(centre.number("C1-0007"), Some(7));
        for other in ["S0007", "C1-7", "C1-00x7", "C2-0007", "C1-"] {
            assert_eq!(centre.number(other), None, "{other}");
        }
    }

    #[test]
    fn a_prefix_that_could_break_a_file_name_or_a_csv_cell_is_refused() {
        for bad in ["", "  ", "a b", "C,1", "../", "Müller", "ABCDEFGHIJKLMNOPQ"] {
            let error = CaseCodes::new(bad).expect_err(bad);
            assert!(error.to_string().contains("letters, digits"), "{error}");
        }
        assert!(CaseCodes::new("ABCDEFGHIJKLMNOP").is_ok(), "16 is allowed");
    }
}
