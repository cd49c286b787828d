//! The log-rank test and its G-rho family (Harrington & Fleming, Biometrika
//! 1982;69:553), stratified or not, as R's `survival::survdiff`: at each event time the
//! deaths seen in each group against those expected from the numbers at risk, weighted
//! by S(t−)^rho (rho = 0: log-rank; rho = 1: Peto–Peto/Wilcoxon).

use nalgebra::{DMatrix, DVector};

use crate::stats::chisq_upper;

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LogRank {
    pub chisq: f64,
    pub df: usize,
    pub p: Option<f64>,
    /// Per group: deaths seen and expected (both weighted when rho ≠ 0).
    pub observed: Vec<f64>,
    pub expected: Vec<f64>,
}

/// Compares the groups (`group[i]` in 0..groups) within each stratum and sums over
/// strata. `None` when there are fewer than two groups with anyone at risk at an event.
pub fn log_rank(
    time: &[f64],
    event: &[bool],
    group: &[usize],
    strata: &[usize],
    rho: f64,
) -> Option<LogRank> {
    let groups = group.iter().max().map_or(0, |g| g + 1);
    let mut observed = vec![0.0; groups];
    let mut expected = vec![0.0; groups];
    let mut var = DMatrix::<f64>::zeros(groups, groups);
    let stratum_count = strata.iter().max().map_or(0, |s| s + 1);
    for stratum in 0..stratum_count {
        let mut rows: Vec<usize> = (0..time.len()).filter(|&i| strata[i] == stratum).collect();
        rows.sort_by(|&a, &b| time[a].total_cmp(&time[b]));
        let mut at_risk = vec![0.0; groups];
        for &i in &rows {
            at_risk[group[i]] += 1.0;
        }
        let mut km: f64 = 1.0;
        let mut k = 0;
        while k < rows.len() {
            let t = time[rows[k]];
            let end = k + rows[k..].iter().take_while(|&&i| time[i] == t).count();
            let mut deaths = vec![0.0; groups];
            for &i in &rows[k..end] {
                if event[i] {
                    deaths[group[i]] += 1.0;
                }
            }
            let d: f64 = deaths.iter().sum();
            let n: f64 = at_risk.iter().sum();
            if d > 0.0 {
                let w = km.powf(rho);
                for g in 0..groups {
                    observed[g] += w * deaths[g];
                    expected[g] += w * d * at_risk[g] / n;
                }
                if n > 1.0 {
                    let spread = w * w * d * (n - d) / (n - 1.0);
                    for g in 0..groups {
                        for h in 0..groups {
                            let same = if g == h { at_risk[g] / n } else { 0.0 };
                            var[(g, h)] += spread * (same - at_risk[g] * at_risk[h] / (n * n));
                        }
                    }
                }
                km *= (n - d) / n;
            }
            for &i in &rows[k..end] {
                at_risk[group[i]] -= 1.0;
            }
            k = end;
        }
    }
    // The variance has rank (groups with anyone expected) − 1: leave one of those out.
    let live: Vec<usize> = (0..groups).filter(|&g| expected[g] > 0.0).collect();
    let df = live.len().checked_sub(1).filter(|&df| df > 0)?;
    let kept = &live[..df];
    let diff = DVector::from_iterator(df, kept.iter().map(|&g| observed[g] - expected[g]));
    let v = DMatrix::from_fn(df, df, |a, b| var[(kept[a], kept[b])]);
    let chisq = v.cholesky().map(|c| diff.dot(&c.solve(&diff)))?;
    Some(LogRank {
        chisq,
        df,
        p: chisq_upper(chisq, df),
        observed,
        expected,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_identical_groups_show_no_difference() {
        let time = [1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0];
        let event = [true, false, true, true, true, false, true, true];
        let group = [0, 0, 0, 0, 1, 1, 1, 1];
        let r = log_rank(&time, &event, &group, &[0; 8], 0.0).unwrap();
        assert!(r.chisq.abs() < 1e-12);
        assert_eq!(r.observed, r.expected);
        assert!(log_rank(&time, &event, &[0; 8], &[0; 8], 0.0).is_none());
    }
}
