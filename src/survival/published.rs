//! Published scores as model files, so that a centre can validate them on its own
//! cohort today, beside (never instead of) the study's model. Each is labelled as
//! published elsewhere and gives risks only at the horizon its authors published
//! survival for: the baseline is known there and nowhere else. The cohort needs the
//! score as a column of the same name (`meld`, `meld3`: the names of Sarcoscope's own
//! CSV export). MELD-Na and MELD-Sarcopenia were published without a baseline survival,
//! so they can be validated as scores (discrimination) but not as model files.

use super::cox::{Baseline, Ties};
use super::design::{Basis, Term, TermSpec};
use super::model::{
    Development, HorizonBaseline, ModelContent, ModelFile, Predictor, Publication, SCHEMA,
};
use crate::clinical::meld;

/// A score published as S(t) = S0^exp(b·score − offset) at one horizon.
struct Formula {
    name: &'static str,
    column: &'static str,
    description: &'static str,
    citation: &'static str,
    development: &'static str,
    b: f64,
    offset: f64,
    s0: f64,
    /// In days.
    horizon: f64,
    harrell_c: f64,
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
    s0: 0.98465,
    horizon: 90.0,
    harrell_c: 0.0,
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
    s0: 0.946,
    horizon: 90.0,
    harrell_c: 0.869,
};

/// What the view offers: a key and the model's name.
pub const AVAILABLE: [(&str, &str); 2] = [("meld", MELD.name), ("meld3", MELD3.name)];

/// The published model `key` names (one of [`AVAILABLE`]).
pub fn model(key: &str) -> Option<ModelFile> {
    let f = match key {
        "meld" => MELD,
        "meld3" => MELD3,
        _ => return None,
    };
    // S = S0^exp(b·x − offset) = exp(−H0·exp(b·x)) with H0 = −ln(S0)·exp(−offset).
    let h0 = -f.s0.ln() * (-f.offset).exp();
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
            // The scores' own bounds (MELD and MELD 3.0 are capped 6–40).
            range: Some((f64::from(meld::FLOOR), f64::from(meld::CAP))),
        }],
        names: vec![f.column.into()],
        coefficients: vec![f.b],
        // Not published: predictions carry no interval.
        covariance: vec![vec![0.0]],
        means: vec![0.0],
        ties: Ties::Efron,
        strata: None,
        baseline: vec![Baseline {
            times: vec![f.horizon],
            cumhaz: vec![h0],
        }],
        horizons: vec![HorizonBaseline {
            time: f.horizon,
            survival_uncentred: (-h0).exp(),
            survival_at_means: (-h0).exp(),
        }],
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
        assert!(model("meld_na").is_none());
    }
}
