//! Kaplan–Meier survival with Greenwood's variance, confidence intervals on the log,
//! log-log or plain scale, numbers at risk and the median with its interval — the
//! estimator and conventions of R's `survival::survfit` (Therneau, survival 3.5;
//! Kaplan & Meier, JASA 1958;53:457; Greenwood 1926).

use crate::stats::normal_quantile;

/// A Kaplan–Meier curve: one step per distinct follow-up time.
#[derive(Debug, Clone, PartialEq)]
pub struct KaplanMeier {
    pub times: Vec<f64>,
    pub n_risk: Vec<usize>,
    pub n_event: Vec<usize>,
    pub n_censor: Vec<usize>,
    pub surv: Vec<f64>,
    /// Greenwood's sum Σ d/(n(n−d)): the variance of log S; infinite once S reaches 0.
    pub greenwood: Vec<f64>,
    pub n: usize,
    pub events: usize,
}

/// The scale on which the confidence interval is symmetric (`conf.type` in R).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConfType {
    /// R's default: S·exp(±z·se(log S)), capped at 1.
    #[default]
    Log,
    /// exp(−exp(log(−log S) ± z·se/log S)): never outside (0, 1).
    LogLog,
    /// S ± z·se(S), cut to [0, 1].
    Plain,
}

impl ConfType {
    pub fn parse(text: &str) -> Option<ConfType> {
        match text {
            "log" => Some(ConfType::Log),
            "log-log" | "loglog" => Some(ConfType::LogLog),
            "plain" => Some(ConfType::Plain),
            _ => None,
        }
    }
}

/// The curve read at one time, as `summary(fit, times = t, extend = TRUE)` gives it.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct KmPoint {
    pub time: f64,
    pub n_risk: usize,
    #[serde(deserialize_with = "crate::survival::json::nan_if_null")]
    pub surv: f64,
    /// Greenwood standard error of S (not of log S); `None` once S is 0.
    pub std_err: Option<f64>,
    pub lower: Option<f64>,
    pub upper: Option<f64>,
}

/// A median (or other quantile) survival time and its interval; `None` where the curve
/// (or its confidence limit) never falls that low.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Median {
    pub time: Option<f64>,
    pub lower: Option<f64>,
    pub upper: Option<f64>,
}

impl KaplanMeier {
    /// The curve of the rows whose `event` is true at their `time`; others are censored.
    pub fn fit(time: &[f64], event: &[bool]) -> KaplanMeier {
        let mut order: Vec<usize> = (0..time.len()).collect();
        order.sort_by(|&a, &b| time[a].total_cmp(&time[b]));
        let mut km = KaplanMeier {
            times: Vec::new(),
            n_risk: Vec::new(),
            n_event: Vec::new(),
            n_censor: Vec::new(),
            surv: Vec::new(),
            greenwood: Vec::new(),
            n: time.len(),
            events: event.iter().filter(|e| **e).count(),
        };
        let (mut s, mut g) = (1.0, 0.0);
        let mut at_risk = time.len();
        let mut k = 0;
        while k < order.len() {
            let t = time[order[k]];
            let (mut d, mut c) = (0, 0);
            while k < order.len() && time[order[k]] == t {
                if event[order[k]] {
                    d += 1;
                } else {
                    c += 1;
                }
                k += 1;
            }
            if d > 0 {
                let (n, d) = (at_risk as f64, d as f64);
                s *= 1.0 - d / n;
                g += if n > d {
                    d / (n * (n - d))
                } else {
                    f64::INFINITY
                };
            }
            km.times.push(t);
            km.n_risk.push(at_risk);
            km.n_event.push(d);
            km.n_censor.push(c);
            km.surv.push(s);
            km.greenwood.push(g);
            at_risk -= d + c;
        }
        km
    }

    /// The index of the last step at or before `t`.
    fn step(&self, t: f64) -> Option<usize> {
        self.times.partition_point(|&x| x <= t).checked_sub(1)
    }

    /// S(t): the last step at or before `t` (1 before the first).
    pub fn surv_at(&self, t: f64) -> f64 {
        self.step(t).map_or(1.0, |k| self.surv[k])
    }

    /// S(t−): the last step before `t`.
    pub fn surv_before(&self, t: f64) -> f64 {
        match self.times.partition_point(|&x| x < t) {
            0 => 1.0,
            k => self.surv[k - 1],
        }
    }

    /// S(t), its standard error and interval, and the number at risk at `t` (those
    /// followed to `t` or beyond; 0 past the last follow-up).
    pub fn at(&self, t: f64, conf: ConfType, level: f64) -> KmPoint {
        let n_risk = match self.times.partition_point(|&x| x < t) {
            k if k < self.times.len() => self.n_risk[k],
            _ => 0,
        };
        let (surv, var_log) = match self.step(t) {
            Some(k) => (self.surv[k], self.greenwood[k]),
            None => (1.0, 0.0),
        };
        let (lower, upper) = interval(surv, var_log, conf, level);
        KmPoint {
            time: t,
            n_risk,
            surv,
            std_err: var_log.is_finite().then(|| surv * var_log.sqrt()),
            lower,
            upper,
        }
    }

