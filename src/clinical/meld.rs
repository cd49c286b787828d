//! The MELD family: MELD (UNOS), MELD-Na (UNOS 2016), MELD 3.0 with 90-day survival,
//! and MELD-Sarcopenia. Every floor, cap, dialysis rule and rounding step follows
//! `shared/reference/CLINICAL.md` §1.2–1.4 and §1.8; the tests run its vectors.

use serde::Serialize;

use crate::provenance::Source;
use crate::sex::Sex;

pub const MELD_SOURCE: Source = Source::verified(
    "OPTN/UNOS policy 9.1.D (MELD(i) = 0.957 ln Cr + 0.378 ln bili + 1.120 ln INR + 0.643; \
     values < 1 set to 1; Cr capped at 4, dialysis → 4; round to tenths × 10; max 40); \
     Kamath, Hepatology 2001;33:464",
);
pub const MELD_SURVIVAL_SOURCE: Source = Source::verified(
    "Wiesner, Gastroenterology 2003;124:91: 3-month survival = 0.98465^exp(0.1635 (MELD − 10))",
);
pub const MELD_NA_SOURCE: Source = Source::verified(
    "OPTN/UNOS January 2016: if MELD > 11, MELD + 1.32 (137 − Na) − 0.033 MELD (137 − Na); \
     Na bounded 125–137; integer 6–40",
);
pub const MELD3_SOURCE: Source = Source::verified(
    "Kim WR et al., Gastroenterology 2021;161:1887 (PMC8608337): bili, INR, Cr < 1 → 1; \
     Cr capped at 3, dialysis → 3; Na 125–137; albumin 1.5–3.5 g/dL; nearest integer; \
     reported capped 6–40 as OPTN allocates",
);
pub const MELD3_SURVIVAL_SOURCE: Source = Source::verified(
    "Kim WR et al. 2021 (ameld::pmeld3): 90-day survival = 0.946^exp(0.17698 MELD 3.0 − 3.56)",
);
pub const MELD_SARCOPENIA_SOURCE: Source = Source::verified(
    "Montano-Loza et al., Clin Transl Gastroenterol 2015;6:e102: MELD + 10.35 × sarcopenia, \
     sarcopenia by Martin 2013's sex- and BMI-specific SMI cut-offs as in its derivation",
);

/// The highest score OPTN allocates on.
pub const CAP: i32 = 40;
/// The lowest possible MELD: every log term at zero leaves 6.43.
pub const FLOOR: i32 = 6;

/// The inputs every MELD variant needs, in mg/dL.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MeldLabs {
    pub bilirubin_mg_dl: f64,
    pub creatinine_mg_dl: f64,
    pub inr: f64,
    pub dialysis: bool,
}

/// MELD (UNOS): the score OPTN allocates on, and the unrounded 10 × MELD(i).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Meld {
    pub unrounded: f64,
    pub score: i32,
    /// Wiesner 2003.
    pub survival_3_month: f64,
}

pub fn meld(labs: MeldLabs) -> Meld {
    let creatinine = if labs.dialysis {
        4.0
    } else {
        labs.creatinine_mg_dl.clamp(1.0, 4.0)
    };
    let meld_i = 0.957 * creatinine.ln()
        + 0.378 * labs.bilirubin_mg_dl.max(1.0).ln()
        + 1.120 * labs.inr.max(1.0).ln()
        + 0.643;
    // "Rounded to the tenth decimal place, then multiplied by 10".
    let score = ((meld_i * 10.0).round() as i32).clamp(FLOOR, CAP);
    Meld {
        unrounded: meld_i * 10.0,
        score,
        survival_3_month: meld_survival(score),
    }
}

/// 3-month survival for a MELD score (Wiesner 2003).
pub fn meld_survival(score: i32) -> f64 {
    0.98465f64.powf((0.1635 * (f64::from(score) - 10.0)).exp())
}

