//! Non-invasive fibrosis indices: APRI and FIB-4.

use crate::provenance::Source;

pub const APRI_SOURCE: Source = Source::verified(
    "Wai et al., Hepatology 2003;38:518: APRI = (AST / AST upper limit of normal) / \
     platelets (10⁹/L) × 100",
);
pub const FIB4_SOURCE: Source = Source::verified(
    "Sterling et al. 2006, formula as in PMC3286137 Table 1: FIB-4 = age × AST / \
     (platelets × √ALT)",
);

/// The usual AST upper limit of normal; the page and the CLI prefill it, and a site
/// changes it to its own laboratory's (CLINICAL.md §1.7).
pub const USUAL_AST_UPPER_LIMIT_U_L: f64 = 40.0;

pub fn apri(ast_u_l: f64, ast_upper_limit_u_l: f64, platelets_10e9_l: f64) -> f64 {
    ast_u_l / ast_upper_limit_u_l / platelets_10e9_l * 100.0
}

pub fn fib4(age_years: f64, ast_u_l: f64, platelets_10e9_l: f64, alt_u_l: f64) -> f64 {
    age_years * ast_u_l / (platelets_10e9_l * alt_u_l.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worked_examples() {
        // AST twice the ULN with 100 × 10⁹/L platelets: APRI 2, the study's threshold.
        assert!((apri(80.0, 40.0, 100.0) - 2.0).abs() < 1e-12);
        // 50 y, AST 100, platelets 100, ALT 25: 50·100 / (100·5) = 10.
        assert!((fib4(50.0, 100.0, 100.0, 25.0) - 10.0).abs() < 1e-12);
    }
}
