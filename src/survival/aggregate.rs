//! The external validation report a centre sends back: aggregate figures only. It is
//! built from the validation's summaries, never from rows — no identifier, date or
//! covariate vector of any patient — and every count of fewer than five patients (but
//! more than none) is suppressed and says so, as disclosure-control rules for health
//! statistics ask (e.g. NHS Digital, *Disclosure control guidance*, small numbers:
//! 1–4 suppressed). Reading reports back is how the development centre pools centres.

use serde::{Deserialize, Serialize};

use super::analysis::{AnalysisError, Applied, ValidateOutput};
use super::calibration::risk_groups;
use super::design::{Basis, Value};
use super::km::{ConfType, KaplanMeier};
use crate::stats::quantile;

/// The format this version writes and reads.
pub const SCHEMA: &str = "sarcoscope-validation/1";

/// Counts below this (and above zero) are not shown.
pub const SMALL_CELL: usize = 5;

/// A count of patients, or the note that it was suppressed (1 to 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Count {
    Shown(usize),
    FewerThanFive,
}

impl Count {
    pub fn of(n: usize) -> Count {
        if (1..SMALL_CELL).contains(&n) {
            Count::FewerThanFive
        } else {
            Count::Shown(n)
        }
    }

    /// Whether figures about this many patients may be shown.
    pub fn shown(self) -> bool {
        matches!(self, Count::Shown(_))
    }
}

impl std::fmt::Display for Count {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Count::Shown(n) => write!(f, "{n}"),
            Count::FewerThanFive => write!(f, "<{SMALL_CELL} (suppressed)"),
        }
    }
}

/// One tenth of the patients by predicted risk at a horizon.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decile {
    pub time: f64,
    pub group: usize,
    pub n: Count,
    /// Mean predicted risk, and 1 − KM(t) with its log-log interval; `None` when the
    /// group is suppressed (or nobody in it was followed to t).
    pub predicted: Option<f64>,
    pub observed: Option<f64>,
    pub observed_lower: Option<f64>,
    pub observed_upper: Option<f64>,
}

/// Survival in a third of the patients by predicted risk at the last horizon.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RiskGroupCurve {
    /// "lowest third", "middle third", "highest third".
    pub group: String,
    pub n: Count,
    pub events: Count,
    /// KM survival at each horizon (`None` when suppressed).
    pub survival: Vec<Option<f64>>,
}

/// A predictor's distribution in this cohort beside its development range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseMix {
    pub predictor: String,
    pub unit: String,
    pub development_range: Option<(f64, f64)>,
    /// Quartiles and mean of a number (never its minimum or maximum: those are a
    /// patient's values).
    pub mean: Option<f64>,
    pub quartiles: Option<[f64; 3]>,
    /// Patients outside the development range: the model extrapolates for them.
    pub outside_range: Option<Count>,
    /// Each level's count, for a factor.
    pub levels: Vec<(String, Count)>,
}

/// What a validating centre returns to the development centre.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ValidationReport {
    pub schema: String,
    pub model: String,
    /// The model file's seal: which file, exactly, was validated.
    pub model_sha256: String,
    pub published_elsewhere: bool,
    pub centre: String,
    pub time_unit: String,
    pub horizons: Vec<f64>,
    /// The validation's figures; `excluded` is empty (rows), see `excluded_by_reason`.
    pub figures: ValidateOutput,
    /// Rows left out, counted by reason.
    pub excluded_by_reason: Vec<(String, Count)>,
    pub deciles: Vec<Decile>,
    pub risk_groups: Vec<RiskGroupCurve>,
    pub case_mix: Vec<CaseMix>,
    pub median_follow_up: f64,
}

/// The words of an exclusion's reason without its cell (which may be a patient's value).
fn reason_kind(reason: &super::design::Reason) -> &'static str {
    use super::design::Reason;
    match reason {
        Reason::Missing => "a value is missing",
        Reason::NotANumber { .. } => "text in a number column",
        Reason::NegativeTime { .. } => "a negative follow-up time",
        Reason::UndeclaredCode { .. } => "an undeclared event code",
        Reason::NotPositive { .. } => "log of a value that is not above zero",
        Reason::UnknownLevel { .. } => "a level the model does not know",
    }
}

impl ValidationReport {
    /// Validates the applied model at `horizons` and keeps only aggregates.
    pub fn build(
        applied: &Applied<'_>,
        horizons: &[f64],
        centre: String,
    ) -> Result<ValidationReport, AnalysisError> {
        let mut figures = applied.validate(horizons)?;
        let design = &applied.design;
        let mut excluded_by_reason: Vec<(String, usize)> = Vec::new();
        for e in &figures.excluded {
            let kind = format!("{}: {}", e.column, reason_kind(&e.reason));
            match excluded_by_reason.iter_mut().find(|(k, _)| *k == kind) {
                Some((_, n)) => *n += 1,
                None => excluded_by_reason.push((kind, 1)),
            }
        }
        figures.excluded.clear();
        let (time, event) = (&design.time, design.event_flags());
        let mut deciles = Vec::new();
        // A score that only ranks has no predicted risk to put beside the observed one.
        let ranks_only = applied.model.ranks_only();
        for &t in horizons.iter().filter(|_| !ranks_only) {
            let risk = applied.risks(t)?;
            for g in risk_groups(time, &event, &risk, t, 10) {
                let n = Count::of(g.n);
                let keep = |v: Option<f64>| v.filter(|_| n.shown());
                deciles.push(Decile {
                    time: t,
                    group: g.group,
                    n,
                    predicted: keep(Some(g.mean_predicted_risk)),
                    observed: keep(Some(g.observed_risk_km)),
                    observed_lower: keep(g.observed_lower),
                    observed_upper: keep(g.observed_upper),
                });
            }
        }
        let risk_groups = match horizons.last() {
            Some(_) if ranks_only => thirds(applied, &applied.linear_predictors(), horizons),
            Some(&last) => thirds(applied, &applied.risks(last)?, horizons),
            None => Vec::new(),
        };
        let model = &applied.model.content;
        let case_mix = model
            .predictors
            .iter()
            .enumerate()
            .map(|(k, p)| case_mix(p, &design.raw(k)))
            .collect();
        let mut sorted = time.clone();
        sorted.sort_by(f64::total_cmp);
        Ok(ValidationReport {
            schema: SCHEMA.into(),
            model: model.name.clone(),
            model_sha256: applied.model.sha256.clone(),
            published_elsewhere: model.published_elsewhere,
            centre,
            time_unit: model.time_unit.clone(),
            horizons: horizons.to_vec(),
            figures,
            excluded_by_reason: excluded_by_reason
                .into_iter()
                .map(|(k, n)| (k, Count::of(n)))
                .collect(),
            deciles,
            risk_groups,
            case_mix,
            median_follow_up: quantile(&sorted, 0.5),
        })
    }

