//! ALBI (albumin–bilirubin) score and grade, defined in SI units.

use serde::Serialize;

use crate::provenance::Source;

pub const SOURCE: Source = Source::verified(
    "Johnson et al., J Clin Oncol 2015;33:550: ALBI = 0.66 log10(bilirubin µmol/L) − \
     0.085 albumin g/L; grade 1 ≤ −2.60 < grade 2 ≤ −1.39 < grade 3",
);

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Albi {
    pub score: f64,
    pub grade: u8,
}

pub fn albi(bilirubin_umol_l: f64, albumin_g_l: f64) -> Albi {
    let score = 0.66 * bilirubin_umol_l.log10() - 0.085 * albumin_g_l;
    let grade = if score <= -2.60 {
        1
    } else if score <= -1.39 {
        2
    } else {
        3
    };
    Albi { score, grade }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn computed_vectors_and_grade_edges() {
        let a = albi(17.1, 35.0);
        assert!((a.score - -2.161).abs() < 0.0005, "{a:?}");
        assert_eq!(a.grade, 2);
        let b = albi(34.2, 30.0);
        assert!((b.score - -1.538).abs() < 0.0005, "{b:?}");
        assert_eq!(b.grade, 2);
        assert_eq!(albi(5.0, 45.0).grade, 1);
        assert_eq!(albi(100.0, 20.0).grade, 3);
    }
}
