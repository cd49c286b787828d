//! Study eligibility for NCT06531200 (Peking University): the laboratory route to a
//! cirrhosis diagnosis, the checks around it, and the registry's eight exclusion
//! criteria, each met / not met / unknown.
//!
//! The tool shows the criteria; the investigator decides. Nothing unknown is counted as
//! met, and a criterion whose qualifier ("no other cause") is unanswered stays unknown.
//! No exclusion can be read from the CT or the labs: each is the investigator's yes/no.

use serde::{Deserialize, Serialize};

use super::fibrosis::apri;
use super::labs::Labs;
use crate::provenance::Source;

pub const SOURCE: Source = Source::verified(
    "NCT06531200 registry entry (clinicaltrials.gov via ctv.veeva.com, \
     clinicaltrialcompass.org): inclusion by ≥ 2 of platelets < 100×10⁹/L, albumin < 35 g/L, \
     INR > 1.3, APRI > 2, with their qualifiers; age ≥ 18; a high-quality L3 CT",
);
pub const EXCLUSION_SOURCE: Source = Source::verified(
    "NCT06531200 registry entry (clinicaltrials.gov via ctv.veeva.com): exclusion criteria 1–8",
);

/// The registry's exclusion criteria, in its order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Exclusion {
    IncompleteData,
    Malignancy,
    OrganFailure,
    NeuromuscularDisease,
    MetabolicDisease,
    Malabsorption,
    Immunosuppression,
    PregnancyOrLactation,
}

impl Exclusion {
    pub const ALL: [Exclusion; 8] = [
        Exclusion::IncompleteData,
        Exclusion::Malignancy,
        Exclusion::OrganFailure,
        Exclusion::NeuromuscularDisease,
        Exclusion::MetabolicDisease,
        Exclusion::Malabsorption,
        Exclusion::Immunosuppression,
        Exclusion::PregnancyOrLactation,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Exclusion::IncompleteData => "incomplete-data",
            Exclusion::Malignancy => "malignancy",
            Exclusion::OrganFailure => "organ-failure",
            Exclusion::NeuromuscularDisease => "neuromuscular",
            Exclusion::MetabolicDisease => "metabolic",
            Exclusion::Malabsorption => "malabsorption",
            Exclusion::Immunosuppression => "immunosuppression",
            Exclusion::PregnancyOrLactation => "pregnancy",
        }
    }

    /// The registry's words.
    pub fn text(self) -> &'static str {
        match self {
            Exclusion::IncompleteData => "Incomplete sociodemographic, laboratory, or imaging data",
            Exclusion::Malignancy => "Diagnosed or highly suspected malignancy",
            Exclusion::OrganFailure => {
                "Severe chronic kidney disease, respiratory insufficiency, cardiovascular diseases, etc."
            }
            Exclusion::NeuromuscularDisease => {
                "Neurological diseases and muscular degenerative diseases"
            }
            Exclusion::MetabolicDisease => {
                "Hyperthyroidism, hypothyroidism, tuberculosis, or any other disease that may affect basal metabolism"
            }
            Exclusion::Malabsorption => {
                "Diseases or conditions causing malabsorption of intestinal nutrients, such as inflammatory bowel disease or gastrointestinal surgery"
            }
            Exclusion::Immunosuppression => "Treatment with glucocorticoids or immunosuppressants",
            Exclusion::PregnancyOrLactation => "Pregnancy or lactation",
        }
    }

    /// What the investigator should look at before answering, where the tool can help.
    pub fn prompt(self) -> Option<&'static str> {
        match self {
            Exclusion::Malignancy => Some(
                "a suspected malignancy can show on this CT: look at the liver and the rest of the scan before answering",
            ),
            Exclusion::IncompleteData => {
                Some("the laboratory form and the QC flags show what is still missing")
            }
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Met,
    NotMet,
    Unknown,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Met => "met",
            Status::NotMet => "not met",
            Status::Unknown => "unknown",
        }
    }

    fn of(answer: Option<bool>) -> Status {
        match answer {
            Some(true) => Status::Met,
            Some(false) => Status::NotMet,
            None => Status::Unknown,
        }
    }

    /// Both must hold: unknown unless one is already false.
    fn and(self, other: Status) -> Status {
        match (self, other) {
            (Status::NotMet, _) | (_, Status::NotMet) => Status::NotMet,
            (Status::Met, Status::Met) => Status::Met,
            _ => Status::Unknown,
        }
    }
}

