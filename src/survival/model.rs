//! The model file (`*.sarcoscope-model.json`): what a development centre publishes so
//! that any other centre can compute the same predictions and validate them on its own
//! patients. It carries each predictor as written with what the data fixed (spline
//! knots, factor levels) and its development range; the coefficients, their covariance
//! and the centring values; the baseline cumulative hazard as a step function, both
//! uncentred and at the means (packages differ on which they publish: CLINICAL.md
//! §5.1); the ties method; the development cohort's summary; and a SHA-256 over the
//! rest, so that a damaged or edited file is refused instead of giving wrong risks.

use super::cox::{Baseline, CoxFit, Ties};
use super::design::{Design, Roles, Term, Value};

/// The format this version writes and reads.
pub const SCHEMA: &str = "sarcoscope-model/1";

/// A predictor: a term with its unit and the range seen at development.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Predictor {
    pub term: Term,
    /// The unit the values must be in (as the development cohort recorded them).
    pub unit: String,
    /// The smallest and largest value at development (numbers only); a patient outside
    /// is extrapolated, and told so.
    pub range: Option<(f64, f64)>,
}

/// The development cohort, as TRIPOD asks to report it (items 13a, 14a, 16).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Development {
    pub n: usize,
    pub events: usize,
    /// Longest follow-up, in the time unit: no horizon may lie beyond it.
    pub max_follow_up: f64,
    pub median_follow_up: f64,
    pub harrell_c: f64,
    pub harrell_c_se: f64,
    /// Rows left out for missing or bad values.
    pub excluded: usize,
    /// Optimism-corrected C, slope and Brier score, when the model was validated by
    /// the bootstrap before it was published.
    #[serde(default)]
    pub bootstrap: Option<super::bootstrap::Optimism>,
}

/// The baseline at one published horizon.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct HorizonBaseline {
    pub time: f64,
    /// S0(t) at covariates 0 and at the development means.
    pub survival_uncentred: f64,
    pub survival_at_means: f64,
}

/// Everything but the seal.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ModelContent {
    pub schema: String,
    pub name: String,
    pub description: String,
    /// A published score shipped for comparison (MELD and others), not the study's model.
    pub published_elsewhere: bool,
    pub time_unit: String,
    pub outcome: String,
    pub predictors: Vec<Predictor>,
    /// One per design column, in the order of the coefficients.
    pub names: Vec<String>,
    pub coefficients: Vec<f64>,
    pub covariance: Vec<Vec<f64>>,
    pub means: Vec<f64>,
    pub ties: Ties,
    /// The stratum column and its levels, when each stratum has its own baseline.
    pub strata: Option<(String, Vec<String>)>,
    /// Uncentred cumulative baseline hazard, one per stratum.
    pub baseline: Vec<Baseline>,
    pub horizons: Vec<HorizonBaseline>,
    pub development: Development,
    /// For a score published elsewhere: where, and on whom it was developed.
    #[serde(default)]
    pub publication: Option<Publication>,
}

/// A published score's source.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Publication {
    pub citation: String,
    /// The development cohort, in the publication's words.
    pub development: String,
    /// Survival was published at the horizons only: no risk anywhere else.
    pub horizons_only: bool,
}

/// A model file: its content, sealed when written.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ModelFile {
    #[serde(flatten)]
    pub content: ModelContent,
    /// SHA-256 of the file's own text with these 64 characters set to zeros (empty
    /// until written). Sealing the text as written, not numbers re-serialised, needs no
    /// bit-exact float parsing.
    pub sha256: String,
}

const SEAL_KEY: &str = "\"sha256\": \"";
const UNSEALED: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The file's text with its seal blanked, and the seal; `None` without one.
fn unsealed(text: &str) -> Option<(String, &str)> {
    let start = text.rfind(SEAL_KEY)? + SEAL_KEY.len();
    let seal = text.get(start..start + UNSEALED.len())?;
    Some((
        format!(
            "{}{UNSEALED}{}",
            &text[..start],
            &text[start + UNSEALED.len()..]
        ),
        seal,
    ))
}

/// Why a model file was refused.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("this is not a Sarcoscope model file, or it is cut short")]
    NotAModel(#[source] serde_json::Error),
    #[error(
        "the model file is of format '{0}', which this version cannot read (it reads {SCHEMA})"
    )]
    Version(String),
    #[error("the model file has been changed or damaged since it was made (its seal does not match): it is not used")]
    Seal,
    #[error("the model file is inconsistent: {0}")]
    Inconsistent(&'static str),
    #[error(
        "a model that did not converge, or whose covariance is undefined, cannot be published: {0}"
    )]
    NotPublishable(String),
    #[error("the horizon {horizon} lies beyond the development cohort's longest follow-up ({max}): the model says nothing there")]
    Horizon { horizon: f64, max: f64 },
    #[error("this published score gives risks only at {published}, not at {horizon}")]
    NotPublishedAt { horizon: f64, published: String },
    #[error("this published score ranks patients but gives no probability: its authors published no baseline survival")]
    RanksOnly,
}

