//! Every prognosis score the inputs allow, with what is missing for the rest. A score is
//! never computed from a guessed value: a blank input leaves it out, and says why.

use serde::Serialize;

use super::albi::{albi, Albi};
use super::child_pugh::{child_pugh, ChildPugh, ChildPughInputs};
use super::fibrosis::{apri, fib4};
use super::labs::{Ascites, Encephalopathy, Lab, Labs, Units};
use super::meld::{meld, meld3, meld_na, meld_sarcopenia, Meld, Meld3, MeldLabs};
use crate::sex::Sex;

/// What the clinician entered (or the DICOM header supplied) besides the laboratory.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct ClinicalInputs {
    pub labs: Labs,
    pub sex: Option<Sex>,
    pub age_years: Option<f64>,
    pub dialysis: Option<bool>,
    pub ascites: Option<Ascites>,
    pub encephalopathy: Option<Encephalopathy>,
}

/// A score that could not be computed and the inputs it still needs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Missing {
    pub score: &'static str,
    pub needs: Vec<&'static str>,
}

/// The scores; `None` where an input is missing, listed in `missing`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ScoreSheet {
    pub meld: Option<Meld>,
    pub meld_na: Option<i32>,
    pub meld3: Option<Meld3>,
    pub child_pugh: Option<ChildPugh>,
    pub albi: Option<Albi>,
    pub apri: Option<f64>,
    pub fib4: Option<f64>,
    pub meld_sarcopenia: Option<f64>,
    /// The sarcopenia call MELD-Sarcopenia used (Martin 2013), shown beside it because
    /// it can differ from the call under the cut-off set the reader chose.
    pub sarcopenic_for_meld: Option<bool>,
    pub missing: Vec<Missing>,
}

/// The inputs one score needs: each `get` records what is absent.
struct Needs {
    score: &'static str,
    absent: Vec<&'static str>,
}

impl Needs {
    fn new(score: &'static str) -> Needs {
        Needs {
            score,
            absent: Vec::new(),
        }
    }

    fn get<T>(&mut self, name: &'static str, value: Option<T>) -> Option<T> {
        if value.is_none() {
            self.absent.push(name);
        }
        value
    }

    /// The score when nothing was absent; otherwise notes what was.
    fn then<T>(self, missing: &mut Vec<Missing>, score: impl FnOnce() -> Option<T>) -> Option<T> {
        if self.absent.is_empty() {
            score()
        } else {
            missing.push(Missing {
                score: self.score,
                needs: self.absent,
            });
            None
        }
    }
}

