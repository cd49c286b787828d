//! An invented cirrhosis cohort, the same for a seed on every machine (SplitMix64,
//! `rng.rs`): for benchmarks against R at any size, and for a first look at the
//! Statistics view without patient data. Nobody in it exists. The laboratory values
//! are drawn around what cirrhosis cohorts report (bilirubin log-normal around
//! 1.5 mg/dL, INR around 1.3, albumin around 3.3 g/dL), MELD is computed from them
//! (`clinical::meld`), and death follows a Weibull hazard rising with MELD, sarcopenia
//! and age; transplant competes with death and follow-up ends between one and five
//! years — so that the fitted hazard ratios have known signs, not published values.
//! Columns the single-patient export also has carry its names and codes (`age_years`,
//! `sex` M/F, `smi_cm2_m2`, `sarcopenia` yes/no, `meld`, `meld_na`, `meld3`,
//! `meld_sarcopenia`), so that a model fitted on it can predict for the patient on the
//! page and the shipped published scores can be validated on it (MELD-Sarcopenia here
//! from the cohort's own sarcopenia call, Carey's cut-offs).

use std::fmt::Write as _;

use crate::clinical::meld::{meld, meld3, meld_na, meld_sarcopenia, MeldLabs};
use crate::rng::Rng;
use crate::sex::Sex;

/// The file's header: one line per invented patient follows.
pub const HEADER: &str =
    "id,age_years,sex,bili,inr,creat,sodium,albumin,smi_cm2_m2,sarcopenia,meld,meld_na,meld3,meld_sarcopenia,time,status";

/// `n` invented patients as a cohort CSV (status 0 censored, 1 death, 2 transplant;
/// time in days).
pub fn cohort_csv(n: usize, seed: u64) -> String {
    let mut rng = Rng::stream(seed, 0xC0_407);
    let normal = |rng: &mut Rng| {
        // Box–Muller from two uniforms (the generator's own normal stops at 3.5 SD).
        let (u, v) = (rng.unit().max(f64::MIN_POSITIVE), rng.unit());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    };
    let mut out = String::with_capacity(n * 80 + HEADER.len() + 1);
    out.push_str(HEADER);
    out.push('\n');
    for i in 0..n {
        let male = rng.unit() < 0.65;
        let age = (57.0 + 10.0 * normal(&mut rng)).clamp(18.0, 90.0);
        let bili = (0.4 + 0.8 * normal(&mut rng)).exp();
        let inr = 1.0 + (-1.5 + 0.6 * normal(&mut rng)).exp();
        let creat = ((0.9_f64).ln() + 0.35 * normal(&mut rng)).exp();
        let sodium = (137.0 + 4.0 * normal(&mut rng)).clamp(120.0, 150.0);
        let albumin = (3.3 + 0.6 * normal(&mut rng)).clamp(1.5, 5.0);
        let smi = (if male { 48.0 } else { 40.0 } + 8.0 * normal(&mut rng)).max(20.0);
        // Carey et al. 2017 cirrhosis cut-offs: < 50 (men), < 39 (women) cm²/m².
        let sarcopenia = smi < if male { 50.0 } else { 39.0 };
        let labs = MeldLabs {
            bilirubin_mg_dl: bili,
            creatinine_mg_dl: creat,
            inr,
            dialysis: false,
        };
        let scored = meld(labs);
        let score = scored.score;
        let score_na = meld_na(&scored, sodium);
        let score_sarcopenia = meld_sarcopenia(&scored, sarcopenia);
        let sex = if male { Sex::Male } else { Sex::Female };
        let score3 = meld3(labs, sex, sodium, albumin).score;
        let lp = 0.09 * (f64::from(score) - 12.0)
            + 0.6 * f64::from(u8::from(sarcopenia))
            + 0.03 * (age - 57.0);
        // Weibull (shape 0.9) with one-year mortality near 12 % at lp = 0.
        let death =
            2900.0 * (-rng.unit().max(f64::MIN_POSITIVE).ln() * (-lp).exp()).powf(1.0 / 0.9);
        let transplant = -rng.unit().max(f64::MIN_POSITIVE).ln() * 4000.0;
        let end = rng.range(365.0, 1826.0);
        let (time, status) = if death <= transplant.min(end) {
            (death, 1)
        } else if transplant <= end {
            (transplant, 2)
        } else {
            (end, 0)
        };
        let _ = writeln!(
            out,
            "SYN-{:06},{age:.0},{},{bili:.2},{inr:.2},{creat:.2},{sodium:.0},{albumin:.1},{smi:.1},{},{score},{score_na},{score3},{score_sarcopenia:.2},{:.0},{status}",
            i + 1,
            sex.code(),
            if sarcopenia { "yes" } else { "no" },
            time.max(1.0)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::survival::cox::{fit_design, Ties};
    use crate::survival::design::{Design, Outcome, Roles, TermSpec};
    use crate::survival::table::CohortTable;

    #[test]
    fn the_same_seed_gives_the_same_cohort_and_the_built_in_effects_come_back() {
        let text = cohort_csv(2000, 1);
        assert_eq!(text, cohort_csv(2000, 1));
        assert_ne!(text, cohort_csv(2000, 2));
        let table = CohortTable::from_bytes(text.as_bytes()).unwrap();
        assert_eq!(table.rows(), 2000);
        let outcome = Outcome::new("time", "status", "1");
        let roles = Roles::new(
            outcome,
            TermSpec::parse_list("meld, factor(sarcopenia), age_years").unwrap(),
        );
        let design = Design::build(&table, &roles).unwrap();
        let events = design.events();
        assert!((200..1200).contains(&events), "{events} deaths");
        let fit = fit_design(&design, Ties::Efron).unwrap();
        // The generating log-hazard ratios, recovered within a few standard errors
        // (transplant censors death independently of the covariates).
        for (j, truth) in [0.09, 0.6, 0.03].into_iter().enumerate() {
            let se = fit.var[j][j].sqrt();
            assert!(
                (fit.coef[j] - truth).abs() < 4.0 * se,
                "{}: {} ± {se}",
                fit.names[j],
                fit.coef[j]
            );
        }
    }
}
