//! Does a covariate's effect stay the same over follow-up? The proportional-hazards
//! test of `cox.zph` and the scaled Schoenfeld residuals it rests on, drawn as R's
//! `plot(cox.zph(fit))` draws them (Grambsch & Therneau, Biometrika 1994;81:515;
//! Therneau & Grambsch, Modeling Survival Data, 2000, §6.2).

use nalgebra::{DMatrix, DVector};

use super::cox::{pass, CoxFit, CoxInput, Prepared, Test};
use super::design::spline_basis;
use crate::stats::quantile;

/// The time scale on which the proportional-hazards test looks for a trend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TimeTransform {
    /// 1 − KM(t−), R's default: spreads the events evenly.
    #[default]
    Km,
    Rank,
    Identity,
}

/// The test of proportional hazards of each term and of all together (`cox.zph(fit,
/// transform)` of survival ≥ 3.0: Grambsch & Therneau, Biometrika 1994;81:515, as a
/// score test of adding β·g(t) terms, not the old approximation). `terms` lists each
/// term's columns; the last test is the global one.
pub fn zph(
    input: &CoxInput<'_>,
    model: &CoxFit,
    transform: TimeTransform,
    terms: &[Vec<usize>],
) -> Vec<Test> {
    let p = input.p();
    let n = input.rows();
    let g_of_row = time_scale(input, transform);
    let events: Vec<usize> = (0..n).filter(|&i| input.event[i]).collect();
    let mean_g = events.iter().map(|&i| g_of_row[i]).sum::<f64>() / events.len() as f64;
    let prep = Prepared::new(input);
    let at = pass(input, &prep, &model.coef, model.ties, true);
    // Score and information of (β, γ) at (β̂, 0), the γ terms being x·g(t).
    let mut u = DVector::<f64>::zeros(2 * p);
    let mut imat = DMatrix::<f64>::zeros(2 * p, 2 * p);
    for e in at.times.iter().flatten() {
        let g = g_of_row[prep.order[e.rows.start]] - mean_g;
        for a in 0..p {
            u[p + a] += g * e.score[a];
            for b in 0..p {
                let v = e.info[a * p + b];
                imat[(a, b)] += v;
                imat[(a, p + b)] += g * v;
                imat[(p + a, b)] += g * v;
                imat[(p + a, p + b)] += g * g * v;
            }
        }
    }
    let test = |keep: &[usize]| {
        let m = DMatrix::from_fn(keep.len(), keep.len(), |a, b| imat[(keep[a], keep[b])]);
        let v = DVector::from_iterator(keep.len(), keep.iter().map(|&k| u[k]));
        let df = keep.len() - p;
        let chisq = m.lu().solve(&v).map_or(f64::NAN, |s| s.dot(&v));
        Test::new(chisq, df)
    };
    let mut out: Vec<Test> = terms
        .iter()
        .map(|cols| {
            let keep: Vec<usize> = (0..p).chain(cols.iter().map(|c| p + c)).collect();
            test(&keep)
        })
        .collect();
    out.push(test(&(0..2 * p).collect::<Vec<_>>()));
    out
}

/// Ranks with ties given their average rank (R's `rank`).
fn average_ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut k = 0;
    while k < order.len() {
        let end = k + order[k..]
            .iter()
            .take_while(|&&i| values[i] == values[order[k]])
            .count();
        let rank = (k + 1 + end) as f64 / 2.0;
        for &i in &order[k..end] {
            ranks[i] = rank;
        }
        k = end;
    }
    ranks
}

/// g(t) of each row on the chosen time scale.
fn time_scale(input: &CoxInput<'_>, transform: TimeTransform) -> Vec<f64> {
    match transform {
        TimeTransform::Identity => input.time.to_vec(),
        TimeTransform::Rank => average_ranks(input.time),
        TimeTransform::Km => {
            let km = super::km::KaplanMeier::fit(input.time, input.event);
            input
                .time
                .iter()
                .map(|&t| 1.0 - km.surv_before(t))
                .collect()
        }
    }
}