    /// The median survival time and its interval (R's `quantile.survfit` rule: the
    /// first event time where the curve falls below one half; where it sits exactly at
    /// one half, the middle of that flat stretch).
    pub fn median(&self, conf: ConfType, level: f64) -> Median {
        let steps: Vec<usize> = (0..self.times.len())
            .filter(|&k| self.n_event[k] > 0)
            .collect();
        let times: Vec<f64> = steps.iter().map(|&k| self.times[k]).collect();
        let (mut surv, mut lower, mut upper) = (Vec::new(), Vec::new(), Vec::new());
        for &k in &steps {
            let (lo, hi) = interval(self.surv[k], self.greenwood[k], conf, level);
            surv.push(Some(self.surv[k]));
            lower.push(lo);
            upper.push(hi);
        }
        Median {
            time: crossing(&times, &surv, 0.5),
            lower: crossing(&times, &lower, 0.5),
            upper: crossing(&times, &upper, 0.5),
        }
    }
}

fn crossing(times: &[f64], values: &[Option<f64>], p: f64) -> Option<f64> {
    const TOLERANCE: f64 = 1.49e-8; // sqrt(.Machine$double.eps), as R
    let k = values
        .iter()
        .position(|v| v.is_some_and(|v| v < p + TOLERANCE))?;
    let value = values[k]?;
    if (value - p).abs() < TOLERANCE {
        // Flat at exactly p: the middle of the stretch, to the next step down.
        let next = (k + 1..times.len()).find(|&j| values[j].is_some_and(|v| v < p - TOLERANCE));
        return Some(next.map_or(times[k], |j| (times[k] + times[j]) / 2.0));
    }
    Some(times[k])
}

/// The interval around `surv` whose log has variance `var_log`.
pub fn interval(surv: f64, var_log: f64, conf: ConfType, level: f64) -> (Option<f64>, Option<f64>) {
    if !var_log.is_finite() {
        return (None, None);
    }
    let z = normal_quantile(1.0 - (1.0 - level) / 2.0);
    let se = var_log.sqrt();
    match conf {
        ConfType::Log if surv > 0.0 => (
            Some(surv * (-z * se).exp()),
            Some((surv * (z * se).exp()).min(1.0)),
        ),
        ConfType::LogLog if surv > 0.0 && surv < 1.0 => {
            let ll = (-surv.ln()).ln();
            let shift = z * se / surv.ln();
            // log S < 0, so `shift` < 0: subtracting it raises log(−log S), lowering S.
            (
                Some((-(ll - shift).exp()).exp()),
                Some((-(ll + shift).exp()).exp()),
            )
        }
        ConfType::Plain => (
            Some((surv - z * se * surv).max(0.0)),
            Some((surv + z * se * surv).min(1.0)),
        ),
        // S = 1 (no event yet): no spread on the log scale; log-log is undefined there,
        // as is every scale but the plain one at S = 0 (R gives NA).
        ConfType::Log if surv >= 1.0 => (Some(1.0), Some(1.0)),
        _ => (None, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_at_events_and_counts_those_at_risk() {
        // 1+ means censored at 1.
        let time = [1.0, 1.0, 2.0, 3.0, 3.0, 5.0];
        let event = [true, false, true, true, false, false];
        let km = KaplanMeier::fit(&time, &event);
        assert_eq!(km.times, vec![1.0, 2.0, 3.0, 5.0]);
        assert_eq!(km.n_risk, vec![6, 4, 3, 1]);
        let s = [
            5.0 / 6.0,
            5.0 / 6.0 * 3.0 / 4.0,
            5.0 / 6.0 * 3.0 / 4.0 * 2.0 / 3.0,
        ];
        for (a, b) in km.surv.iter().zip(s) {
            assert!((a - b).abs() < 1e-12);
        }
        let p = km.at(2.5, ConfType::Log, 0.95);
        assert_eq!(p.n_risk, 3);
        let g: f64 = 1.0 / 30.0 + 1.0 / 12.0;
        assert!((p.std_err.unwrap() - s[1] * g.sqrt()).abs() < 1e-12);
        assert_eq!(km.at(9.0, ConfType::Log, 0.95).n_risk, 0);
        assert_eq!(km.at(0.5, ConfType::Log, 0.95).surv, 1.0);
        assert_eq!(km.median(ConfType::Log, 0.95).time, Some(3.0));
    }

    #[test]
    fn a_median_at_exactly_one_half_is_the_middle_of_the_flat_stretch() {
        let km = KaplanMeier::fit(&[1.0, 2.0, 3.0, 4.0], &[true, true, true, true]);
        assert_eq!(km.median(ConfType::Log, 0.95).time, Some(2.5));
    }
}
