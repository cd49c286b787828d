//! Inverse probability of censoring weights: G, the Kaplan–Meier estimate of remaining
//! uncensored, with censoring as the event. At a tied time the deaths leave the risk
//! set before the censorings — the convention with which R's `concordance` (Uno's C),
//! `riskRegression::Score` and `timeROC` all reproduce on `pbc` (counting the deaths
//! at risk moves Uno's C by 4e−5 and the 5-year AUC by 3e−7).
//!
//! An IPCW estimate also varies with the estimated G: [`Censoring::influence`] gives
//! each subject's part in that variation, for the standard errors of the time-dependent
//! AUC and the Brier score (Blanche, Dartigues & Jacqmin-Gadda, Stat Med 2013;32:5381,
//! appendix; the influence function of `riskRegression::Score(…, cens.model = "km",
//! se.fit = TRUE)`).

#[derive(Debug, Clone, PartialEq)]
pub struct Censoring {
    times: Vec<f64>,
    /// G(t) just after each distinct time.
    after: Vec<f64>,
    /// n / Y(u) at each distinct time u, Y(u) the number still followed there: what a
    /// censoring at u adds to the influence on log(1/G) after u.
    jump: Vec<f64>,
    /// Σ n·c(v) / Y(v)² over distinct times v up to each one (c(v) censorings at v):
    /// the compensator that every subject still followed accrues.
    compensator: Vec<f64>,
    /// Each subject's distinct time (index into `times`), and whether censored there.
    subjects: Vec<(usize, bool)>,
}

/// Where the weight 1/G of an IPCW term is read: just before a time (a case, 1/G(Tᵢ−))
/// or at it (still event-free at the horizon, 1/G(t)).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Read {
    Before(f64),
    At(f64),
}

impl Censoring {
    pub fn fit(time: &[f64], event: &[bool]) -> Censoring {
        let mut order: Vec<usize> = (0..time.len()).collect();
        order.sort_by(|&a, &b| time[a].total_cmp(&time[b]));
        let n = time.len() as f64;
        let (mut times, mut after, mut jump, mut compensator) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut subjects = vec![(0, false); time.len()];
        let (mut g, mut at_risk, mut cumulative) = (1.0, n, 0.0);
        let mut k = 0;
        while k < order.len() {
            let t = time[order[k]];
            let end = k + order[k..].iter().take_while(|&&i| time[i] == t).count();
            let deaths = order[k..end].iter().filter(|&&i| event[i]).count() as f64;
            let censored = (end - k) as f64 - deaths;
            if at_risk > deaths {
                g *= 1.0 - censored / (at_risk - deaths);
            }
            for &i in &order[k..end] {
                subjects[i] = (times.len(), !event[i]);
            }
            cumulative += n * censored / (at_risk * at_risk);
            times.push(t);
            after.push(g);
            jump.push(n / at_risk);
            compensator.push(cumulative);
            at_risk -= (end - k) as f64;
            k = end;
        }
        Censoring {
            times,
            after,
            jump,
            compensator,
            subjects,
        }
    }

    /// G(t−): uncensored until just before `t`.
    pub fn before(&self, t: f64) -> f64 {
        match self.times.partition_point(|&x| x < t) {
            0 => 1.0,
            k => self.after[k - 1],
        }
    }

    /// G(t): uncensored until `t` included.
    pub fn at(&self, t: f64) -> f64 {
        match self.times.partition_point(|&x| x <= t) {
            0 => 1.0,
            k => self.after[k - 1],
        }
    }

