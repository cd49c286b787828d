//! Decision curves for a survival outcome (Vickers et al., BMC Med Inform Decis Mak
//! 2008;8:53; as `dcurves::dca(Surv(time, event) ~ risk, time = t)`): the net benefit
//! of treating those whose predicted risk by t is at least the threshold pₜ, beside
//! treating everyone (and no one, 0).

use super::km::KaplanMeier;

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct NetBenefit {
    pub threshold: f64,
    /// The share of patients at or above the threshold.
    pub test_pos_rate: f64,
    pub model: f64,
    pub treat_all: f64,
}

/// NB(pₜ) = r₊·P₊ − pₜ/(1−pₜ)·(1 − r₊)·P₊, with r₊ = 1 − KM(t) among the positives;
/// treat-all: (1 − KM(t)) − pₜ/(1−pₜ)·KM(t).
pub fn net_benefit(
    time: &[f64],
    event: &[bool],
    risk: &[f64],
    t: f64,
    thresholds: &[f64],
) -> Vec<NetBenefit> {
    let all = KaplanMeier::fit(time, event).surv_at(t);
    thresholds
        .iter()
        .map(|&pt| {
            let odds = pt / (1.0 - pt);
            let pos: Vec<usize> = (0..risk.len()).filter(|&i| risk[i] >= pt).collect();
            let share = pos.len() as f64 / risk.len() as f64;
            let model = if pos.is_empty() {
                0.0
            } else {
                let s = KaplanMeier::fit(
                    &pos.iter().map(|&i| time[i]).collect::<Vec<_>>(),
                    &pos.iter().map(|&i| event[i]).collect::<Vec<_>>(),
                )
                .surv_at(t);
                (1.0 - s) * share - odds * s * share
            };
            NetBenefit {
                threshold: pt,
                test_pos_rate: share,
                model,
                treat_all: (1.0 - all) - odds * all,
            }
        })
        .collect()
}