    pub fn to_json(&self) -> String {
        // Plain data: serialising cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The headline figures as `measure,time,value` lines, for a spreadsheet.
    pub fn to_csv(&self) -> String {
        let f = &self.figures;
        let mut lines = vec!["measure,time,value".to_string()];
        let mut push = |measure: &str, time: Option<f64>, value: Option<f64>| {
            let cell = |v: Option<f64>| v.map_or_else(String::new, |v| v.to_string());
            lines.push(format!("{measure},{},{}", cell(time), cell(value)));
        };
        push("n", None, Some(f.n as f64));
        push("events", None, Some(f.events as f64));
        push("harrell_c", None, Some(f.harrell_c));
        push("harrell_c_se", None, Some(f.harrell_c_se));
        push("uno_c", f.uno_tau, f.uno_c);
        push("uno_c_se", f.uno_tau, f.uno_c_se);
        for a in &f.auc {
            push("auc", Some(a.time), a.auc);
        }
        for b in &f.brier {
            push("brier", Some(b.time), Some(b.brier));
            push("brier_null", Some(b.time), Some(b.brier_null));
            push("ipa", Some(b.time), Some(b.ipa));
        }
        if let Some(i) = &f.ibs {
            push("ibs", Some(i.tau), Some(i.ibs));
            push("ibs_null", Some(i.tau), Some(i.ibs_null));
            push("ibs_scaled", Some(i.tau), Some(i.scaled));
        }
        for c in &f.calibration {
            push("calibration_slope", Some(c.time), Some(c.slope));
            push("oe_km", Some(c.time), Some(c.oe));
            push("oe_counts", Some(c.time), c.oe_counts);
            push("ici", Some(c.time), c.ici);
            push("e50", Some(c.time), c.e50);
            push("e90", Some(c.time), c.e90);
        }
        lines.join("\n") + "\n"
    }
}

/// KM survival at each horizon in each third of predicted risk (of the score, for one
/// that only ranks).
fn thirds(applied: &Applied<'_>, risk: &[f64], horizons: &[f64]) -> Vec<RiskGroupCurve> {
    let design = &applied.design;
    let event = design.event_flags();
    let mut sorted = risk.to_vec();
    sorted.sort_by(f64::total_cmp);
    let cuts = [quantile(&sorted, 1.0 / 3.0), quantile(&sorted, 2.0 / 3.0)];
    let third = |r: f64| cuts.iter().filter(|&&c| r > c).count();
    ["lowest third", "middle third", "highest third"]
        .into_iter()
        .enumerate()
        .map(|(g, name)| {
            let rows: Vec<usize> = (0..risk.len()).filter(|&i| third(risk[i]) == g).collect();
            let t: Vec<f64> = rows.iter().map(|&i| design.time[i]).collect();
            let e: Vec<bool> = rows.iter().map(|&i| event[i]).collect();
            let n = Count::of(rows.len());
            let curve = KaplanMeier::fit(&t, &e);
            RiskGroupCurve {
                group: name.into(),
                n,
                events: Count::of(e.iter().filter(|e| **e).count()),
                survival: horizons
                    .iter()
                    .map(|&h| n.shown().then(|| curve.at(h, ConfType::Log, 0.95).surv))
                    .collect(),
            }
        })
        .collect()
}

fn case_mix(predictor: &super::model::Predictor, values: &[Value]) -> CaseMix {
    let mut numbers: Vec<f64> = values
        .iter()
        .filter_map(|v| match v {
            Value::Number(x) => Some(*x),
            Value::Level(_) => None,
        })
        .collect();
    numbers.sort_by(f64::total_cmp);
    let n = Count::of(numbers.len());
    let summary = !numbers.is_empty() && n.shown();
    let levels = match &predictor.term.basis {
        Basis::Factor { reference, levels } => std::iter::once(reference)
            .chain(levels)
            .map(|l| {
                let count = values
                    .iter()
                    .filter(|v| matches!(v, Value::Level(x) if x == l))
                    .count();
                (l.clone(), Count::of(count))
            })
            .collect(),
        _ => Vec::new(),
    };
    CaseMix {
        predictor: predictor.term.spec.to_string(),
        unit: predictor.unit.clone(),
        development_range: predictor.range,
        mean: summary.then(|| numbers.iter().sum::<f64>() / numbers.len() as f64),
        quartiles: summary.then(|| [0.25, 0.5, 0.75].map(|p| quantile(&numbers, p))),
        outside_range: predictor
            .range
            .filter(|_| summary)
            .map(|(lo, hi)| Count::of(numbers.iter().filter(|&&x| x < lo || x > hi).count())),
        levels,
    }
}