/// MELD-Na (UNOS 2016) from the rounded MELD; applies only above 11.
pub fn meld_na(meld: &Meld, sodium_mmol_l: f64) -> i32 {
    let m = f64::from(meld.score);
    if meld.score <= 11 {
        return meld.score;
    }
    let na = sodium_mmol_l.clamp(125.0, 137.0);
    let score = m + 1.32 * (137.0 - na) - 0.033 * m * (137.0 - na);
    (score.round() as i32).clamp(FLOOR, CAP)
}

/// MELD 3.0: the raw value, its nearest integer and the allocation score capped 6–40.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Meld3 {
    pub unrounded: f64,
    /// Nearest integer, uncapped (Kim 2023 studied scores above 40).
    pub uncapped: i32,
    /// Capped 6–40, the value reported and used for survival.
    pub score: i32,
    pub survival_90_day: f64,
}

pub fn meld3(labs: MeldLabs, sex: Sex, sodium_mmol_l: f64, albumin_g_dl: f64) -> Meld3 {
    let bili = labs.bilirubin_mg_dl.max(1.0).ln();
    let inr = labs.inr.max(1.0).ln();
    let creatinine = if labs.dialysis {
        3.0
    } else {
        labs.creatinine_mg_dl.clamp(1.0, 3.0)
    }
    .ln();
    let na = 137.0 - sodium_mmol_l.clamp(125.0, 137.0);
    let alb = 3.5 - albumin_g_dl.clamp(1.5, 3.5);
    let female = if sex == Sex::Female { 1.33 } else { 0.0 };
    let value = female + 4.56 * bili + 0.82 * na - 0.24 * na * bili
        + 9.09 * inr
        + 11.14 * creatinine
        + 1.85 * alb
        - 1.83 * alb * creatinine
        + 6.0;
    let uncapped = value.round() as i32;
    let score = uncapped.clamp(FLOOR, CAP);
    Meld3 {
        unrounded: value,
        uncapped,
        score,
        survival_90_day: meld3_survival(score),
    }
}

/// 90-day survival for a MELD 3.0 score. The form without `exp()` printed in one R
/// package's documentation is wrong (CLINICAL.md §1.4).
pub fn meld3_survival(score: i32) -> f64 {
    0.946f64.powf((0.17698 * f64::from(score) - 3.56).exp())
}

/// MELD-Sarcopenia: MELD plus 10.35 points when the patient is sarcopenic.
/// How MELD-Sarcopenia's call reads beside it.
pub fn martin_call_words(sarcopenic: bool) -> &'static str {
    if sarcopenic {
        "sarcopenic by Martin 2013"
    } else {
        "not sarcopenic by Martin 2013"
    }
}

