//! One patient's predicted risk from a model file, at each of its published horizons,
//! from values named as the cohort's columns were (Sarcoscope's own export names them
//! `meld`, `smi_cm2_m2`, `sarcopenia`, …). The interval comes from the coefficients'
//! covariance by the delta method on the linear predictor centred at the development
//! means, d = x − x̄: lp ± 1.96·√(dᵀVd), carried through 1 − exp(−H̄0(t)·exp(lp)) with
//! H̄0 the baseline at the means. The baseline's own uncertainty, smallest at the means,
//! is not in it (centring keeps that approximation honest: uncentred, the omitted
//! covariance of H0 with β would dominate); a published score without a covariance has
//! no interval.

use serde::{Deserialize, Serialize};

use super::design::{Basis, Value};
use super::model::{ModelError, ModelFile};

/// The risk by one horizon, with its interval where the model carries a covariance.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PredictedAt {
    pub time: f64,
    pub risk: f64,
    pub lower: Option<f64>,
    pub upper: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    pub horizons: Vec<PredictedAt>,
    /// Predictors whose value lies outside the development range: extrapolated.
    pub outside_range: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum PredictionError {
    #[error("needs {}", .0.join(", "))]
    Missing(Vec<String>),
    #[error("{column}: '{text}' is not a number")]
    NotANumber { column: String, text: String },
    #[error("{column}: log({value}) is undefined (the value must be above zero)")]
    NotPositive { column: String, value: f64 },
    #[error("{column}: '{level}' is not a level the model knows")]
    UnknownLevel { column: String, level: String },
    #[error(transparent)]
    Model(#[from] ModelError),
}

/// 97.5 % point of the standard normal.
const Z: f64 = 1.959_963_984_540_054;

/// The patient's risks under `model`; `value_of(column)` gives a value as text (empty
/// or `None`: not known).
pub fn predict(
    model: &ModelFile,
    value_of: impl Fn(&str) -> Option<String>,
) -> Result<Prediction, PredictionError> {
    let c = &model.content;
    let known = |column: &str| value_of(column).filter(|t| !t.trim().is_empty());
    let mut missing: Vec<String> = c
        .predictors
        .iter()
        .map(|p| p.term.spec.column.clone())
        .chain(c.strata.iter().map(|(column, _)| column.clone()))
        .filter(|column| known(column).is_none())
        .collect();
    missing.dedup();
    if !missing.is_empty() {
        return Err(PredictionError::Missing(missing));
    }
    let mut values = Vec::with_capacity(c.predictors.len());
    let mut x = Vec::with_capacity(c.coefficients.len());
    for p in &c.predictors {
        let column = &p.term.spec.column;
        let text = known(column).unwrap_or_default();
        let value = match &p.term.basis {
            Basis::Factor { reference, levels } => {
                let level = text.trim().to_owned();
                if level != *reference && !levels.contains(&level) {
                    return Err(PredictionError::UnknownLevel {
                        column: column.clone(),
                        level,
                    });
                }
                Value::Level(level)
            }
            basis => {
                let number = text.trim().replace(',', ".").parse::<f64>().map_err(|_| {
                    PredictionError::NotANumber {
                        column: column.clone(),
                        text: text.clone(),
                    }
                })?;
                if matches!(basis, Basis::Log) && number <= 0.0 {
                    return Err(PredictionError::NotPositive {
                        column: column.clone(),
                        value: number,
                    });
                }
                Value::Number(number)
            }
        };
        x.extend(p.term.columns(&value));
        values.push(value);
    }
    let stratum = match &c.strata {
        None => 0,
        Some((column, levels)) => {
            let level = known(column).unwrap_or_default().trim().to_owned();
            levels
                .iter()
                .position(|l| *l == level)
                .ok_or(PredictionError::UnknownLevel {
                    column: column.clone(),
                    level,
                })?
        }
    };
    let d: Vec<f64> = x.iter().zip(&c.means).map(|(x, m)| x - m).collect();
    let variance: f64 = (0..d.len())
        .flat_map(|i| (0..d.len()).map(move |j| (i, j)))
        .map(|(i, j)| d[i] * c.covariance[i][j] * d[j])
        .sum();
    let se = variance.max(0.0).sqrt();
    // log H(t | x) = log H0(t) + x'β = log H̄0(t) + d'β.
    let lp = model.linear_predictor(&x);
    let horizons = c
        .horizons
        .iter()
        .map(|h| {
            let risk = model.risk(&x, stratum, h.time)?;
            let h0 = c.baseline.get(stratum).map_or(0.0, |b| b.at(h.time));
            let at = |shift: f64| 1.0 - (-(h0.ln() + lp + shift).exp()).exp();
            let (lower, upper) = if se > 0.0 && h0 > 0.0 {
                (Some(at(-Z * se)), Some(at(Z * se)))
            } else {
                (None, None)
            };
            Ok(PredictedAt {
                time: h.time,
                risk,
                lower,
                upper,
            })
        })
        .collect::<Result<_, ModelError>>()?;
    Ok(Prediction {
        horizons,
        outside_range: model.outside_range(&values),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::survival::cox::{fit_design, Ties};
    use crate::survival::design::{Design, Outcome, Roles, TermSpec};
    use crate::survival::model::Describe;
    use crate::survival::table::CohortTable;

    fn fitted() -> ModelFile {
        let text = crate::survival::synthetic::cohort_csv(600, 3);
        let table = CohortTable::from_bytes(text.as_bytes()).unwrap();
        let outcome = Outcome::new("time", "status", "1");
        let roles = Roles::new(
            outcome,
            TermSpec::parse_list("meld, factor(sex), log(albumin)").unwrap(),
        );
        let design = Design::build(&table, &roles).unwrap();
        let fit = fit_design(&design, Ties::Efron).unwrap();
        let describe = Describe::cox(&roles, "m".into(), "days".into(), vec![365.0]);
        ModelFile::from_fit(&fit, &design, describe, (0.7, 0.02)).unwrap()
    }

    #[test]
    fn a_patient_gets_the_model_files_risk_with_an_interval_around_it() {
        let model = fitted();
        let values = |column: &str| {
            match column {
                "meld" => Some("18"),
                "sex" => Some("M"),
                "albumin" => Some("3,1"),
                _ => None,
            }
            .map(String::from)
        };
        let p = predict(&model, values).unwrap();
        let at = p.horizons[0];
        let x = [18.0, 1.0, 3.1_f64.ln()];
        assert!((at.risk - model.risk(&x, 0, 365.0).unwrap()).abs() < 1e-15);
        let (lo, hi) = (at.lower.unwrap(), at.upper.unwrap());
        assert!(
            lo < at.risk && at.risk < hi && hi - lo < 0.2,
            "{lo} {} {hi}",
            at.risk
        );
        assert!(p.outside_range.is_empty());
        // Beyond the development range: said, still predicted.
        let far = predict(&model, |c| {
            values(c).map(|v| if c == "meld" { "80".into() } else { v })
        });
        assert_eq!(far.unwrap().outside_range, vec!["meld".to_string()]);
    }

    #[test]
    fn what_is_missing_or_wrong_is_named() {
        let model = fitted();
        let none = predict(&model, |c| (c == "meld").then(|| "18".into()));
        assert_eq!(none.unwrap_err().to_string(), "needs sex, albumin");
        let text = predict(&model, |c| {
            Some(if c == "meld" { "high" } else { "M" }.into())
        });
        assert_eq!(
            text.unwrap_err().to_string(),
            "meld: 'high' is not a number"
        );
        let level = predict(&model, |c| Some(if c == "sex" { "x" } else { "3" }.into()));
        assert_eq!(
            level.unwrap_err().to_string(),
            "sex: 'x' is not a level the model knows"
        );
        let log = predict(&model, |c| {
            Some(
                if c == "albumin" {
                    "0"
                } else if c == "sex" {
                    "F"
                } else {
                    "9"
                }
                .into(),
            )
        });
        assert!(log.unwrap_err().to_string().starts_with("albumin: log(0)"));
    }
}
