//! Sarcopenia (SMI) and myosteatosis (muscle attenuation) cut-off sets, each a named,
//! versioned constant with its source (CLINICAL.md §2.2–2.3). Which set was applied is
//! recorded in every report and export, since prevalence swings with the choice
//! (Nutrients 2022;14:3446).

use serde::{Deserialize, Serialize};

use crate::provenance::Source;
use crate::sex::Sex;

/// Bumped whenever a threshold or a set changes, and printed in exports.
pub const CUTOFFS_VERSION: &str = "cutoffs/1 (CLINICAL.md 2026-11)";

/// Sets of L3 skeletal muscle index cut-offs (cm²/m²).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SmiCutoffs {
    /// The cirrhosis default.
    #[default]
    Carey2017,
    Zeng2021,
    Prado2008,
    Martin2013,
    Jsh2016,
    Derstine2018,
}

/// Sets of muscle attenuation (mean HU of skeletal muscle) cut-offs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum MyosteatosisCutoffs {
    /// The cirrhosis default.
    #[default]
    Ebadi2022,
    Martin2013,
    Derstine2018,
}

/// Why a threshold could not be chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Needs {
    Sex,
    Bmi,
}

impl Needs {
    pub fn words(self) -> &'static str {
        match self {
            Needs::Sex => "sex",
            Needs::Bmi => "BMI (height and weight)",
        }
    }
}

impl SmiCutoffs {
    pub const ALL: [SmiCutoffs; 6] = [
        SmiCutoffs::Carey2017,
        SmiCutoffs::Zeng2021,
        SmiCutoffs::Prado2008,
        SmiCutoffs::Martin2013,
        SmiCutoffs::Jsh2016,
        SmiCutoffs::Derstine2018,
    ];

    pub fn key(self) -> &'static str {
        match self {
            SmiCutoffs::Carey2017 => "carey2017",
            SmiCutoffs::Zeng2021 => "zeng2021",
            SmiCutoffs::Prado2008 => "prado2008",
            SmiCutoffs::Martin2013 => "martin2013",
            SmiCutoffs::Jsh2016 => "jsh2016",
            SmiCutoffs::Derstine2018 => "derstine2018",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            SmiCutoffs::Carey2017 => "Cirrhosis — Carey 2017 (< 50 men, < 39 women)",
            SmiCutoffs::Zeng2021 => "Chinese — Zeng 2021 (< 44.77 men, < 32.50 women)",
            SmiCutoffs::Prado2008 => "Prado 2008 (< 52.4 men, < 38.5 women)",
            SmiCutoffs::Martin2013 => {
                "Martin 2013 (men < 43 if BMI < 25, < 53 if ≥ 25; women < 41)"
            }
            SmiCutoffs::Jsh2016 => "Japan Society of Hepatology 2016 (< 42 men, < 38 women)",
            SmiCutoffs::Derstine2018 => "Derstine 2018, healthy − 2 SD (< 45.4 men, < 34.4 women)",
        }
    }

    pub fn source(self) -> Source {
        match self {
            SmiCutoffs::Carey2017 => Source::verified(
                "Carey et al. 2017 (Liver Transpl 2017;23:625 — this citation itself is \
                 unverified); the cut-offs as adopted by the North American Working Group on \
                 Sarcopenia in Liver Transplantation, Hepatology 2019;70:1816 (PMID 31220351)",
            ),
            SmiCutoffs::Zeng2021 => Source::verified(
                "Zeng et al., J Cachexia Sarcopenia Muscle 2021;12:1948 (PMC8718091): \
                 mean − 1.28 SD of 911 healthy Chinese adults",
            ),
            SmiCutoffs::Prado2008 => Source::verified(
                "Prado et al., Lancet Oncol 2008;9:629 (via Gu 2018, PMID 30179230)",
            ),
            SmiCutoffs::Martin2013 => Source::verified(
                "Martin et al., J Clin Oncol 2013;31:1539 (via Fukushima 2015, PLoS One)",
            ),
            SmiCutoffs::Jsh2016 => Source::recalled(
                "Nishikawa et al., Hepatol Res 2016;46:951 (JSH criteria; CT cut-offs 42/38)",
            ),
            SmiCutoffs::Derstine2018 => Source::verified(
                "Derstine et al., Sci Rep 2018: healthy kidney donors, mean − 2 SD",
            ),
        }
    }

    /// The SMI below which the patient is called sarcopenic.
    pub fn threshold(self, sex: Option<Sex>, bmi: Option<f64>) -> Result<f64, Needs> {
        let sex = sex.ok_or(Needs::Sex)?;
        let (men, women) = match self {
            SmiCutoffs::Carey2017 => (50.0, 39.0),
            SmiCutoffs::Zeng2021 => (44.77, 32.50),
            SmiCutoffs::Prado2008 => (52.4, 38.5),
            SmiCutoffs::Martin2013 => {
                let men = if bmi.ok_or(Needs::Bmi)? < 25.0 {
                    43.0
                } else {
                    53.0
                };
                (men, 41.0)
            }
            SmiCutoffs::Jsh2016 => (42.0, 38.0),
            SmiCutoffs::Derstine2018 => (45.4, 34.4),
        };
        Ok(match sex {
            Sex::Male => men,
            Sex::Female => women,
        })
    }
}

