//! Child–Pugh score and class (Pugh 1973), bands as in CLINICAL.md §1.5.

use serde::Serialize;

use super::labs::{Ascites, Encephalopathy};
use crate::provenance::Source;

pub const SOURCE: Source = Source::verified(
    "Pugh et al., Br J Surg 1973;60:646 (bands as PMC3017746, Harrison's, CCJM): \
     bilirubin < 2 / 2–3 / > 3 mg/dL; albumin > 3.5 / 2.8–3.5 / < 2.8 g/dL; \
     INR < 1.7 / 1.7–2.3 / > 2.3; class A 5–6, B 7–9, C 10–15",
);

/// Where albumin scores 3 points: below 2.8 g/dL (28 g/L), as in Pugh's table and
/// CCJM. Harrison's and PMC3017746 print 3.0 g/dL; the sources disagree
/// (CLINICAL.md §7.9), so the choice is this one named constant.
pub const ALBUMIN_LOWER_BAND_G_DL: f64 = 2.8;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ChildPughClass {
    A,
    B,
    C,
}

impl ChildPughClass {
    pub fn letter(self) -> &'static str {
        match self {
            ChildPughClass::A => "A",
            ChildPughClass::B => "B",
            ChildPughClass::C => "C",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ChildPugh {
    pub points: u8,
    pub class: ChildPughClass,
}

pub struct ChildPughInputs {
    pub bilirubin_mg_dl: f64,
    pub albumin_g_dl: f64,
    pub inr: f64,
    pub ascites: Ascites,
    pub encephalopathy: Encephalopathy,
}

pub fn child_pugh(x: &ChildPughInputs) -> ChildPugh {
    let bili = match x.bilirubin_mg_dl {
        b if b < 2.0 => 1,
        b if b <= 3.0 => 2,
        _ => 3,
    };
    let alb = match x.albumin_g_dl {
        a if a > 3.5 => 1,
        a if a >= ALBUMIN_LOWER_BAND_G_DL => 2,
        _ => 3,
    };
    let inr = match x.inr {
        i if i < 1.7 => 1,
        i if i <= 2.3 => 2,
        _ => 3,
    };
    let ascites = match x.ascites {
        Ascites::None => 1,
        Ascites::Mild => 2,
        Ascites::ModerateSevere => 3,
    };
    let he = match x.encephalopathy {
        Encephalopathy::None => 1,
        Encephalopathy::Grade1To2 => 2,
        Encephalopathy::Grade3To4 => 3,
    };
    let points = bili + alb + inr + ascites + he;
    let class = match points {
        0..=6 => ChildPughClass::A,
        7..=9 => ChildPughClass::B,
        _ => ChildPughClass::C,
    };
    ChildPugh { points, class }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn score(bili: f64, alb: f64, inr: f64, a: Ascites, e: Encephalopathy) -> ChildPugh {
        child_pugh(&ChildPughInputs {
            bilirubin_mg_dl: bili,
            albumin_g_dl: alb,
            inr,
            ascites: a,
            encephalopathy: e,
        })
    }

    #[test]
    fn bands_and_classes_at_their_edges() {
        use Ascites as A;
        use Encephalopathy as E;
        let best = score(1.0, 4.0, 1.0, A::None, E::None);
        assert_eq!((best.points, best.class), (5, ChildPughClass::A));
        // Band edges: 2 and 3 mg/dL score 2; 3.5 and 2.8 g/dL score 2; 1.7 and 2.3 score 2.
        assert_eq!(score(2.0, 4.0, 1.0, A::None, E::None).points, 6);
        assert_eq!(score(3.0, 4.0, 1.0, A::None, E::None).points, 6);
        assert_eq!(score(3.01, 4.0, 1.0, A::None, E::None).points, 7);
        assert_eq!(score(1.0, 3.5, 1.0, A::None, E::None).points, 6);
        assert_eq!(score(1.0, 2.8, 1.0, A::None, E::None).points, 6);
        assert_eq!(score(1.0, 2.79, 1.0, A::None, E::None).points, 7);
        assert_eq!(score(1.0, 4.0, 1.7, A::None, E::None).points, 6);
        assert_eq!(score(1.0, 4.0, 2.3, A::None, E::None).points, 6);
        assert_eq!(score(1.0, 4.0, 2.31, A::None, E::None).points, 7);
        let b = score(2.5, 3.0, 1.0, A::Mild, E::None);
        assert_eq!((b.points, b.class), (8, ChildPughClass::B));
        let b8 = score(2.5, 3.0, 2.0, A::None, E::None);
        assert_eq!((b8.points, b8.class), (8, ChildPughClass::B));
        let c = score(4.0, 2.5, 2.5, A::ModerateSevere, E::Grade3To4);
        assert_eq!((c.points, c.class), (15, ChildPughClass::C));
        let ten = score(4.0, 2.5, 1.0, A::Mild, E::None);
        assert_eq!((ten.points, ten.class), (10, ChildPughClass::C));
    }
}