pub fn meld_sarcopenia(meld: &Meld, sarcopenic: bool) -> f64 {
    f64::from(meld.score) + if sarcopenic { 10.35 } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labs(bili: f64, creat: f64, inr: f64) -> MeldLabs {
        MeldLabs {
            bilirubin_mg_dl: bili,
            creatinine_mg_dl: creat,
            inr,
            dialysis: false,
        }
    }

    #[test]
    fn meld_matches_the_ameld_vector_and_its_survival() {
        let m = meld(labs(4.2, 1.9, 1.2));
        assert!((m.unrounded - 20.039).abs() < 0.001, "{}", m.unrounded);
        assert_eq!(m.score, 20);
        assert!((meld_survival(20) - 0.9237).abs() < 0.00005);
    }

    #[test]
    fn meld_floors_caps_and_dialysis() {
        assert_eq!(meld(labs(0.3, 0.5, 0.9)).score, 6);
        assert!((meld(labs(0.3, 0.5, 0.9)).unrounded - 6.43).abs() < 1e-9);
        // Cr above 4 counts as 4; dialysis counts as 4 whatever the value.
        assert_eq!(
            meld(labs(4.2, 6.0, 1.2)).score,
            meld(labs(4.2, 4.0, 1.2)).score
        );
        let dialysed = meld(MeldLabs {
            dialysis: true,
            ..labs(4.2, 1.0, 1.2)
        });
        assert_eq!(dialysed.score, meld(labs(4.2, 4.0, 1.2)).score);
        assert_eq!(meld(labs(60.0, 4.0, 9.0)).score, 40);
    }

    #[test]
    fn meld_na_matches_unos_and_applies_only_above_11() {
        let m = meld(labs(4.2, 1.9, 1.2));
        assert_eq!(meld_na(&m, 125.0), 28);
        // Na below 125 is bounded to 125.
        assert_eq!(meld_na(&m, 110.0), 28);
        assert_eq!(meld_na(&m, 140.0), 20);
        let low = meld(labs(1.0, 1.0, 1.1));
        assert!(low.score <= 11);
        assert_eq!(meld_na(&low, 125.0), low.score);
    }

    #[test]
    fn meld3_reproduces_kim_2021_table_4() {
        // sex, bili, Na, INR, Cr, alb, MELD 3.0
        let table = [
            (Sex::Male, 2.5, 131.0, 1.0, 1.2, 3.8, 16, Some(15.81)),
            (Sex::Female, 2.5, 131.0, 1.0, 1.2, 3.8, 17, Some(17.14)),
            (Sex::Male, 6.0, 131.0, 1.5, 1.5, 3.5, 25, None),
            (Sex::Male, 6.0, 131.0, 1.5, 1.5, 2.2, 26, None),
            (Sex::Female, 6.0, 131.0, 1.5, 1.5, 2.2, 27, None),
            (Sex::Male, 12.0, 128.0, 2.2, 1.8, 2.0, 34, None),
            (Sex::Male, 12.0, 128.0, 2.2, 2.8, 2.0, 38, None),
            (Sex::Female, 12.0, 128.0, 2.2, 2.8, 2.0, 39, None),
        ];
        for (sex, bili, na, inr, cr, alb, want, raw) in table {
            let m = meld3(labs(bili, cr, inr), sex, na, alb);
            assert_eq!(m.score, want, "{sex} {bili} {na} {inr} {cr} {alb}: {m:?}");
            if let Some(raw) = raw {
                assert!((m.unrounded - raw).abs() < 0.005, "{m:?}");
            }
        }
    }

    #[test]
    fn meld3_caps_creatinine_at_3_and_treats_dialysis_as_3() {
        // An older ameld version did not cap Cr at 3: a known bug class.
        let at3 = meld3(labs(12.0, 3.0, 2.2), Sex::Male, 128.0, 2.0);
        let at5 = meld3(labs(12.0, 5.0, 2.2), Sex::Male, 128.0, 2.0);
        assert_eq!(at3, at5);
        let dialysed = meld3(
            MeldLabs {
                dialysis: true,
                ..labs(12.0, 1.1, 2.2)
            },
            Sex::Male,
            128.0,
            2.0,
        );
        assert_eq!(dialysed, at3);
        // Uncapped above 40 is kept beside the capped score.
        let severe = meld3(labs(40.0, 3.0, 6.0), Sex::Female, 120.0, 1.0);
        assert!(severe.uncapped > 40, "{severe:?}");
        assert_eq!(severe.score, 40);
    }

    #[test]
    fn meld3_survival_matches_supplementary_table_5_and_computed_values() {
        for (score, want, tol) in [
            (14, 0.981, 0.01),
            (15, 0.977, 0.01),
            (26, 0.855, 0.01),
            (28, 0.791, 0.01),
            (6, 0.995, 0.0005),
            (10, 0.991, 0.0005),
            (20, 0.947, 0.0005),
            (26, 0.854, 0.0005),
            (28, 0.799, 0.0005),
            (30, 0.727, 0.0005),
            (40, 0.154, 0.0005),
        ] {
            let s = meld3_survival(score);
            assert!((s - want).abs() <= tol, "{score}: {s}");
        }
    }

    #[test]
    fn meld_sarcopenia_adds_10_35() {
        let m = meld(labs(4.2, 1.9, 1.2));
        assert!((meld_sarcopenia(&m, true) - 30.35).abs() < 1e-9);
        assert!((meld_sarcopenia(&m, false) - 20.0).abs() < 1e-9);
    }
}