impl ModelFile {
    /// Makes the model file of a fit on `design`.
    pub fn from_fit(
        fit: &CoxFit,
        design: &Design,
        describe: Describe,
        c: (f64, f64),
    ) -> Result<ModelFile, ModelError> {
        if let Some(w) = fit.warnings().into_iter().next() {
            return Err(ModelError::NotPublishable(w));
        }
        if fit
            .var
            .iter()
            .flatten()
            .chain(&fit.coef)
            .any(|v| !v.is_finite())
        {
            return Err(ModelError::NotPublishable(
                "a coefficient or its variance is not a number".into(),
            ));
        }
        if let Some(&h) = describe.horizons.iter().find(|&&h| h > max_time(design)) {
            return Err(ModelError::Horizon {
                horizon: h,
                max: max_time(design),
            });
        }
        let predictors = design
            .terms
            .iter()
            .enumerate()
            .map(|(k, term)| Predictor {
                term: term.clone(),
                unit: describe
                    .units
                    .get(&term.spec.column)
                    .cloned()
                    .unwrap_or_default(),
                range: number_range(&design.raw(k)),
            })
            .collect();
        let mean_lp = fit.linear_predictor(&fit.means);
        let horizons = describe
            .horizons
            .iter()
            .map(|&t| {
                let h = fit.baseline[0].at(t);
                HorizonBaseline {
                    time: t,
                    survival_uncentred: (-h).exp(),
                    survival_at_means: (-h * mean_lp.exp()).exp(),
                }
            })
            .collect();
        let mut times = design.time.clone();
        times.sort_by(f64::total_cmp);
        let content = ModelContent {
            schema: SCHEMA.into(),
            name: describe.name,
            description: describe.description,
            published_elsewhere: false,
            time_unit: describe.time_unit,
            outcome: describe.outcome,
            predictors,
            names: fit.names.clone(),
            coefficients: fit.coef.clone(),
            covariance: fit.var.clone(),
            means: fit.means.clone(),
            ties: fit.ties,
            strata: describe.strata.map(|s| (s, design.strata_levels.clone())),
            baseline: fit.baseline.clone(),
            horizons,
            publication: None,
            development: Development {
                n: fit.n,
                events: fit.events,
                max_follow_up: max_time(design),
                median_follow_up: crate::stats::quantile(&times, 0.5),
                harrell_c: c.0,
                harrell_c_se: c.1,
                excluded: design.excluded.len(),
                bootstrap: None,
            },
        };
        Ok(ModelFile {
            sha256: String::new(),
            content,
        })
    }

    /// The file's text, sealed.
    pub fn to_json(&self) -> String {
        let blank = ModelFile {
            content: self.content.clone(),
            sha256: UNSEALED.into(),
        };
        // Serialising plain structs of finite numbers cannot fail.
        let text = serde_json::to_string_pretty(&blank).unwrap_or_default();
        let seal = crate::digest::sha256_hex(text.as_bytes());
        match text.rfind(SEAL_KEY).map(|k| k + SEAL_KEY.len()) {
            Some(k) => format!("{}{seal}{}", &text[..k], &text[k + UNSEALED.len()..]),
            None => text,
        }
    }