impl MyosteatosisCutoffs {
    pub const ALL: [MyosteatosisCutoffs; 3] = [
        MyosteatosisCutoffs::Ebadi2022,
        MyosteatosisCutoffs::Martin2013,
        MyosteatosisCutoffs::Derstine2018,
    ];

    pub fn key(self) -> &'static str {
        match self {
            MyosteatosisCutoffs::Ebadi2022 => "ebadi2022",
            MyosteatosisCutoffs::Martin2013 => "martin2013",
            MyosteatosisCutoffs::Derstine2018 => "derstine2018",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            MyosteatosisCutoffs::Ebadi2022 => "Cirrhosis — Ebadi 2022 (< 33 HU men, < 28 HU women)",
            MyosteatosisCutoffs::Martin2013 => "Martin 2013 (< 41 HU if BMI < 25, < 33 HU if ≥ 25)",
            MyosteatosisCutoffs::Derstine2018 => {
                "Derstine 2018, healthy − 2 SD (< 38.5 HU men, < 34.3 HU women)"
            }
        }
    }

    pub fn source(self) -> Source {
        match self {
            MyosteatosisCutoffs::Ebadi2022 => Source::verified(
                "Ebadi et al. 2022 (PMC9030863), 855 patients with cirrhosis: lowest tertile",
            ),
            MyosteatosisCutoffs::Martin2013 => {
                Source::recalled("Martin et al., J Clin Oncol 2013;31:1539 (attenuation cut-offs)")
            }
            MyosteatosisCutoffs::Derstine2018 => Source::verified(
                "Derstine et al., Sci Rep 2018: healthy kidney donors, mean − 2 SD",
            ),
        }
    }

    /// The mean muscle HU below which the patient is called myosteatotic.
    pub fn threshold(self, sex: Option<Sex>, bmi: Option<f64>) -> Result<f64, Needs> {
        match self {
            MyosteatosisCutoffs::Ebadi2022 => Ok(match sex.ok_or(Needs::Sex)? {
                Sex::Male => 33.0,
                Sex::Female => 28.0,
            }),
            MyosteatosisCutoffs::Martin2013 => Ok(if bmi.ok_or(Needs::Bmi)? < 25.0 {
                41.0
            } else {
                33.0
            }),
            MyosteatosisCutoffs::Derstine2018 => Ok(match sex.ok_or(Needs::Sex)? {
                Sex::Male => 38.5,
                Sex::Female => 34.3,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_by_sex_and_bmi() {
        let m = Some(Sex::Male);
        let f = Some(Sex::Female);
        assert_eq!(SmiCutoffs::Carey2017.threshold(m, None), Ok(50.0));
        assert_eq!(SmiCutoffs::Carey2017.threshold(f, None), Ok(39.0));
        assert_eq!(SmiCutoffs::Zeng2021.threshold(m, None), Ok(44.77));
        assert_eq!(SmiCutoffs::Zeng2021.threshold(f, None), Ok(32.50));
        assert_eq!(SmiCutoffs::Prado2008.threshold(f, None), Ok(38.5));
        assert_eq!(SmiCutoffs::Martin2013.threshold(m, None), Err(Needs::Bmi));
        assert_eq!(SmiCutoffs::Martin2013.threshold(m, Some(24.9)), Ok(43.0));
        assert_eq!(SmiCutoffs::Martin2013.threshold(m, Some(25.0)), Ok(53.0));
        assert_eq!(SmiCutoffs::Martin2013.threshold(f, Some(30.0)), Ok(41.0));
        assert_eq!(SmiCutoffs::Carey2017.threshold(None, None), Err(Needs::Sex));
        assert_eq!(MyosteatosisCutoffs::Ebadi2022.threshold(f, None), Ok(28.0));
        assert_eq!(
            MyosteatosisCutoffs::Martin2013.threshold(None, Some(27.0)),
            Ok(33.0)
        );
        // Keys name a set in exports and forms: each must be distinct.
        let keys: std::collections::HashSet<_> = SmiCutoffs::ALL.map(SmiCutoffs::key).into();
        assert_eq!(keys.len(), SmiCutoffs::ALL.len());
        assert_eq!(
            SmiCutoffs::Jsh2016.source().evidence,
            crate::provenance::Evidence::Recalled
        );
    }
}
