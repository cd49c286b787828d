//! The agreement statistics against R: every figure of `tests/data/agreement-reference.json`
//! (made by `scripts/agreement_reference.R` with psych, epiR and R's own functions, each
//! value beside the call that made it) must come out within 1e-6.

use sarcoscope::agree::calls::CallAgreement;
use sarcoscope::agree::icc::{Icc, IccEstimate};
use sarcoscope::agree::paired::{BlandAltman, Concordance};
use sarcoscope::agree::Interval;
use serde_json::Value;

const TOLERANCE: f64 = 1e-6;

fn reference() -> Value {
    // Relative to the crate's folder, where cargo runs its tests.
    let path = "tests/data/agreement-reference.json";
    let text = std::fs::read_to_string(path).expect("the committed R reference values");
    serde_json::from_str(&text).expect("R's JSON")
}

fn numbers(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("an array")
        .iter()
        .map(|x| x.as_f64().expect("a number"))
        .collect()
}

fn close(what: &str, got: f64, r: &Value) {
    let want = r
        .as_f64()
        .unwrap_or_else(|| panic!("{what}: R gave no number ({r})"));
    assert!(
        (got - want).abs() <= TOLERANCE,
        "{what}: Sarcoscope {got}, R {want} (difference {:e})",
        got - want
    );
}

fn close_interval(what: &str, got: Interval, r: &Value) {
    close(&format!("{what} lower"), got.lower, &r[0]);
    close(&format!("{what} upper"), got.upper, &r[1]);
}

fn close_icc(what: &str, got: &IccEstimate, r: &Value) {
    close(what, got.icc, &r["icc"]);
    close(&format!("{what} lower bound"), got.ci.lower, &r["lower"]);
    close(&format!("{what} upper bound"), got.ci.upper, &r["upper"]);
    close(&format!("{what} F"), got.f, &r["f"]);
    close(&format!("{what} df1"), got.df1, &r["df1"]);
    close(&format!("{what} df2"), got.df2, &r["df2"]);
    close(&format!("{what} p"), got.p, &r["p"]);
}

fn check_icc(name: &str, got: &Icc, r: &Value) {
    close_icc(&format!("{name} ICC1"), &got.icc1, &r["icc1"]);
    close_icc(&format!("{name} ICC(2,1)"), &got.icc_2_1, &r["icc_2_1"]);
    close_icc(&format!("{name} ICC(3,1)"), &got.icc_3_1, &r["icc_3_1"]);
}

#[test]
fn bland_altman_icc_and_concordance_equal_r() {
    let reference = reference();
    let paired = reference["paired"].as_array().expect("paired cases");
    assert!(paired.len() >= 5, "R's file holds every paired case");
    for case in paired {
        let name = case["name"].as_str().expect("a name");
        let (x, y) = (numbers(&case["x"]), numbers(&case["y"]));

        let ba = BlandAltman::of(&x, &y).expect("Bland–Altman");
        let r = &case["bland_altman"];
        close(&format!("{name} bias"), ba.bias, &r["bias"]);
        close(&format!("{name} SD of differences"), ba.sd, &r["sd"]);
        close(
            &format!("{name} lower limit"),
            ba.loa_lower,
            &r["loa_lower"],
        );
        close(
            &format!("{name} upper limit"),
            ba.loa_upper,
            &r["loa_upper"],
        );
        close_interval(&format!("{name} bias CI"), ba.bias_ci, &r["bias_ci"]);
        close_interval(
            &format!("{name} lower limit CI"),
            ba.loa_lower_ci,
            &r["loa_lower_ci"],
        );
        close_interval(
            &format!("{name} upper limit CI"),
            ba.loa_upper_ci,
            &r["loa_upper_ci"],
        );

        let ratings: Vec<Vec<f64>> = x.iter().zip(&y).map(|(a, b)| vec![*a, *b]).collect();
        check_icc(name, &Icc::of(&ratings).expect("ICC"), &case["icc"]);

        let ccc = Concordance::of(&x, &y).expect("CCC");
        close(&format!("{name} CCC"), ccc.ccc, &case["ccc"]["est"]);
        close(
            &format!("{name} CCC lower"),
            ccc.ci.lower,
            &case["ccc"]["lower"],
        );
        close(
            &format!("{name} CCC upper"),
            ccc.ci.upper,
            &case["ccc"]["upper"],
        );
    }

    let three = &reference["icc_three"];
    let ratings: Vec<Vec<f64>> = three["ratings"]
        .as_array()
        .expect("cases")
        .iter()
        .map(numbers)
        .collect();
    assert_eq!(ratings[0].len(), 3, "three raters");
    check_icc(
        "three raters",
        &Icc::of(&ratings).expect("ICC"),
        &three["icc"],
    );
}

#[test]
fn kappa_sensitivity_and_specificity_equal_r() {
    let reference = reference();
    let cases = reference["kappa"].as_array().expect("kappa cases");
    assert!(cases.len() >= 3);
    let mut below_one = 0;
    for case in cases {
        let name = case["name"].as_str().expect("a name");
        let calls = |v: &Value| numbers(v).iter().map(|&c| c == 1.0).collect::<Vec<bool>>();
        let got =
            CallAgreement::of(&calls(&case["test"]), &calls(&case["reference"])).expect("kappa");
        close(&format!("{name} kappa"), got.kappa, &case["kappa"]);
        close(
            &format!("{name} kappa variance"),
            got.variance,
            &case["var"],
        );
        close(&format!("{name} kappa lower"), got.ci.lower, &case["lower"]);
        close(&format!("{name} kappa upper"), got.ci.upper, &case["upper"]);
        close(
            &format!("{name} sensitivity"),
            got.sensitivity.expect("positives"),
            &case["sensitivity"],
        );
        close(
            &format!("{name} specificity"),
            got.specificity.expect("negatives"),
            &case["specificity"],
        );
        below_one += usize::from(got.ci.upper < 1.0);
    }
    assert!(
        below_one > 0,
        "at least one case's CI is not cut at 1, so the variance is tested whole"
    );
}
