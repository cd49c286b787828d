//! Calibration of predicted risks by a horizon t: the decile table (mean predicted risk
//! against 1 − Kaplan–Meier within each tenth, with log-log intervals), the calibration
//! slope (the Cox coefficient of the linear predictor refitted on these patients; 1 is
//! ideal), and the two observed-to-expected ratios, which differ and are both named:
//! 1 − KM(t) over the mean predicted risk (McLernon et al., Ann Intern Med
//! 2023;176:105), and events by t over the expected count Σ H0(min(Tᵢ, t))·exp(lpᵢ).

use super::cox::{self, CoxError, CoxInput, Ties};
use super::km::{ConfType, KaplanMeier};
use crate::stats::quantile;

/// One tenth of the patients, by predicted risk.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RiskGroup {
    pub group: usize,
    pub n: usize,
    pub events_total: usize,
    pub events_by_t: usize,
    pub mean_predicted_risk: f64,
    /// 1 − KM(t) in the group, its Greenwood SE, and the log-log interval (none where
    /// nobody in the group had the event by t).
    pub observed_risk_km: f64,
    pub km_se: Option<f64>,
    pub observed_lower: Option<f64>,
    pub observed_upper: Option<f64>,
}

/// Groups of equal size by the quantiles of `risk` (`cut(risk, quantile(risk,
/// 0:groups/groups), include.lowest = TRUE)`), each with its observed risk at `t`.
pub fn risk_groups(
    time: &[f64],
    event: &[bool],
    risk: &[f64],
    t: f64,
    groups: usize,
) -> Vec<RiskGroup> {
    let mut sorted = risk.to_vec();
    sorted.sort_by(f64::total_cmp);
    let breaks: Vec<f64> = (0..=groups)
        .map(|k| quantile(&sorted, k as f64 / groups as f64))
        .collect();
    let group_of = |r: f64| {
        // Intervals (b_k, b_k+1], the first closed on the left.
        (1..=groups).find(|&k| r <= breaks[k]).unwrap_or(groups)
    };
    (1..=groups)
        .filter_map(|g| {
            let rows: Vec<usize> = (0..risk.len())
                .filter(|&i| group_of(risk[i]) == g)
                .collect();
            if rows.is_empty() {
                return None;
            }
            let gt: Vec<f64> = rows.iter().map(|&i| time[i]).collect();
            let ge: Vec<bool> = rows.iter().map(|&i| event[i]).collect();
            let point = KaplanMeier::fit(&gt, &ge).at(t, ConfType::LogLog, 0.95);
            Some(RiskGroup {
                group: g,
                n: rows.len(),
                events_total: ge.iter().filter(|e| **e).count(),
                events_by_t: rows.iter().filter(|&&i| event[i] && time[i] <= t).count(),
                mean_predicted_risk: rows.iter().map(|&i| risk[i]).sum::<f64>() / rows.len() as f64,
                observed_risk_km: 1.0 - point.surv,
                km_se: point.std_err,
                observed_lower: point.upper.map(|u| 1.0 - u),
                observed_upper: point.lower.map(|l| 1.0 - l),
            })
        })
        .collect()
}

/// The calibration slope and its standard error.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Slope {
    pub slope: f64,
    pub se: f64,
}

/// `coxph(Surv(time, event) ~ lp)` on these patients (Efron ties).
pub fn slope(time: &[f64], event: &[bool], lp: &[f64]) -> Result<Slope, CoxError> {
    let names = ["lp".to_string()];
    let fit = cox::fit(
        &CoxInput {
            time,
            event,
            x: lp,
            names: &names,
            strata: &vec![0; time.len()],
        },
        Ties::Efron,
    )?;
    Ok(Slope {
        slope: fit.coef[0],
        se: fit.se()[0],
    })
}

/// Observed over expected at `t`, both ways.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct ObservedExpected {
    pub observed_risk_km: f64,
    pub mean_predicted_risk: f64,
    /// (1 − KM(t)) / mean predicted risk.
    pub oe_ratio_km: f64,
    /// The standard error of log(oe_ratio_km), from Greenwood's SE of KM(t) with the
    /// mean predicted risk held fixed (as `metamisc::oecalc` from Po and its SE); `None`
    /// where nobody had the event by t.
    pub oe_log_se: Option<f64>,
    pub observed_events: usize,
    pub expected_events: f64,
    /// Events by t / Σ H0(min(Tᵢ, t))·exp(lpᵢ).
    pub oe_ratio_counts: f64,
}