/// What only the investigator can answer: `None` until answered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answers {
    /// The low platelet count has no other explainable cause.
    pub platelets_no_other_cause: Option<bool>,
    /// The low albumin is not explained by malnutrition or kidney disease.
    pub albumin_no_other_cause: Option<bool>,
    /// Thrombolytics and anticoagulants were stopped more than 7 days before the INR.
    pub inr_off_anticoagulants: Option<bool>,
    /// The L3 CT is of high quality (the panel's QC flags inform this).
    pub l3_ct_high_quality: Option<bool>,
    /// Whether each [`Exclusion`] applies (`Some(true)` excludes), in [`Exclusion::ALL`]'s
    /// order.
    #[serde(default)]
    pub exclusions: [Option<bool>; 8],
}

impl Answers {
    pub fn exclusion(&self, which: Exclusion) -> Option<bool> {
        self.exclusions[which as usize]
    }

    pub fn set_exclusion(&mut self, which: Exclusion, applies: Option<bool>) {
        self.exclusions[which as usize] = applies;
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Criterion {
    pub key: &'static str,
    pub text: &'static str,
    pub status: Status,
    /// The value it was judged on, or what is still needed.
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Eligibility {
    /// The four laboratory signs.
    pub signs: Vec<Criterion>,
    /// At least two of the four signs.
    pub laboratory_route: Status,
    /// Age and imaging.
    pub checks: Vec<Criterion>,
    /// One per [`Exclusion`]: met when the investigator answered that it does not apply.
    pub exclusions: Vec<Criterion>,
    /// No exclusion applies: met only when all eight were answered "no".
    pub no_exclusion: Status,
}

fn sign(
    key: &'static str,
    text: &'static str,
    value: Option<f64>,
    shown: impl Fn(f64) -> String,
    abnormal: impl Fn(f64) -> bool,
    qualifier: Option<Option<bool>>,
) -> Criterion {
    let (status, detail) = match value {
        None => (Status::Unknown, "no value entered".to_string()),
        Some(v) if !abnormal(v) => (Status::NotMet, shown(v)),
        Some(v) => match qualifier {
            None => (Status::Met, shown(v)),
            Some(answer) => {
                let status = Status::Met.and(Status::of(answer));
                let note = match answer {
                    None => "; qualifier not yet confirmed",
                    Some(false) => "; explained by another cause",
                    Some(true) => "",
                };
                (status, format!("{}{note}", shown(v)))
            }
        },
    };
    Criterion {
        key,
        text,
        status,
        detail,
    }
}

pub fn assess(labs: &Labs, age_years: Option<f64>, answers: &Answers) -> Eligibility {
    let apri_value = match (
        labs.ast_u_l,
        labs.ast_upper_limit_u_l,
        labs.platelets_10e9_l,
    ) {
        (Some(ast), Some(uln), Some(plt)) => Some(apri(ast, uln, plt)),
        _ => None,
    };
    let signs = vec![
        sign(
            "platelets",
            "Platelets < 100×10⁹/L with no other explainable cause",
            labs.platelets_10e9_l,
            |v| format!("{v:.0}×10⁹/L"),
            |v| v < 100.0,
            Some(answers.platelets_no_other_cause),
        ),
        sign(
            "albumin",
            "Albumin < 35 g/L, malnutrition and kidney disease excluded",
            labs.albumin_g_dl.map(|g_dl| g_dl * 10.0),
            |v| format!("{v:.1} g/L"),
            |v| v < 35.0,
            Some(answers.albumin_no_other_cause),
        ),
        sign(
            "inr",
            "INR > 1.3 (thrombolytics/anticoagulants stopped > 7 days)",
            labs.inr,
            |v| format!("INR {v:.2}"),
            |v| v > 1.3,
            Some(answers.inr_off_anticoagulants),
        ),
        sign(
            "apri",
            "APRI > 2",
            apri_value,
            |v| format!("APRI {v:.2}"),
            |v| v > 2.0,
            None,
        ),
    ];
    let met = signs.iter().filter(|c| c.status == Status::Met).count();
    let open = signs.iter().filter(|c| c.status == Status::Unknown).count();
    let laboratory_route = if met >= 2 {
        Status::Met
    } else if met + open < 2 {
        Status::NotMet
    } else {
        Status::Unknown
    };
    let checks = vec![
        Criterion {
            key: "age",
            text: "Age ≥ 18 years",
            status: Status::of(age_years.map(|a| a >= 18.0)),
            detail: age_years
                .map(|a| format!("{a:.0} years"))
                .unwrap_or_else(|| "no age entered".into()),
        },
        Criterion {
            key: "l3_ct",
            text: "High-quality L3-level CT available",
            status: Status::of(answers.l3_ct_high_quality),
            detail: "investigator's judgement, informed by the QC flags".into(),
        },
    ];
    let exclusions: Vec<Criterion> = Exclusion::ALL
        .into_iter()
        .map(|which| {
            let applies = answers.exclusion(which);
            Criterion {
                key: which.key(),
                text: which.text(),
                status: Status::of(applies.map(|yes| !yes)),
                detail: match applies {
                    None => "not yet answered".into(),
                    Some(true) => "applies: excluded".into(),
                    Some(false) => "does not apply".into(),
                },
            }
        })
        .collect();
    let no_exclusion = exclusions
        .iter()
        .fold(Status::Met, |all, c| all.and(c.status));
    Eligibility {
        signs,
        laboratory_route,
        checks,
        exclusions,
        no_exclusion,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clinical::labs::{Lab, Units};

    fn labs(entries: &[(Lab, f64)]) -> Labs {
        let mut labs = Labs::default();
        for &(lab, v) in entries {
            labs.set(lab, v, Units::Si).unwrap();
        }
        labs
    }

    #[test]
    fn two_signs_with_confirmed_qualifiers_meet_the_laboratory_route() {
        let l = labs(&[
            (Lab::Platelets, 80.0),
            (Lab::Albumin, 30.0),
            (Lab::Inr, 1.1),
        ]);
        let unanswered = assess(&l, Some(60.0), &Answers::default());
        assert_eq!(unanswered.signs[0].status, Status::Unknown);
        assert_eq!(unanswered.signs[2].status, Status::NotMet);
        // Two signs pending their qualifiers, APRI unknown: still open.
        assert_eq!(unanswered.laboratory_route, Status::Unknown);
        let answered = Answers {
            platelets_no_other_cause: Some(true),
            albumin_no_other_cause: Some(true),
            ..Answers::default()
        };
        let e = assess(&l, Some(60.0), &answered);
        assert_eq!(e.laboratory_route, Status::Met);
        assert_eq!(e.checks[0].status, Status::Met);
        assert_eq!(e.checks[1].status, Status::Unknown);
    }

    #[test]
    fn apri_above_2_counts_and_normal_labs_rule_the_route_out() {
        let l = labs(&[
            (Lab::Platelets, 90.0),
            (Lab::Ast, 100.0),
            (Lab::AstUpperLimit, 40.0),
            (Lab::Inr, 1.5),
        ]);
        let answered = Answers {
            platelets_no_other_cause: Some(true),
            inr_off_anticoagulants: Some(true),
            ..Answers::default()
        };
        let e = assess(&l, Some(17.0), &answered);
        assert_eq!(e.signs[3].status, Status::Met, "{:?}", e.signs[3]);
        assert_eq!(e.laboratory_route, Status::Met);
        assert_eq!(e.checks[0].status, Status::NotMet);
        let normal = labs(&[
            (Lab::Platelets, 250.0),
            (Lab::Albumin, 42.0),
            (Lab::Inr, 1.0),
        ]);
        assert_eq!(
            assess(&normal, None, &Answers::default()).laboratory_route,
            Status::NotMet
        );
        let explained = Answers {
            platelets_no_other_cause: Some(false),
            ..answered
        };
        assert_eq!(assess(&l, None, &explained).signs[0].status, Status::NotMet);
    }

    #[test]
    fn all_eight_exclusions_must_be_answered_no_and_one_yes_excludes() {
        let l = labs(&[]);
        let mut answers = Answers::default();
        let e = assess(&l, None, &answers);
        assert_eq!(e.exclusions.len(), 8);
        assert_eq!(e.no_exclusion, Status::Unknown, "unknown is never met");
        for which in Exclusion::ALL {
            answers.set_exclusion(which, Some(false));
        }
        assert_eq!(assess(&l, None, &answers).no_exclusion, Status::Met);
        answers.set_exclusion(Exclusion::PregnancyOrLactation, None);
        assert_eq!(assess(&l, None, &answers).no_exclusion, Status::Unknown);
        answers.set_exclusion(Exclusion::Malignancy, Some(true));
        let e = assess(&l, None, &answers);
        assert_eq!(e.no_exclusion, Status::NotMet, "one that applies excludes");
        assert_eq!(e.exclusions[1].status, Status::NotMet);
        assert_eq!(
            e.exclusions[1].text,
            "Diagnosed or highly suspected malignancy"
        );
        // A record saved before the full list existed still reads, with nothing answered.
        let old: Answers = serde_json::from_str(
            r#"{"platelets_no_other_cause":true,"albumin_no_other_cause":null,"inr_off_anticoagulants":null,"l3_ct_high_quality":null,"sociodemographic_complete":true}"#,
        )
        .unwrap();
        assert_eq!(old.exclusions, [None; 8]);
        assert_eq!(old.platelets_no_other_cause, Some(true));
    }
}