    /// Reads a model file, refusing in words one that is damaged, cut short, of
    /// another format or internally inconsistent.
    pub fn from_json(text: &str) -> Result<ModelFile, ModelError> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(ModelError::NotAModel)?;
        if let Some(schema) = value.get("schema").and_then(|s| s.as_str()) {
            if schema != SCHEMA {
                return Err(ModelError::Version(schema.to_string()));
            }
        }
        let file: ModelFile = serde_json::from_value(value).map_err(ModelError::NotAModel)?;
        match unsealed(text) {
            Some((blank, seal)) if crate::digest::sha256_hex(blank.as_bytes()) == seal => {}
            _ => return Err(ModelError::Seal),
        }
        let c = &file.content;
        let p = c.coefficients.len();
        let columns: usize = c.predictors.iter().map(|pr| pr.term.names().len()).sum();
        if c.names.len() != p || c.means.len() != p || columns != p {
            return Err(ModelError::Inconsistent(
                "the predictors and the coefficients do not match",
            ));
        }
        if c.covariance.len() != p || c.covariance.iter().any(|row| row.len() != p) {
            return Err(ModelError::Inconsistent(
                "the covariance matrix is not square in the coefficients",
            ));
        }
        if c.baseline.is_empty() || c.baseline.iter().any(|b| b.times.len() != b.cumhaz.len()) {
            return Err(ModelError::Inconsistent(
                "the baseline hazard is missing or malformed",
            ));
        }
        Ok(file)
    }

    /// The uncentred linear predictor of one row of design columns.
    pub fn linear_predictor(&self, x: &[f64]) -> f64 {
        x.iter()
            .zip(&self.content.coefficients)
            .map(|(x, b)| x * b)
            .sum()
    }

    /// The predicted probability of the event by `t` (1 − S0(t)^exp(lp)), refusing a
    /// horizon beyond development follow-up.
    pub fn risk(&self, x: &[f64], stratum: usize, t: f64) -> Result<f64, ModelError> {
        let max = self.content.development.max_follow_up;
        if t > max {
            return Err(ModelError::Horizon { horizon: t, max });
        }
        if self.ranks_only() {
            return Err(ModelError::RanksOnly);
        }
        if self.horizons_only() && !self.content.horizons.iter().any(|h| h.time == t) {
            let published: Vec<String> = self
                .content
                .horizons
                .iter()
                .map(|h| format!("{} {}", h.time, self.content.time_unit))
                .collect();
            return Err(ModelError::NotPublishedAt {
                horizon: t,
                published: published.join(", "),
            });
        }
        Ok(1.0 - (-self.cumulative_hazard(x, stratum, t)).exp())
    }

    /// A published score without a published baseline survival (MELD-Na,
    /// MELD-Sarcopenia): it orders patients by risk, and that is all it can be judged on.
    pub fn ranks_only(&self) -> bool {
        self.horizons_only() && self.content.horizons.is_empty()
    }

    /// Whether risks exist only at the published horizons (a published score).
    pub fn horizons_only(&self) -> bool {
        self.content
            .publication
            .as_ref()
            .is_some_and(|p| p.horizons_only)
    }

    /// H(t | x) = H0(t)·exp(lp), computed as exp(log H0 + lp) so that a very high
    /// risk stays finite (risks of exactly 1 happen: the known trap).
    pub fn cumulative_hazard(&self, x: &[f64], stratum: usize, t: f64) -> f64 {
        let h0 = self.content.baseline.get(stratum).map_or(0.0, |b| b.at(t));
        if h0 <= 0.0 {
            return 0.0;
        }
        (h0.ln() + self.linear_predictor(x)).exp()
    }

    /// The model's terms, to build the same design columns from another cohort.
    pub fn terms(&self) -> Vec<Term> {
        self.content
            .predictors
            .iter()
            .map(|p| p.term.clone())
            .collect()
    }

    /// Predictors of one patient's raw values that lie outside the development range.
    pub fn outside_range(&self, values: &[Value]) -> Vec<String> {
        self.content
            .predictors
            .iter()
            .zip(values)
            .filter_map(|(p, v)| match (p.range, v) {
                (Some((lo, hi)), Value::Number(x)) if *x < lo || *x > hi => {
                    Some(p.term.spec.to_string())
                }
                _ => None,
            })
            .collect()
    }
}

/// The smallest and largest of numeric values (none for a factor's levels).
fn number_range(values: &[Value]) -> Option<(f64, f64)> {
    let numbers = values.iter().filter_map(|v| match v {
        Value::Number(x) => Some(*x),
        Value::Level(_) => None,
    });
    let lo = numbers.clone().fold(f64::INFINITY, f64::min);
    let hi = numbers.fold(f64::NEG_INFINITY, f64::max);
    (lo <= hi).then_some((lo, hi))
}

fn max_time(design: &Design) -> f64 {
    design.time.iter().copied().fold(0.0, f64::max)
}

/// What the fit itself does not know.
#[derive(Debug, Clone, Default)]
pub struct Describe {
    pub name: String,
    pub description: String,
    pub time_unit: String,
    pub outcome: String,
    pub units: std::collections::HashMap<String, String>,
    pub horizons: Vec<f64>,
    pub strata: Option<String>,
}

impl Describe {
    /// A Cox model fitted with `roles`, described as the R call that fits it.
    pub fn cox(roles: &Roles, name: String, time_unit: String, horizons: Vec<f64>) -> Describe {
        let o = &roles.outcome;
        let mut terms: Vec<String> = roles.covariates.iter().map(|c| c.to_string()).collect();
        if let Some(s) = &roles.strata {
            terms.push(format!("strata({s})"));
        }
        Describe {
            name,
            description: format!(
                "coxph(Surv({}, {} == {}) ~ {})",
                o.time,
                o.event,
                o.event_value,
                terms.join(" + ")
            ),
            time_unit,
            outcome: format!("{} = {}", o.event, o.event_value),
            horizons,
            strata: roles.strata.clone(),
            ..Describe::default()
        }
    }
}