/// `cumhaz(i, s)` is row i's predicted cumulative hazard by time s.
pub fn observed_expected(
    time: &[f64],
    event: &[bool],
    risk: &[f64],
    t: f64,
    cumhaz: impl Fn(usize, f64) -> f64,
) -> ObservedExpected {
    let km = KaplanMeier::fit(time, event);
    let observed = 1.0 - km.surv_at(t);
    let oe_log_se = km
        .at(t, ConfType::Log, 0.95)
        .std_err
        .filter(|_| observed > 0.0)
        .map(|se| se / observed);
    let mean = risk.iter().sum::<f64>() / risk.len() as f64;
    let events = (0..time.len())
        .filter(|&i| event[i] && time[i] <= t)
        .count();
    let expected: f64 = (0..time.len()).map(|i| cumhaz(i, time[i].min(t))).sum();
    ObservedExpected {
        observed_risk_km: observed,
        mean_predicted_risk: mean,
        oe_ratio_km: observed / mean,
        oe_log_se,
        observed_events: events,
        expected_events: expected,
        oe_ratio_counts: events as f64 / expected,
    }
}

/// Smoothed calibration at t (Austin, Harrell & van Klaveren, Stat Med 2020;39:2714):
/// the observed risk as a smooth function of the predicted one — a Cox model on a
/// restricted cubic spline of cll = log(−log(1 − risk)) with 3 knots, as their appendix
/// does with `rms::cph(Surv(time, event) ~ rcs(cll, 3))` — and the absolute gaps
/// between predicted and smoothed observed risk: their mean (ICI), median (E50), 90th
/// percentile (E90) and maximum.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SmoothCalibration {
    pub ici: f64,
    pub e50: f64,
    pub e90: f64,
    pub emax: f64,
    pub knots: Vec<f64>,
    /// The smoothed observed risk of each row.
    pub observed: Vec<f64>,
    /// The smoother: its two coefficients and H0(t).
    coef: [f64; 2],
    baseline: f64,
}

impl SmoothCalibration {
    /// The smoothed observed risk of a patient predicted `risk` (in (0, 1)).
    pub fn observed_at(&self, risk: f64) -> f64 {
        let cll = (-(1.0 - risk).ln()).ln();
        let x = super::design::spline_basis(cll, &self.knots);
        let lp = self.coef[0] * x[0] + self.coef[1] * x[1];
        1.0 - (-self.baseline * lp.exp()).exp()
    }

    /// The smooth curve over the bulk of the predicted risks: `points` predicted risks
    /// evenly spaced from the 5th to the 95th percentile, rounded outwards to the
    /// hundredth (so that no point is a patient's own prediction), with the smoothed
    /// observed risk at each.
    pub fn curve(&self, risk: &[f64], points: usize) -> Vec<CurvePoint> {
        let mut sorted: Vec<f64> = risk.iter().copied().filter(|r| r.is_finite()).collect();
        if sorted.is_empty() || points < 2 {
            return Vec::new();
        }
        sorted.sort_by(f64::total_cmp);
        let lo = ((quantile(&sorted, 0.05) * 100.0).floor() / 100.0).max(0.01);
        let hi = ((quantile(&sorted, 0.95) * 100.0).ceil() / 100.0).min(0.99);
        if hi <= lo {
            return Vec::new();
        }
        (0..points)
            .map(|k| {
                let predicted = lo + (hi - lo) * k as f64 / (points - 1) as f64;
                CurvePoint {
                    predicted,
                    observed: self.observed_at(predicted),
                }
            })
            .collect()
    }
}

/// One point of a smooth calibration curve.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CurvePoint {
    pub predicted: f64,
    pub observed: f64,
}

/// `cll[i]` is log H(t | xᵢ), i.e. log H0(t) + lpᵢ (finite even where the risk rounds to
/// 1); `risk[i]` = 1 − exp(−exp(cll[i])).
pub fn smoothed(
    time: &[f64],
    event: &[bool],
    cll: &[f64],
    t: f64,
) -> Result<SmoothCalibration, CoxError> {
    let knots = super::design::spline_knots(cll, 3);
    let x: Vec<f64> = cll
        .iter()
        .flat_map(|&c| super::design::spline_basis(c, &knots))
        .collect();
    let names = ["cll".to_string(), "cll'".to_string()];
    let fit = cox::fit(
        &CoxInput {
            time,
            event,
            x: &x,
            names: &names,
            strata: &vec![0; time.len()],
        },
        Ties::Efron,
    )?;
    let observed: Vec<f64> = (0..time.len())
        .map(|i| 1.0 - fit.survival(&x[2 * i..2 * i + 2], 0, t))
        .collect();
    let mut gaps: Vec<f64> = cll
        .iter()
        .zip(&observed)
        .map(|(c, o)| ((1.0 - (-c.exp()).exp()) - o).abs())
        .collect();
    let ici = gaps.iter().sum::<f64>() / gaps.len() as f64;
    gaps.sort_by(f64::total_cmp);
    Ok(SmoothCalibration {
        ici,
        e50: quantile(&gaps, 0.5),
        e90: quantile(&gaps, 0.9),
        emax: gaps[gaps.len() - 1],
        knots,
        observed,
        coef: [fit.coef[0], fit.coef[1]],
        baseline: fit.baseline[0].at(t),
    })
}
