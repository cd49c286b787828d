//! Published scores as model files, so that a centre can validate them on its own
//! cohort today, beside (never instead of) the study's model. Each is labelled as
//! published elsewhere and gives risks only at the horizon its authors published
//! survival for: the baseline is known there and nowhere else. MELD-Na and
//! MELD-Sarcopenia were published without a baseline survival: their files rank
//! patients (discrimination: C, Uno's C, AUC) and give no probability. The cohort needs
//! the score as a column of the same name (`meld`, `meld_na`, `meld3`,
//! `meld_sarcopenia`: the names of Sarcoscope's own CSV export).

use super::cox::{Baseline, Ties};
use super::design::{Basis, Term, TermSpec};
use super::model::{
    Development, HorizonBaseline, ModelContent, ModelFile, Predictor, Publication, SCHEMA,
};
use crate::clinical::meld;

/// A score published as S(t) = S0^exp(b·score − offset) at one horizon, or as a score
/// alone (no S0: it ranks patients only).
struct Formula {
    name: &'static str,
    column: &'static str,
    description: &'static str,
    citation: &'static str,
    development: &'static str,
    b: f64,
    offset: f64,
    s0: Option<f64>,
    /// The outcome's horizon in the publication, in days.
    horizon: f64,
    harrell_c: f64,
    /// The score's own bounds.
    range: (f64, f64),
}

/// MELD's 3-month survival (Wiesner et al., Gastroenterology 2003;124:91, as CLINICAL.md
/// §1.2 gives it: S = 0.98465^exp(0.1635·(MELD − 10))), the 3 months read as 90 days.
const MELD: Formula = Formula {
    name: "MELD, 3-month survival (Wiesner 2003)",
    column: "meld",
    description: "S(90 days) = 0.98465^exp(0.1635 · (MELD − 10))",
    citation: "Wiesner R et al. Model for end-stage liver disease (MELD) and allocation of donor livers. Gastroenterology 2003;124:91–96.",
    development: "US liver transplant waiting list (UNOS), 3-month mortality; the cohort's size and C are in the paper, not in this file.",
    b: 0.1635,
    offset: 1.635,
    s0: Some(0.98465),
    horizon: 90.0,
    harrell_c: 0.0,
    range: MELD_RANGE,
};

/// MELD and its successors are capped 6–40.
const MELD_RANGE: (f64, f64) = (meld::FLOOR as f64, meld::CAP as f64);

/// MELD-Na (Kim WR et al., NEJM 2008;359:1018; OPTN's form of 2016, CLINICAL.md §1.3):
/// its survival was not published as a formula, so the file ranks patients only.
const MELD_NA: Formula = Formula {
    name: "MELD-Na, ranking only (Kim 2008; OPTN 2016)",
    column: "meld_na",
    description: "Higher MELD-Na, higher risk of death; no baseline survival was published, so no probability",
    citation: "Kim WR et al. Hyponatremia and mortality among patients on the liver-transplant waiting list. N Engl J Med 2008;359:1018–1026 (OPTN form of January 2016).",
    development: "US liver transplant waiting list (OPTN), 90-day mortality.",
    b: 1.0,
    offset: 0.0,
    s0: None,
    horizon: 90.0,
    harrell_c: 0.0,
    range: MELD_RANGE,
};

/// MELD-Sarcopenia = MELD + 10.35 × sarcopenia (Montano-Loza et al., Clin Transl
/// Gastroenterol 2015;6:e102; CLINICAL.md §1.8): published as a score, ranks only.
const MELD_SARCOPENIA: Formula = Formula {
    name: "MELD-Sarcopenia, ranking only (Montano-Loza 2015)",
    column: "meld_sarcopenia",
    description: "MELD + 10.35 × sarcopenia; higher, higher risk of death; no baseline survival was published, so no probability",
    citation: "Montano-Loza AJ et al. Inclusion of sarcopenia within MELD (MELD-Sarcopenia) and the prediction of mortality in patients with cirrhosis. Clin Transl Gastroenterol 2015;6:e102.",
    development: "669 patients with cirrhosis evaluated for liver transplant (Edmonton); C at 3 months 0.85.",
    b: 1.0,
    offset: 0.0,
    s0: None,
    horizon: 90.0,
    harrell_c: 0.85,
    range: (meld::FLOOR as f64, meld::CAP as f64 + 10.35),
};

/// MELD 3.0's 90-day survival (Kim et al., Gastroenterology 2021;161:1887, CLINICAL.md
/// §1.4: S = 0.946^exp(0.17698·MELD 3.0 − 3.56)).
const MELD3: Formula = Formula {
    name: "MELD 3.0, 90-day survival (Kim 2021)",
    column: "meld3",
    description: "S(90 days) = 0.946^exp(0.17698 · MELD 3.0 − 3.56)",
    citation: "Kim WR et al. MELD 3.0: the model for end-stage liver disease updated for the modern era. Gastroenterology 2021;161:1887–1895.",
    development: "US liver transplant waiting-list registrants 2016–2018, Cox model of 90-day survival; C 0.869 in its validation set.",
    b: 0.17698,
    offset: 3.56,
    s0: Some(0.946),
    horizon: 90.0,
    harrell_c: 0.869,
    range: MELD_RANGE,
};