impl ScoreSheet {
    /// `sarcopenic` is the CT call under Martin 2013's cut-offs, as MELD-Sarcopenia was
    /// derived (Montano-Loza 2015); MELD-Sarcopenia needs it.
    pub fn compute(x: &ClinicalInputs, sarcopenic: Option<bool>) -> ScoreSheet {
        let l = &x.labs;
        let mut missing = Vec::new();

        let meld_labs = |n: &mut Needs| {
            let bili = n.get("bilirubin", l.bilirubin_mg_dl);
            let creat = n.get("creatinine", l.creatinine_mg_dl);
            let inr = n.get("INR", l.inr);
            let dialysis = n.get("dialysis", x.dialysis);
            Some(MeldLabs {
                bilirubin_mg_dl: bili?,
                creatinine_mg_dl: creat?,
                inr: inr?,
                dialysis: dialysis?,
            })
        };

        let mut n = Needs::new("MELD");
        let labs = meld_labs(&mut n);
        let meld_score = n.then(&mut missing, || labs.map(meld));

        let mut n = Needs::new("MELD-Na");
        let labs = meld_labs(&mut n);
        let na = n.get("sodium", l.sodium_mmol_l);
        let meld_na_score = n.then(&mut missing, || Some(meld_na(&meld(labs?), na?)));

        let mut n = Needs::new("MELD 3.0");
        let labs = meld_labs(&mut n);
        let na = n.get("sodium", l.sodium_mmol_l);
        let alb = n.get("albumin", l.albumin_g_dl);
        let sex = n.get("sex", x.sex);
        let meld3_score = n.then(&mut missing, || Some(meld3(labs?, sex?, na?, alb?)));

        let mut n = Needs::new("Child–Pugh");
        let bili = n.get("bilirubin", l.bilirubin_mg_dl);
        let alb = n.get("albumin", l.albumin_g_dl);
        let inr = n.get("INR", l.inr);
        let ascites = n.get("ascites", x.ascites);
        let he = n.get("encephalopathy", x.encephalopathy);
        let cp = n.then(&mut missing, || {
            Some(child_pugh(&ChildPughInputs {
                bilirubin_mg_dl: bili?,
                albumin_g_dl: alb?,
                inr: inr?,
                ascites: ascites?,
                encephalopathy: he?,
            }))
        });

        let mut n = Needs::new("ALBI");
        let bili = n.get("bilirubin", l.shown(Lab::Bilirubin, Units::Si));
        let alb = n.get("albumin", l.shown(Lab::Albumin, Units::Si));
        let albi_score = n.then(&mut missing, || Some(albi(bili?, alb?)));

        let mut n = Needs::new("APRI");
        let ast = n.get("AST", l.ast_u_l);
        let uln = n.get("AST upper limit of normal", l.ast_upper_limit_u_l);
        let plt = n.get("platelets", l.platelets_10e9_l);
        let apri_score = n.then(&mut missing, || Some(apri(ast?, uln?, plt?)));

        let mut n = Needs::new("FIB-4");
        let age = n.get("age", x.age_years);
        let ast = n.get("AST", l.ast_u_l);
        let plt = n.get("platelets", l.platelets_10e9_l);
        let alt = n.get("ALT", l.alt_u_l);
        let fib4_score = n.then(&mut missing, || Some(fib4(age?, ast?, plt?, alt?)));

        let mut n = Needs::new("MELD-Sarcopenia");
        let m = n.get("MELD", meld_score);
        let call = n.get(
            "a sarcopenia call by Martin 2013 (height, weight, sex and a mask)",
            sarcopenic,
        );
        let meld_sarc = n.then(&mut missing, || Some(meld_sarcopenia(&m?, call?)));

        ScoreSheet {
            meld: meld_score,
            meld_na: meld_na_score,
            meld3: meld3_score,
            child_pugh: cp,
            albi: albi_score,
            apri: apri_score,
            fib4: fib4_score,
            meld_sarcopenia: meld_sarc,
            sarcopenic_for_meld: sarcopenic,
            missing,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entered() -> ClinicalInputs {
        let mut labs = Labs::default();
        for (lab, v) in [
            (Lab::Bilirubin, 4.2),
            (Lab::Creatinine, 1.9),
            (Lab::Inr, 1.2),
            (Lab::Sodium, 125.0),
            (Lab::Albumin, 3.0),
            (Lab::Platelets, 80.0),
            (Lab::Ast, 90.0),
            (Lab::Alt, 36.0),
            (Lab::AstUpperLimit, 40.0),
        ] {
            labs.set(lab, v, Units::Conventional).unwrap();
        }
        ClinicalInputs {
            labs,
            sex: Some(Sex::Male),
            age_years: Some(60.0),
            dialysis: Some(false),
            ascites: Some(Ascites::Mild),
            encephalopathy: Some(Encephalopathy::None),
        }
    }

    #[test]
    fn a_full_panel_scores_everything() {
        let s = ScoreSheet::compute(&entered(), Some(true));
        assert!(s.missing.is_empty(), "{:?}", s.missing);
        assert_eq!(s.meld.unwrap().score, 20);
        assert_eq!(s.meld_na, Some(28));
        // bili 4.2 → 3, alb 3.0 → 2, INR 1.2 → 1, mild ascites 2, no HE 1.
        assert_eq!(s.child_pugh.unwrap().points, 9);
        assert!((s.apri.unwrap() - 2.8125).abs() < 1e-9);
        assert!((s.fib4.unwrap() - 60.0 * 90.0 / (80.0 * 6.0)).abs() < 1e-9);
        assert!((s.meld_sarcopenia.unwrap() - 30.35).abs() < 1e-9);
        // ALBI takes SI: 4.2 mg/dL = 71.82 µmol/L, 3.0 g/dL = 30 g/L.
        let expect = 0.66 * 71.82f64.log10() - 0.085 * 30.0;
        assert!((s.albi.unwrap().score - expect).abs() < 1e-9);
    }

    #[test]
    fn blanks_leave_scores_out_and_say_what_is_needed() {
        let mut x = entered();
        x.labs.sodium_mmol_l = None;
        x.sex = None;
        x.dialysis = None;
        let s = ScoreSheet::compute(&x, None);
        assert!(s.meld.is_none() && s.meld_na.is_none() && s.meld3.is_none());
        assert!(s.child_pugh.is_some() && s.albi.is_some());
        let needs = |score| {
            s.missing
                .iter()
                .find(|m| m.score == score)
                .map(|m| m.needs.clone())
                .unwrap_or_default()
        };
        assert_eq!(needs("MELD"), vec!["dialysis"]);
        assert_eq!(needs("MELD 3.0"), vec!["dialysis", "sodium", "sex"]);
        assert!(needs("MELD-Sarcopenia").contains(&"MELD"));
    }
}