    /// Each subject's influence, through G, on a sum Σᵢ vᵢ of IPCW terms vᵢ = aᵢ/G(sᵢ)
    /// (`terms`: where each reads G, and vᵢ): Σᵢ vᵢ·ψₖ(sᵢ) for subject k, where
    /// ψₖ(s) = ∫₀ˢ dMₖᶜ(u) / y(u) is k's influence function on the censoring's
    /// cumulative hazard up to s (Mₖᶜ its censoring martingale, y(u) the share still
    /// followed at u), hence on log(1/G(s)). Divided by n, it is k's part, through G, in
    /// the influence function of the mean (1/n)·Σᵢ vᵢ.
    ///
    /// At a tied time everyone there counts in Y(u), deaths included: riskRegression's
    /// `getInfluenceFunctionKM` (2022.11.28) does so, and with it the standard errors
    /// below equal `Score`'s to the last digit on `pbc` (G itself lets deaths leave
    /// first, see the module's note; the two differ only where a death and a censoring
    /// share a time). O(n + number of terms · log n).
    pub fn influence(&self, terms: &[(Read, f64)]) -> Vec<f64> {
        let d = self.times.len();
        // mass[m]: the terms whose s covers the first m distinct times.
        let mut mass = vec![0.0; d + 1];
        for &(read, v) in terms {
            let m = match read {
                Read::Before(s) => self.times.partition_point(|&x| x < s),
                Read::At(s) => self.times.partition_point(|&x| x <= s),
            };
            mass[m] += v;
        }
        // The compensator after the first m distinct times.
        let accrued = |m: usize| if m == 0 { 0.0 } else { self.compensator[m - 1] };
        // from[m] = Σ mass over m.. ; before[m] = Σ mass·accrued over ..m.
        let mut from = vec![0.0; d + 2];
        for m in (0..=d).rev() {
            from[m] = from[m + 1] + mass[m];
        }
        let mut before = vec![0.0; d + 2];
        for m in 0..=d {
            before[m + 1] = before[m] + mass[m] * accrued(m);
        }
        self.subjects
            .iter()
            .map(|&(pos, censored)| {
                // ψₖ(s) = [censored by s]·n/Y(Tₖ) − accrued(min(Tₖ, s)).
                let m = pos + 1;
                let own = if censored { self.jump[pos] } else { 0.0 };
                from[m] * (own - accrued(m)) - before[m]
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::{Censoring, Read};

    #[test]
    fn influence_equals_the_martingale_integral_summed_term_by_term() {
        // Ties of a death with a censoring (3), of two censorings (5), and a term read
        // before and at the same time.
        let time = [1.0, 3.0, 3.0, 4.0, 5.0, 5.0, 7.0, 8.0];
        let event = [true, true, false, true, false, false, true, false];
        let n = time.len() as f64;
        let terms = [
            (Read::Before(3.0), 0.7),
            (Read::At(3.0), -0.2),
            (Read::Before(5.0), 1.3),
            (Read::At(6.0), 0.4),
            (Read::Before(8.0), 2.0),
        ];
        let g = Censoring::fit(&time, &event);
        let influence = g.influence(&terms);
        // ψₖ(s) = ∫₀ˢ dMₖᶜ(u) / y(u), y(u) = Y(u)/n, over the distinct times.
        let followed = |u: f64| time.iter().filter(|&&t| t >= u).count() as f64;
        let censored = |u: f64| {
            (0..time.len())
                .filter(|&i| time[i] == u && !event[i])
                .count()
        };
        let mut distinct = time.to_vec();
        distinct.dedup();
        let psi = |k: usize, covered: &dyn Fn(f64) -> bool| {
            let jump = if !event[k] && covered(time[k]) {
                n / followed(time[k])
            } else {
                0.0
            };
            let compensator: f64 = distinct
                .iter()
                .filter(|&&u| u <= time[k] && covered(u))
                .map(|&u| n * censored(u) as f64 / followed(u).powi(2))
                .sum();
            jump - compensator
        };
        for (k, ours) in influence.iter().enumerate() {
            let brute: f64 = terms
                .iter()
                .map(|&(read, v)| match read {
                    Read::Before(s) => v * psi(k, &|u| u < s),
                    Read::At(s) => v * psi(k, &|u| u <= s),
                })
                .sum();
            assert!(
                (ours - brute).abs() < 1e-12,
                "subject {k}: {ours} vs {brute}"
            );
        }
        // Censoring martingales sum to zero over the subjects.
        assert!(influence.iter().sum::<f64>().abs() < 1e-12);
        assert!(influence.iter().any(|x| x.abs() > 0.1));
    }
}