/// What the view offers: a key and the model's name.
pub const AVAILABLE: [(&str, &str); 4] = [
    ("meld", MELD.name),
    ("meld_na", MELD_NA.name),
    ("meld3", MELD3.name),
    ("meld_sarcopenia", MELD_SARCOPENIA.name),
];

/// The published model `key` names (one of [`AVAILABLE`]).
pub fn model(key: &str) -> Option<ModelFile> {
    let f = match key {
        "meld" => MELD,
        "meld_na" => MELD_NA,
        "meld3" => MELD3,
        "meld_sarcopenia" => MELD_SARCOPENIA,
        _ => return None,
    };
    // S = S0^exp(b·x − offset) = exp(−H0·exp(b·x)) with H0 = −ln(S0)·exp(−offset).
    let h0 = f.s0.map(|s0| -s0.ln() * (-f.offset).exp());
    let content = ModelContent {
        schema: SCHEMA.into(),
        name: f.name.into(),
        description: f.description.into(),
        published_elsewhere: true,
        time_unit: "days".into(),
        outcome: "death".into(),
        predictors: vec![Predictor {
            term: Term {
                spec: TermSpec {
                    column: f.column.into(),
                    transform: super::design::Transform::Linear,
                },
                basis: Basis::Linear,
            },
            unit: "points".into(),
            range: Some(f.range),
        }],
        names: vec![f.column.into()],
        coefficients: vec![f.b],
        // Not published: predictions carry no interval.
        covariance: vec![vec![0.0]],
        means: vec![0.0],
        ties: Ties::Efron,
        strata: None,
        baseline: vec![Baseline {
            times: h0.map(|_| f.horizon).into_iter().collect(),
            cumhaz: h0.into_iter().collect(),
        }],
        horizons: h0
            .map(|h0| HorizonBaseline {
                time: f.horizon,
                survival_uncentred: (-h0).exp(),
                survival_at_means: (-h0).exp(),
            })
            .into_iter()
            .collect(),
        development: Development {
            n: 0,
            events: 0,
            max_follow_up: f.horizon,
            median_follow_up: f.horizon,
            harrell_c: f.harrell_c,
            harrell_c_se: 0.0,
            excluded: 0,
            bootstrap: None,
        },
        publication: Some(Publication {
            citation: f.citation.into(),
            development: f.development.into(),
            horizons_only: true,
        }),
    };
    // Sealed like any other, so that it travels and reads back the same way.
    ModelFile::from_json(
        &ModelFile {
            content,
            sha256: String::new(),
        }
        .to_json(),
    )
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clinical::meld::{meld3_survival, meld_survival};

    #[test]
    fn the_model_files_give_the_published_formulas_risks_at_their_horizon_only() {
        for (key, survival) in [
            ("meld", meld_survival as fn(i32) -> f64),
            ("meld3", meld3_survival),
        ] {
            let file = model(key).expect("a shipped model");
            assert!(file.content.published_elsewhere);
            for score in [6, 14, 20, 28, 40] {
                let risk = file.risk(&[f64::from(score)], 0, 90.0).expect("at 90 days");
                assert!(
                    (risk - (1.0 - survival(score))).abs() < 1e-12,
                    "{key} {score}: {risk}"
                );
            }
            let refused = file
                .risk(&[20.0], 0, 30.0)
                .expect_err("not published at 30 days");
            assert!(refused.to_string().contains("only at"), "{refused}");
        }
        // CLINICAL.md's vectors: pmeld(20) = 0.9237; MELD 3.0 20 → 0.947.
        let at = |key: &str| model(key).unwrap().risk(&[20.0], 0, 90.0).unwrap();
        assert!((1.0 - at("meld") - 0.9237).abs() < 5e-5);
        assert!((1.0 - at("meld3") - 0.947).abs() < 5e-4);
        assert!(model("child_pugh").is_none());
    }

    #[test]
    fn scores_published_without_a_baseline_rank_and_give_no_probability() {
        for key in ["meld_na", "meld_sarcopenia"] {
            let file = model(key).expect("a shipped model");
            assert!(file.ranks_only() && file.content.published_elsewhere);
            assert_eq!(file.linear_predictor(&[28.0]), 28.0);
            let refused = file.risk(&[28.0], 0, 90.0).expect_err("no probability");
            assert!(
                refused.to_string().contains("no baseline survival"),
                "{refused}"
            );
        }
        assert!(!model("meld").expect("MELD").ranks_only());
    }
}