/// The scaled Schoenfeld residuals, one row per death in time order: β̂ + d·V·rᵢ, with
/// rᵢ = xᵢ − x̄(tᵢ) (x̄ Efron-averaged over tied deaths) and d the number of deaths —
/// `cox.zph(fit)$y` against `$x`. Their trend over g(t) is the coefficient's drift.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Schoenfeld {
    pub names: Vec<String>,
    /// Each death's follow-up time, and g(t) there.
    pub time: Vec<f64>,
    pub g: Vec<f64>,
    /// Per death, one value per column.
    pub scaled: Vec<Vec<f64>>,
    /// d·V (`cox.zph(fit)$var`), for the smooth's band.
    pub var: Vec<Vec<f64>>,
}

pub fn schoenfeld(input: &CoxInput<'_>, model: &CoxFit, transform: TimeTransform) -> Schoenfeld {
    let p = input.p();
    let g_of_row = time_scale(input, transform);
    let prep = Prepared::new(input);
    let at = pass(input, &prep, &model.coef, model.ties, true);
    let deaths = model.events as f64;
    let var: Vec<Vec<f64>> = model
        .var
        .iter()
        .map(|row| row.iter().map(|v| v * deaths).collect())
        .collect();
    let mut events: Vec<(f64, f64, Vec<f64>)> = Vec::new(); // time, g, raw residual
    for e in at.times.iter().flatten() {
        let mut mean = vec![0.0; p];
        for (s0, s1) in e.s0.iter().zip(&e.s1) {
            for a in 0..p {
                mean[a] += s1[a] / s0 / e.deaths as f64;
            }
        }
        for &i in prep.order[e.rows.clone()]
            .iter()
            .filter(|&&i| input.event[i])
        {
            let x = prep.row(i);
            let r = (0..p).map(|a| x[a] - mean[a]).collect();
            events.push((input.time[i], g_of_row[i], r));
        }
    }
    // Strata interleave their deaths; R lists them by time.
    events.sort_by(|a, b| a.0.total_cmp(&b.0));
    let scaled = events
        .iter()
        .map(|(_, _, r)| {
            (0..p)
                .map(|a| model.coef[a] + (0..p).map(|b| var[a][b] * r[b]).sum::<f64>())
                .collect()
        })
        .collect();
    Schoenfeld {
        names: input.names.to_vec(),
        time: events.iter().map(|e| e.0).collect(),
        g: events.iter().map(|e| e.1).collect(),
        scaled,
        var,
    }
}

/// A smooth of one column's residuals over g(t) with its ±2 SE band, as
/// `plot.cox.zph` (df = 4, 40 points): least squares on a natural cubic spline with
/// boundary knots at the range and inner knots at the thirds of the points and the
/// grid together — here as Harrell's restricted cubic basis on those four knots, which
/// spans the same functions as `ns(…, df = 4, intercept = TRUE)`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Smooth {
    pub x: Vec<f64>,
    pub fit: Vec<f64>,
    /// 2·√(var·pᵀ(XᵀX)⁻¹p) at each x.
    pub band: Vec<f64>,
}

pub const SMOOTH_POINTS: usize = 40;

/// `None` when the fit is singular (fewer than four distinct times).
pub fn smooth(g: &[f64], y: &[f64], var: f64) -> Option<Smooth> {
    let (lo, hi) = g
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    if hi.partial_cmp(&lo) != Some(std::cmp::Ordering::Greater) {
        return None;
    }
    let grid: Vec<f64> = (0..SMOOTH_POINTS)
        .map(|k| lo + (hi - lo) * k as f64 / (SMOOTH_POINTS - 1) as f64)
        .collect();
    let mut all: Vec<f64> = grid.iter().chain(g).copied().collect();
    all.sort_by(f64::total_cmp);
    let knots = [lo, quantile(&all, 1.0 / 3.0), quantile(&all, 2.0 / 3.0), hi];
    if knots.windows(2).any(|w| w[1] <= w[0]) {
        return None;
    }
    let basis = |v: f64| {
        let mut row = vec![1.0];
        row.extend(spline_basis(v, &knots));
        row
    };
    let x = DMatrix::from_row_iterator(g.len(), 4, g.iter().flat_map(|&v| basis(v)));
    let xtx_inv = (x.transpose() * &x).try_inverse()?;
    let coef = &xtx_inv * x.transpose() * DVector::from_column_slice(y);
    let (fit, band) = grid
        .iter()
        .map(|&v| {
            let p = DVector::from_vec(basis(v));
            let spread = (p.transpose() * &xtx_inv * &p)[(0, 0)];
            (p.dot(&coef), 2.0 * (var * spread).sqrt())
        })
        .unzip();
    Some(Smooth { x: grid, fit, band })
}
