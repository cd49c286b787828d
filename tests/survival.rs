//! The survival statistics against R on the `pbc` cohort: every value comes from
//! `../shared/data/stats/pbc-reference.json` or `pbc-extra-reference.json`, whose
//! entries name the R call that made them (quoted beside each check).

mod common;

use common::shared_dir;
use sarcoscope::survival::analysis::FitOutput;
use sarcoscope::survival::bootstrap::optimism;
use sarcoscope::survival::calibration::{observed_expected, risk_groups, slope, smoothed};
use sarcoscope::survival::competing::{aalen_johansen, fine_gray, gray_test, Incidence};
use sarcoscope::survival::concordance::{concordance, TimeWeight};
use sarcoscope::survival::cox::{self, CoxFit, CoxInput, Ties};
use sarcoscope::survival::decision::net_benefit;
use sarcoscope::survival::design::{Design, Outcome, Roles, Status, TermSpec};
use sarcoscope::survival::ipcw::Censoring;
use sarcoscope::survival::km::{ConfType, KaplanMeier};
use sarcoscope::survival::logrank::log_rank;
use sarcoscope::survival::model::ModelFile;
use sarcoscope::survival::performance::{auc, brier_with_null, integrated_brier};
use sarcoscope::survival::plot::schoenfeld_svg;
use sarcoscope::survival::table::CohortTable;
use sarcoscope::survival::zph::{self, TimeTransform};
use serde_json::Value;

struct Pbc {
    /// pbc.csv, and the randomised rows written as a file of their own (for the CLI).
    path: std::path::PathBuf,
    randomised_path: std::path::PathBuf,
    all: CohortTable,
    /// The 312 randomised patients (`trt` not missing), as the Cox references use.
    randomised: CohortTable,
    reference: Value,
    extra: Value,
}

/// Read once per test process: the tests run in parallel, and each writing the
/// randomised rows to the same temporary file let one read it while another had just
/// truncated it.
fn pbc() -> Option<&'static Pbc> {
    static PBC: std::sync::OnceLock<Option<Pbc>> = std::sync::OnceLock::new();
    PBC.get_or_init(read_pbc).as_ref()
}

fn read_pbc() -> Option<Pbc> {
    let dir = shared_dir("data/stats")?;
    let text = std::fs::read_to_string(dir.join("pbc.csv")).expect("pbc.csv");
    let all = CohortTable::from_bytes(text.as_bytes()).expect("pbc.csv reads");
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default();
    let trt = header
        .split(',')
        .position(|c| c == "\"trt\"")
        .expect("trt column");
    let kept: Vec<&str> = lines
        .filter(|l| !matches!(l.split(',').nth(trt), Some("" | "NA")))
        .collect();
    let randomised_text = format!("{header}\n{}\n", kept.join("\n"));
    let randomised = CohortTable::from_bytes(randomised_text.as_bytes()).expect("randomised rows");
    let randomised_path =
        std::env::temp_dir().join(format!("sarcoscope-pbc-312-{}.csv", std::process::id()));
    std::fs::write(&randomised_path, randomised_text).expect("temporary file");
    let json = |name: &str| -> Value {
        serde_json::from_slice(&std::fs::read(dir.join(name)).expect(name)).expect("JSON")
    };
    Some(Pbc {
        path: dir.join("pbc.csv"),
        randomised_path,
        all,
        randomised,
        reference: json("pbc-reference.json"),
        extra: json("pbc-extra-reference.json"),
    })
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn nums(v: &Value) -> Vec<f64> {
    v.as_array().expect("array").iter().map(num).collect()
}

#[track_caller]
fn close(what: &str, ours: f64, r: f64, rel: f64) {
    // Relative, except against an exact zero.
    let scale = if r == 0.0 { 1.0 } else { r.abs() };
    assert!(
        (ours - r).abs() <= rel * scale,
        "{what}: ours {ours}, R {r} (relative difference {:.2e})",
        (ours - r).abs() / scale
    );
}

/// Absolute agreement, for smoothed risks (differences of a few 1e-6 remain: rms::cph
/// stops iterating at a looser tolerance than coxph).
#[track_caller]
fn near(what: &str, ours: f64, r: f64, abs: f64) {
    assert!(
        (ours - r).abs() <= abs,
        "{what}: ours {ours}, R {r} (difference {:.2e})",
        (ours - r).abs()
    );
}

fn death(covariates: &str) -> Roles {
    let outcome = Outcome::new("time", "status", "2");
    Roles::new(
        outcome,
        TermSpec::parse_list(covariates).expect("covariates"),
    )
}

const MODEL: &str = "age, edema, log(bili), log(albumin), log(protime)";

fn fit(design: &Design, ties: Ties) -> CoxFit {
    cox::fit_design(design, ties).expect("fit")
}

#[test]
fn cox_efron_and_breslow_equal_coxph() {
    let Some(pbc) = pbc() else { return };
    let design = Design::build(&pbc.randomised, &death(MODEL)).expect("design");
    assert_eq!(design.rows(), 312);
    for (ties, key) in [(Ties::Efron, "cox_efron"), (Ties::Breslow, "cox_breslow")] {
        // coxph(Surv(time, status==2) ~ age + edema + log(bili) + log(albumin) + log(protime), ties=…)
        let r = &pbc.reference[key];
        let f = fit(&design, ties);
        let se = f.se();
        for (j, name) in f.names.iter().enumerate() {
            close(
                &format!("{key} coef {name}"),
                f.coef[j],
                num(&r["coef"][name]),
                1e-6,
            );
            close(
                &format!("{key} se {name}"),
                se[j],
                num(&r["se"][name]),
                1e-6,
            );
        }
        close("loglik_null", f.loglik_null, num(&r["loglik_null"]), 1e-9);
        close("loglik", f.loglik, num(&r["loglik"]), 1e-9);
        close(
            "score test",
            f.score_test.chisq,
            num(&r["score_test"]),
            1e-6,
        );
        close("wald test", f.wald_test.chisq, num(&r["wald_test"]), 1e-6);
        close("LR test", f.lr_test.chisq, num(&r["lr_test"]), 1e-6);
        assert_eq!(
            f.iterations as f64,
            num(&r["iterations"]),
            "{key} iterations"
        );
        assert!(f.converged && f.infinite.is_empty());

        // coxph(..., robust=TRUE): robust var = D'D, D = residuals(fit, 'dfbeta')
        let rr = &pbc.extra["cox_robust"][key.trim_start_matches("cox_")];
        for (j, r) in nums(&rr["robust_se"]).into_iter().enumerate() {
            close(&format!("{key} robust se {j}"), f.robust_se()[j], r, 1e-6);
        }
        if ties == Ties::Efron {
            close(
                "robust score test",
                f.robust.as_ref().expect("robust").score_test.chisq,
                num(&rr["robust_score_test"]),
                1e-6,
            );
            close(
                "robust Wald test",
                f.robust.as_ref().expect("robust").wald_test.chisq,
                num(&rr["wald_test_robust"]),
                1e-6,
            );
        }
    }
}

#[test]
fn proportional_hazards_tests_equal_cox_zph() {
    let Some(pbc) = pbc() else { return };
    let design = Design::build(&pbc.randomised, &death(MODEL)).expect("design");
    let event = design.event_flags();
    let input = CoxInput {
        time: &design.time,
        event: &event,
        x: &design.x,
        names: &design.names,
        strata: &design.strata,
    };
    let f = cox::fit(&input, Ties::Efron).expect("fit");
    let terms: Vec<Vec<usize>> = (0..f.coef.len()).map(|j| vec![j]).collect();
    // cox.zph(fit_efron, transform=..., terms=TRUE, global=TRUE); last row GLOBAL
    for (transform, key) in [
        (TimeTransform::Km, "km"),
        (TimeTransform::Rank, "rank"),
        (TimeTransform::Identity, "identity"),
    ] {
        let r = &pbc.extra["cox_zph"][key];
        for (k, t) in zph::zph(&input, &f, transform, &terms).iter().enumerate() {
            close(
                &format!("zph {key} {k} chisq"),
                t.chisq,
                num(&r["chisq"][k]),
                1e-6,
            );
            assert_eq!(t.df as f64, num(&r["df"][k]));
            close(
                &format!("zph {key} {k} p"),
                t.p.expect("p"),
                num(&r["p"][k]),
                1e-6,
            );
        }
    }
    // survival 3.5-3: z <- cox.zph(fit_efron); z$y, z$x (scaled Schoenfeld residuals
    // against 1 − KM(t−)); the smooth and band as plot(z) draws them:
    // lmat <- ns(c(seq(min(z$x), max(z$x), length = 40), z$x), df = 4, intercept = TRUE);
    // yhat <- pmat %*% qr.coef(qr(xmat), z$y[, i]); 2 * sqrt(z$var[i, i] * seval).
    let s = zph::schoenfeld(&input, &f, TimeTransform::Km);
    assert_eq!((s.g.len(), s.scaled.len()), (125, 125));
    close("zph y[1, log(bili)]", s.scaled[0][2], 1.1668005146099, 1e-7);
    close(
        "zph y[125, log(bili)]",
        s.scaled[124][2],
        1.04850740324491,
        1e-7,
    );
    assert_eq!(s.g[0], 0.0);
    close("zph x[60]", s.g[59], 0.191412370918273, 1e-9);
    close("zph x[125]", s.g[124], 0.630995540004556, 1e-9);
    for (column, fit, band) in [
        (
            2,
            [0.24006718201205, 0.856578556305652, 1.58043497272653],
            [0.620079522344309, 0.352031936529656, 0.980302383417318],
        ),
        (
            4,
            [10.2848517291781, 0.126449288726442, 4.14558585469078],
            [6.43014070379471, 3.65052352568758, 10.1656030081551],
        ),
    ] {
        let y: Vec<f64> = s.scaled.iter().map(|r| r[column]).collect();
        let smooth = zph::smooth(&s.g, &y, s.var[column][column]).expect("smooth");
        for (k, at) in [0, 19, 39].into_iter().enumerate() {
            close("zph smooth", smooth.fit[at], fit[k], 1e-7);
            close("zph band", smooth.band[at], band[k], 1e-7);
        }
        let svg = schoenfeld_svg(&s.names[column], &s.g, &s.time, &y, f.coef[column], &smooth);
        assert_eq!(
            svg.matches(r#"class="residual""#).count(),
            125,
            "a dot per death"
        );
        assert!(!svg.contains("style="), "the CSP forbids inline styles");
    }
}

#[test]
fn baseline_hazard_and_predictions_equal_basehaz_and_survfit() {
    let Some(pbc) = pbc() else { return };
    let design = Design::build(&pbc.randomised, &death(MODEL)).expect("design");
    let f = fit(&design, Ties::Efron);
    // basehaz(fit_efron, centered=FALSE) at 1, 5 and 10 years
    let r = &pbc.reference["cox_efron"]["baseline_cumhaz_uncentered"];
    for (t, h) in nums(&r["times"]).into_iter().zip(nums(&r["cumhaz"])) {
        close(&format!("H0({t})"), f.baseline[0].at(t), h, 1e-6);
    }
    // fit$means; basehaz(fit_efron, centered=TRUE)
    let r = &pbc.extra["baseline_survival"];
    for (j, name) in f.names.iter().enumerate() {
        close(
            &format!("mean {name}"),
            f.means[j],
            num(&r["means"][name]),
            1e-12,
        );
    }
    let mean_lp = f.linear_predictor(&f.means);
    close("mean lp", mean_lp, num(&r["mean_lp_uncentered"]), 1e-12);
    for (k, t) in nums(&r["times"]).into_iter().enumerate() {
        let h = f.baseline[0].at(t);
        close(
            &format!("S0({t}) uncentred"),
            (-h).exp(),
            num(&r["S0_uncentered"][k]),
            1e-9,
        );
        close(
            &format!("S0({t}) at the means"),
            (-h * mean_lp.exp()).exp(),
            num(&r["S0_centered_at_means"][k]),
            1e-9,
        );
    }
    // summary(survfit(fit, newdata = pbc[1:5, ]), times = …)$surv
    let r = &pbc.reference["cox_efron"]["predicted_survival_first5rows"];
    for (k, t) in nums(&r["times"]).into_iter().enumerate() {
        for (i, s) in nums(&r["surv"][k]).into_iter().enumerate() {
            close(
                &format!("S({t} | row {i})"),
                f.survival(design.row(i), 0, t),
                s,
                1e-6,
            );
        }
    }
    // per-row linear predictor (uncentred)
    for (i, lp) in nums(&pbc.extra["per_row"]["lp_uncentered"])
        .into_iter()
        .enumerate()
    {
        close(
            &format!("lp row {i}"),
            f.linear_predictor(design.row(i)),
            lp,
            1e-9,
        );
    }
}

#[test]
fn concordance_equals_survival_concordance() {
    let Some(pbc) = pbc() else { return };
    let design = Design::build(&pbc.randomised, &death(MODEL)).expect("design");
    let f = fit(&design, Ties::Efron);
    let lp: Vec<f64> = (0..design.rows())
        .map(|i| f.linear_predictor(design.row(i)))
        .collect();
    let event = design.event_flags();
    let r = &pbc.reference["concordance"];
    let c = |weight, ymax| concordance(&design.time, &event, &lp, weight, ymax).expect("pairs");
    // concordance(fit_efron)
    let harrell = c(TimeWeight::Harrell, None);
    close("Harrell C", harrell.c, num(&r["harrell"]), 1e-6);
    close("Harrell C se", harrell.se, num(&r["harrell_se"]), 1e-6);
    // concordance(fit_efron, timewt="n/G2")
    close(
        "Uno C",
        c(TimeWeight::Uno, None).c,
        num(&r["uno_n_over_G2"]),
        1e-6,
    );
    // concordance(fit_efron, ymax=1826.25)
    close(
        "Harrell C to 5 y",
        c(TimeWeight::Harrell, Some(1826.25)).c,
        num(&r["harrell_truncated_5y"]),
        1e-6,
    );
    // concordance(Surv(time,ev) ~ lp, reverse=TRUE, timewt='n/G2', ymax=1826.25)
    let r = &pbc.extra["concordance_extra"];
    let uno5 = c(TimeWeight::Uno, Some(1826.25));
    close("Uno C to 5 y", uno5.c, num(&r["uno_c_truncated_5y"]), 1e-6);
    close(
        "Uno C to 5 y se",
        uno5.se,
        num(&r["uno_c_truncated_5y_se"]),
        1e-6,
    );
}

#[test]
fn kaplan_meier_equals_survfit() {
    let Some(pbc) = pbc() else { return };
    let design = Design::build(&pbc.all, &death("age")).expect("design");
    assert_eq!(design.rows(), 418);
    let km = KaplanMeier::fit(&design.time, &design.event_flags());
    // survfit(Surv(time, status==2) ~ 1, data=pbc, conf.type=…); summary(times=c(1,5,10)*365.25)
    for (key, conf) in [
        ("km_all_418_transplant_censored", ConfType::Log),
        ("km_all_418_transplant_censored_loglog", ConfType::LogLog),
    ] {
        let r = &pbc.reference[key];
        for (k, t) in nums(&r["times"]).into_iter().enumerate() {
            let p = km.at(t, conf, 0.95);
            assert_eq!(
                p.n_risk as f64,
                num(&r["n_risk"][k]),
                "{key} n at risk at {t}"
            );
            close(&format!("{key} S({t})"), p.surv, num(&r["surv"][k]), 1e-9);
            close(
                &format!("{key} se({t})"),
                p.std_err.expect("se"),
                num(&r["std_err"][k]),
                1e-6,
            );
            close(
                &format!("{key} lower({t})"),
                p.lower.expect("lower"),
                num(&r["lower"][k]),
                1e-6,
            );
            close(
                &format!("{key} upper({t})"),
                p.upper.expect("upper"),
                num(&r["upper"][k]),
                1e-6,
            );
        }
    }
    // survfit(Surv(time, status==2) ~ edema, conf.type='log-log')
    let by = Roles {
        group: Some("edema".into()),
        ..death("age")
    };
    let design = Design::build(&pbc.all, &by).expect("design");
    let event = design.event_flags();
    for (g, level) in design.group_levels.iter().enumerate() {
        let rows: Vec<usize> = (0..design.rows())
            .filter(|&i| design.group[i] == g)
            .collect();
        let km = KaplanMeier::fit(
            &rows.iter().map(|&i| design.time[i]).collect::<Vec<_>>(),
            &rows.iter().map(|&i| event[i]).collect::<Vec<_>>(),
        );
        let r = &pbc.extra["km_by_edema_loglog"][format!("edema={level}")];
        for (k, t) in nums(&r["times"]).into_iter().enumerate() {
            let p = km.at(t, ConfType::LogLog, 0.95);
            assert_eq!(
                p.n_risk as f64,
                num(&r["n_risk"][k]),
                "edema={level} n at risk at {t}"
            );
            close(
                &format!("edema={level} S({t})"),
                p.surv,
                num(&r["surv"][k]),
                1e-9,
            );
            // R gives NA where S has reached 0.
            for (what, ours, r) in [
                ("se", p.std_err, &r["std_err"][k]),
                ("lower", p.lower, &r["lower"][k]),
                ("upper", p.upper, &r["upper"][k]),
            ] {
                match (ours, r.as_f64()) {
                    (Some(o), Some(r)) => close(&format!("edema={level} {what}({t})"), o, r, 1e-6),
                    (o, r) => assert_eq!(o, r, "edema={level} {what}({t})"),
                }
            }
        }
    }
}

#[test]
fn log_rank_equals_survdiff() {
    let Some(pbc) = pbc() else { return };
    let by = |group: &str, strata: Option<&str>| {
        let roles = Roles {
            group: Some(group.into()),
            strata: strata.map(Into::into),
            ..death("age")
        };
        let d = Design::build(&pbc.all, &roles).expect("design");
        let event = d.event_flags();
        (d, event)
    };
    // survdiff(Surv(time, status==2) ~ edema): groups 0, 0.5, 1
    let (d, event) = by("edema", None);
    let r = &pbc.extra["logrank_edema_3groups"];
    let t = log_rank(&d.time, &event, &d.group, &d.strata, 0.0).expect("test");
    close("3-group chisq", t.chisq, num(&r["chisq"]), 1e-6);
    assert_eq!(t.df as f64, num(&r["df"]));
    close("3-group p", t.p.expect("p"), num(&r["p"]), 1e-6);
    for (k, (o, e)) in nums(&r["observed"])
        .into_iter()
        .zip(nums(&r["expected"]))
        .enumerate()
    {
        close(&format!("observed {k}"), t.observed[k], o, 1e-12);
        close(&format!("expected {k}"), t.expected[k], e, 1e-9);
    }
    // survdiff(Surv(time, status==2) ~ trt + strata(edema)) on the randomised
    let roles = Roles {
        group: Some("trt".into()),
        strata: Some("edema".into()),
        ..death("age")
    };
    let d = Design::build(&pbc.randomised, &roles).expect("design");
    let r = &pbc.extra["logrank_trt_stratified_by_edema"];
    let t = log_rank(&d.time, &d.event_flags(), &d.group, &d.strata, 0.0).expect("test");
    close("stratified chisq", t.chisq, num(&r["chisq"]), 1e-6);
    close("stratified p", t.p.expect("p"), num(&r["p"]), 1e-6);
    // survdiff(Surv(time, status==2) ~ trt + strata(edema), rho=1)
    let r = &pbc.extra["peto_trt_stratified_by_edema"];
    let t = log_rank(&d.time, &d.event_flags(), &d.group, &d.strata, 1.0).expect("test");
    close("Peto chisq", t.chisq, num(&r["chisq"]), 1e-6);
    for (k, (o, e)) in nums(&r["observed"])
        .into_iter()
        .zip(nums(&r["expected"]))
        .enumerate()
    {
        close(&format!("Peto observed {k}"), t.observed[k], o, 1e-9);
        close(&format!("Peto expected {k}"), t.expected[k], e, 1e-9);
    }
    // survdiff(Surv(time, status==2) ~ edema > 0), all 418
    let d = Design::build(&pbc.all, &death("edema")).expect("design");
    let any: Vec<usize> = (0..d.rows())
        .map(|i| usize::from(d.row(i)[0] > 0.0))
        .collect();
    let r = &pbc.reference["logrank_edema_any"];
    let t = log_rank(&d.time, &d.event_flags(), &any, &d.strata, 0.0).expect("test");
    close("edema > 0 chisq", t.chisq, num(&r["chisq"]), 1e-6);
    close("edema > 0 p", t.p.expect("p"), num(&r["p"]), 1e-6);
    for (k, e) in nums(&r["expected"]).into_iter().enumerate() {
        close(&format!("edema > 0 expected {k}"), t.expected[k], e, 1e-9);
    }
}

#[test]
fn a_stratified_cox_model_equals_coxph_with_strata() {
    let Some(pbc) = pbc() else { return };
    // coxph(Surv(time, status==2) ~ age + edema + log(bili) + log(albumin) + log(protime) + strata(sex))
    let roles = Roles {
        strata: Some("sex".into()),
        ..death(MODEL)
    };
    let design = Design::build(&pbc.randomised, &roles).expect("design");
    assert_eq!(design.strata_levels, vec!["f", "m"]);
    let f = fit(&design, Ties::Efron);
    let r = &pbc.extra["cox_strata_sex"];
    for (j, name) in f.names.iter().enumerate() {
        close(
            &format!("coef {name}"),
            f.coef[j],
            num(&r["coef"][name]),
            1e-6,
        );
        close(&format!("se {name}"), f.se()[j], num(&r["se"][name]), 1e-6);
    }
    close("loglik_null", f.loglik_null, num(&r["loglik_null"]), 1e-9);
    close("loglik", f.loglik, num(&r["loglik"]), 1e-9);
    close(
        "score test",
        f.score_test.chisq,
        num(&r["score_test"]),
        1e-6,
    );
    close("wald test", f.wald_test.chisq, num(&r["wald_test"]), 1e-6);
    close("LR test", f.lr_test.chisq, num(&r["lr_test"]), 1e-6);
    assert_eq!(f.baseline.len(), 2);
}

#[test]
fn competing_risks_equal_survfit_and_crr() {
    let Some(pbc) = pbc() else { return };
    let roles = Roles {
        outcome: Outcome {
            competing_value: Some("1".into()),
            censored_values: Some(vec!["0".into()]),
            ..death("age").outcome
        },
        ..death("log(bili), age")
    };
    let design = Design::build(&pbc.all, &roles).expect("design");
    assert_eq!(design.rows(), 418);
    // survfit(Surv(time, factor(status, 0:2, c('censor','transplant','death'))) ~ 1)
    let r = &pbc.reference["aalen_johansen"];
    let shares = aalen_johansen(&design.time, &design.status, &nums(&r["times"]));
    for (k, s) in shares.iter().enumerate() {
        let row = nums(&r["pstate"][k]);
        close("event-free", s.event_free, row[0], 1e-9);
        close("transplant", s.competing, row[1], 1e-9);
        close("death", s.event, row[2], 1e-9);
    }
    // cmprsk::crr(time, status, cov1 = cbind(log(bili), age), failcode = 2, cencode = 0)
    let r = &pbc.reference["fine_gray_death"];
    let fg = fine_gray(&design.time, &design.status, &design.x, &design.names).expect("fit");
    assert!(fg.converged);
    close(
        "Fine–Gray log(bili)",
        fg.coef[0],
        num(&r["coef"]["logbili"]),
        1e-6,
    );
    close("Fine–Gray age", fg.coef[1], num(&r["coef"]["age"]), 1e-6);
    // sqrt(diag(crr(...)$var)): the sandwich that counts the estimated censoring weights.
    for (j, name) in ["log(bili)", "age"].iter().enumerate() {
        close(
            &format!("Fine–Gray se {name}"),
            fg.se[j],
            num(&r["se"][j]),
            1e-6,
        );
    }
    // crr stops at gtol = 1e-6, 2.6e-7 (relative) short of the maximum, and its SEs
    // move by as much. Run to the maximum — R 4.2.2, cmprsk 2.2-11:
    //   f <- crr(pbc$time, pbc$status, cov1 = cbind(log(pbc$bili), pbc$age),
    //            failcode = 2, cencode = 0, gtol = 1e-12, maxiter = 50)
    // f$coef, sqrt(diag(f$var)), f$var[1, 2], and from summary(f): z,
    // 2 * pnorm(-abs(z)), and the 95 % interval of exp(coef) — to 1e-9 here.
    let at_maximum = [
        (0.9494975605943878, 0.0921764141909864),
        (0.0489416071919325, 0.008919701532928051),
    ];
    for (j, (coef, se)) in at_maximum.into_iter().enumerate() {
        close("Fine–Gray coef, gtol 1e-12", fg.coef[j], coef, 1e-9);
        close("Fine–Gray se, gtol 1e-12", fg.se[j], se, 1e-9);
    }
    close(
        "Fine–Gray covariance, gtol 1e-12",
        fg.covariance[0][1],
        1.497816068747688e-4,
        1e-9,
    );
    assert_eq!(fg.covariance[0][1], fg.covariance[1][0]);
    let summary_crr = [
        (
            10.300873264901162,
            6.982453021530749e-25,
            2.157251825357273,
            3.096151883904215,
        ),
        (
            5.486910858088605,
            4.090234050382545e-08,
            1.031959387858304,
            1.068679635474955,
        ),
    ];
    for (c, (z, p, lower, upper)) in fg.coefficients(0.95).iter().zip(summary_crr) {
        close(&format!("Fine–Gray z {}", c.name), c.z, z, 1e-9);
        close(&format!("Fine–Gray p {}", c.name), c.p, p, 1e-9);
        close(
            &format!("Fine–Gray sHR lower {}", c.name),
            c.hr_lower,
            lower,
            1e-9,
        );
        close(
            &format!("Fine–Gray sHR upper {}", c.name),
            c.hr_upper,
            upper,
            1e-9,
        );
        assert_eq!(c.robust_se, c.se, "crr has only the sandwich SE");
    }
}

/// Death with transplant competing, all 418 rows, grouped by `group` and stratified by
/// `strata` where given.
fn competing(pbc: &Pbc, group: Option<&str>, strata: Option<&str>) -> Design {
    let mut roles = Roles::new(Outcome::new("time", "status", "2"), Vec::new());
    roles.outcome.competing_value = Some("1".into());
    roles.outcome.censored_values = Some(vec!["0".into()]);
    roles.group = group.map(Into::into);
    roles.strata = strata.map(Into::into);
    Design::build(&pbc.all, &roles).expect("design")
}

#[test]
fn cumulative_incidence_and_grays_test_equal_cuminc() {
    let Some(pbc) = pbc() else { return };
    // cmprsk 2.2-11: ci <- cuminc(time, status, cencode = 0);
    // timepoints(ci, c(365.25, 1826.25, 3652.5)) — $est and $var, death (2) and transplant (1)
    let d = competing(pbc, None, None);
    let death = Incidence::fit(&d.time, &d.status, Status::Event);
    let transplant = Incidence::fit(&d.time, &d.status, Status::Competing);
    let times = [365.25, 1826.25, 3652.5];
    let want_death = [
        (0.0717703349282297, 0.00015977289660657),
        (0.291714830373591, 0.000540283668566916),
        (0.526953778753249, 0.00135013691518975),
    ];
    let want_transplant = [
        (0.0445739262910085, 0.000113411923738209),
        (0.0838297692801466, 0.000301789336371379),
    ];
    for (t, (f, v)) in times.iter().zip(want_death) {
        let at = death.at(*t, 0.95);
        close("cuminc death", at.incidence, f, 1e-9);
        close("cuminc death var", at.std_err.expect("se").powi(2), v, 1e-9);
        let (lo, hi) = (at.lower.expect("lower"), at.upper.expect("upper"));
        assert!(lo < f && f < hi && hi < 1.0, "{lo} < {f} < {hi}");
    }
    assert_eq!(transplant.at(365.25, 0.95).incidence, 0.0);
    for (t, (f, v)) in times[1..].iter().zip(want_transplant) {
        let at = transplant.at(*t, 0.95);
        close("cuminc transplant", at.incidence, f, 1e-9);
        close(
            "cuminc transplant var",
            at.std_err.expect("se").powi(2),
            v,
            1e-9,
        );
    }
    // cuminc(time, status, group = edema, cencode = 0)$Tests (transplant, death);
    // the same with strata = sex, and with rho = 1.
    let cases: [(Option<&str>, f64, [f64; 2]); 3] = [
        (None, 0.0, [1.13186061138206, 69.24712630802]),
        (Some("sex"), 0.0, [1.11527552750851, 97.735481908278]),
        (None, 1.0, [1.14648247207664, 108.735118739718]),
    ];
    for (strata, rho, want) in cases {
        let d = competing(pbc, Some("edema"), strata);
        assert_eq!(d.group_levels.len(), 3);
        for (cause, want) in [Status::Competing, Status::Event].into_iter().zip(want) {
            let test = gray_test(&d.time, &d.status, &d.group, &d.strata, cause, rho)
                .expect("Gray's test");
            close(
                &format!("Gray {cause:?} {strata:?} rho {rho}"),
                test.chisq,
                want,
                1e-7,
            );
            assert_eq!(test.df, 2);
        }
    }
    let test = gray_test(&d.time, &d.status, &d.group, &d.strata, Status::Event, 0.0);
    assert!(test.is_none(), "one group: nothing to compare");
}

#[test]
fn the_cli_prints_competing_risks_as_cmprsk_gives_them() {
    let Some(pbc) = pbc() else { return };
    let csv = pbc.path.to_str().expect("path");
    let svg = std::env::temp_dir().join(format!("sarcoscope-cif-{}.svg", std::process::id()));
    let args = |group: bool| {
        let mut a = vec![
            "cohort",
            "competing",
            csv,
            "--time",
            "time",
            "--event",
            "status",
            "--event-value",
            "2",
            "--competing-value",
            "1",
            "--at",
            "1826.25,3652.5",
            "--json",
        ];
        if group {
            a.extend(["--group", "edema", "--covariates", "log(bili), age"]);
        } else {
            a.extend(["--svg", svg.to_str().expect("path")]);
        }
        a
    };
    // survfit(Surv(time, factor(status, 0:2, c('censor','transplant','death'))) ~ 1)
    let out = cli(&args(false));
    let r = &pbc.reference["aalen_johansen"];
    let all = &out["groups"][0];
    assert_eq!(
        (all["group"].as_str(), all["n"].as_u64()),
        (Some("all"), Some(418))
    );
    assert_eq!(
        (all["events"].as_u64(), all["competing"].as_u64()),
        (Some(161), Some(25))
    );
    for k in 0..2 {
        let row = nums(&r["pstate"][k]);
        close(
            "CLI AJ death",
            num(&all["at"][k]["event"]["incidence"]),
            row[2],
            1e-9,
        );
        close(
            "CLI AJ transplant",
            num(&all["at"][k]["competing"]["incidence"]),
            row[1],
            1e-9,
        );
    }
    assert!(out["gray_event"].is_null(), "one group: no test");
    let drawn = std::fs::read_to_string(&svg).expect("SVG written");
    assert_eq!(
        drawn.matches("stroke-width=\"2\"").count(),
        2,
        "event and competing curves"
    );
    let _ = std::fs::remove_file(&svg);
    // cuminc(time, status, group = edema, cencode = 0)$Tests;
    // crr(time, status, cov1 = cbind(log(bili), age), failcode = 2, cencode = 0)
    let out = cli(&args(true));
    assert_eq!(out["groups"].as_array().map(Vec::len), Some(3));
    close(
        "CLI Gray death",
        num(&out["gray_event"]["chisq"]),
        69.24712630802,
        1e-7,
    );
    close(
        "CLI Gray transplant",
        num(&out["gray_competing"]["chisq"]),
        1.13186061138206,
        1e-7,
    );
    let r = &pbc.reference["fine_gray_death"];
    let fg = &out["fine_gray"];
    close(
        "CLI Fine–Gray log(bili)",
        num(&fg["coefficients"][0]["coef"]),
        num(&r["coef"]["logbili"]),
        1e-6,
    );
    close(
        "CLI Fine–Gray age",
        num(&fg["coefficients"][1]["coef"]),
        num(&r["coef"]["age"]),
        1e-6,
    );
    for (k, se) in nums(&r["se"]).into_iter().enumerate() {
        close(
            "CLI Fine–Gray se",
            num(&fg["coefficients"][k]["se"]),
            se,
            1e-6,
        );
    }
}

#[test]
fn bootstrap_optimism_is_seeded_and_shrinks_the_apparent_figures() {
    let Some(pbc) = pbc() else { return };
    let design = Design::build(&pbc.randomised, &death(MODEL)).expect("design");
    let run = |seed| {
        let mut calls = 0;
        let result = optimism(
            &design,
            Ties::Efron,
            Some(1826.25),
            200,
            seed,
            |done, total| {
                calls += 1;
                assert_eq!((done, total), (calls, 200));
                true
            },
        )
        .expect("fit")
        .expect("not cancelled");
        assert_eq!(calls, 200);
        result
    };
    let (a, again, other) = (run(20261201), run(20261201), run(7));
    assert_eq!(a, again, "the same seed gives the same result");
    assert_ne!(a.optimism, other.optimism);
    // Apparent figures are those of the fit itself (C as concordance(), slope 1).
    close(
        "apparent C",
        a.apparent.c,
        num(&pbc.reference["concordance"]["harrell"]),
        1e-9,
    );
    close("apparent slope", a.apparent.slope, 1.0, 1e-6);
    close(
        "apparent Brier",
        a.apparent.brier.expect("brier"),
        num(&pbc.extra["brier_riskRegression"]["brier_cox"][2]),
        1e-6,
    );
    // A model is more optimistic on its own sample: C and slope shrink, Brier grows, by
    // amounts two seeds agree on within Monte-Carlo error.
    for r in [&a, &other] {
        assert!(
            r.optimism.c > 0.0 && r.optimism.c < 0.03,
            "C optimism {}",
            r.optimism.c
        );
        assert!(
            r.corrected.slope < 1.0 && r.corrected.slope > 0.8,
            "slope {}",
            r.corrected.slope
        );
        assert!(r.corrected.brier > r.apparent.brier);
        assert_eq!(r.b, 200);
    }
    assert!((a.optimism.c - other.optimism.c).abs() < 0.005);
    // Cancelled after three refits: no result.
    let cancelled = optimism(&design, Ties::Efron, None, 200, 1, |done, _| done < 3).expect("fit");
    assert!(cancelled.is_none());
}

#[test]
fn bootstrap_optimism_agrees_with_rms_validate_within_monte_carlo_error() {
    let Some(pbc) = pbc() else { return };
    let design = Design::build(&pbc.randomised, &death(MODEL)).expect("design");
    // R 4.2.2, rms 6.5-0, survival 3.5-3 (Debian bookworm), on the same 312 patients:
    //   f <- cph(Surv(time, status == 2) ~ age + edema + log(bili) + log(albumin) +
    //            log(protime), data = subset(pbc, !is.na(trt)), x = TRUE, y = TRUE)
    //   set.seed(20261201); validate(f, B = 10000)
    // Dxy optimism 0.0088796118 (C = Dxy/2 + 1/2, so C's is half), slope optimism
    // 0.0521586727. R draws other samples than SplitMix64: the two agree only within
    // Monte-Carlo error. Over 30 seeds, validate(f, B = 200) gave SDs of 0.003364 (Dxy)
    // and 0.005530 (slope); scaled to B = 10000 for R and 2000 here, the difference has
    // an SE of 0.000583 (C) and 0.00192 (slope). Four SEs are allowed.
    let r_c_optimism = 0.0088796118 / 2.0;
    let r_slope_optimism = 0.0521586727;
    let ours = optimism(&design, Ties::Efron, None, 2000, 20261201, |_, _| true)
        .expect("fit")
        .expect("not cancelled");
    assert!(
        (ours.optimism.c - r_c_optimism).abs() < 4.0 * 0.000583,
        "C optimism {} vs rms::validate {r_c_optimism}",
        ours.optimism.c
    );
    assert!(
        (ours.optimism.slope - r_slope_optimism).abs() < 4.0 * 0.00192,
        "slope optimism {} vs rms::validate {r_slope_optimism}",
        ours.optimism.slope
    );
    close(
        "apparent Dxy / 2 + 1/2",
        ours.apparent.c,
        0.6877225267 / 2.0 + 0.5,
        1e-9,
    );
}

/// Predicted event probabilities by `t` of every row of `design` under `model`.
fn risks(model: &CoxFit, design: &Design, t: f64) -> Vec<f64> {
    (0..design.rows())
        .map(|i| 1.0 - model.survival(design.row(i), 0, t))
        .collect()
}

#[test]
fn apparent_performance_equals_riskregression_timeroc_and_dcurves() {
    let Some(pbc) = pbc() else { return };
    let design = Design::build(&pbc.randomised, &death(MODEL)).expect("design");
    let f = fit(&design, Ties::Efron);
    let (time, event) = (&design.time, design.event_flags());
    let censoring = Censoring::fit(time, &event);
    // timeROC(T, delta, marker=lp, cause=1, weighting='marginal', times) — the same AUC
    // as Score(..., metrics='auc') on 1 − S(t|x)
    let r = &pbc.extra["td_auc_timeROC"];
    let lp: Vec<f64> = (0..design.rows())
        .map(|i| f.linear_predictor(design.row(i)))
        .collect();
    // Their SEs: timeROC(..., iid = TRUE)$inference$vect_sd_1 and Score(..., se.fit = TRUE).
    // timeROC takes tied times row by row in input order; at 5 years its SE lies 8e-7
    // (relative) from Score's, which counts a tied death and censoring together as here.
    let rr = &pbc.extra["td_auc_riskRegression"];
    for (k, t) in nums(&r["times"]).into_iter().enumerate() {
        let ours = auc(time, &event, &lp, t, &censoring).expect("cases and controls");
        close(&format!("AUC({t})"), ours.auc, num(&r["auc"][k]), 1e-6);
        close(
            &format!("AUC({t}) se, timeROC"),
            ours.se,
            num(&r["se"][k]),
            1e-6,
        );
        let by_risk = auc(time, &event, &risks(&f, &design, t), t, &censoring).expect("auc");
        close(
            &format!("AUC of risks({t})"),
            by_risk.auc,
            num(&rr["auc"][k]),
            1e-6,
        );
        close(
            &format!("AUC of risks({t}) se, Score"),
            by_risk.se,
            num(&rr["se"][k]),
            1e-9,
        );
    }
    // Score(list(cox=fit), Surv(time,ev)~1, times, metrics='brier', cens.model='km')
    let r = &pbc.extra["brier_riskRegression"];
    for (k, t) in nums(&r["times"]).into_iter().enumerate() {
        let b = brier_with_null(time, &event, &risks(&f, &design, t), t, &censoring);
        close(
            &format!("Brier({t})"),
            b.brier,
            num(&r["brier_cox"][k]),
            1e-6,
        );
        close(
            &format!("null Brier({t})"),
            b.brier_null,
            num(&r["brier_null_km"][k]),
            1e-6,
        );
        close(&format!("IPA({t})"), b.ipa, num(&r["ipa_cox"][k]), 1e-6);
        close(&format!("Brier({t}) se"), b.se, num(&r["se_cox"][k]), 1e-6);
    }
    // Score(..., times=grid, summary='ibs'): 147 grid times up to 5 years
    let r = &pbc.extra["ibs_5y"];
    let tau = num(&r["tau"]);
    let km = KaplanMeier::fit(time, &event);
    let ibs = integrated_brier(time, &event, tau, &censoring, |i, t| {
        1.0 - f.survival(design.row(i), 0, t)
    });
    let ibs_null = integrated_brier(time, &event, tau, &censoring, |_, t| 1.0 - km.surv_at(t));
    close("IBS", ibs, num(&r["ibs_cox"]), 1e-6);
    close("null IBS", ibs_null, num(&r["ibs_null_km"]), 1e-6);
    close(
        "scaled IBS",
        1.0 - ibs / ibs_null,
        num(&r["scaled_ibs"]),
        1e-6,
    );

    // Deciles of 5-year risk; coxph(Surv(time,ev) ~ lp); O/E = (1 − KM(5y)) / mean(risk5)
    let r = &pbc.extra["calibration_5y_apparent"];
    let t = 1826.25;
    let risk5 = risks(&f, &design, t);
    for (g, rg) in risk_groups(time, &event, &risk5, t, 10)
        .iter()
        .zip(r["groups"].as_array().expect("groups"))
    {
        for (key, ours) in [
            ("n", g.n as f64),
            ("events_total", g.events_total as f64),
            ("events_by_t", g.events_by_t as f64),
        ] {
            assert_eq!(ours, num(&rg[key]), "decile {} {key}", g.group);
        }
        close(
            "decile mean risk",
            g.mean_predicted_risk,
            num(&rg["mean_predicted_risk"]),
            1e-9,
        );
        close(
            "decile observed",
            g.observed_risk_km,
            num(&rg["observed_risk_km"]),
            1e-9,
        );
        for (key, ours) in [
            ("km_se", g.km_se),
            ("observed_lower", g.observed_lower),
            ("observed_upper", g.observed_upper),
        ] {
            match (ours, rg[key].as_f64()) {
                (Some(o), Some(v)) if v != 0.0 => {
                    close(&format!("decile {} {key}", g.group), o, v, 1e-6)
                }
                (Some(o), Some(_)) => assert!(o.abs() < 1e-12, "decile {} {key}", g.group),
                (o, v) => assert_eq!(o, v, "decile {} {key}", g.group),
            }
        }
    }
    let s = slope(time, &event, &lp).expect("slope");
    close(
        "calibration slope",
        s.slope,
        num(&r["calibration_slope"]),
        1e-6,
    );
    close(
        "calibration slope se",
        s.se,
        num(&r["calibration_slope_se"]),
        1e-6,
    );
    let oe = observed_expected(time, &event, &risk5, t, |i, u| {
        -f.survival(design.row(i), 0, u).ln()
    });
    close(
        "observed 5y",
        oe.observed_risk_km,
        num(&r["observed_risk_km_5y"]),
        1e-9,
    );
    close(
        "mean predicted 5y",
        oe.mean_predicted_risk,
        num(&r["mean_predicted_risk_5y"]),
        1e-9,
    );
    close("O:E (KM)", oe.oe_ratio_km, num(&r["oe_ratio_5y"]), 1e-9);

    // ICI/E50/E90 (Austin et al. 2020): cph(Surv(time,ev) ~ rcs(cll,3)), observed =
    // 1 − survest(times=1826.25); a smoother, so within 1e-4
    let r = &pbc.extra["ici_5y_apparent"]["rcs3"];
    let cll: Vec<f64> = (0..design.rows())
        .map(|i| f.baseline[0].at(t).ln() + lp[i])
        .collect();
    let smooth = smoothed(time, &event, &cll, t).expect("smoothed calibration");
    for (k, knot) in nums(&r["knots"]).into_iter().enumerate() {
        close("rcs3 knot", smooth.knots[k], knot, 1e-9);
    }
    for (k, o) in nums(&r["smoothed_observed_first10"])
        .into_iter()
        .enumerate()
    {
        near(
            &format!("smoothed observed {k}"),
            smooth.observed[k],
            o,
            1e-5,
        );
    }
    // The drawn curve is the same smoother: at the first patients' own predicted risks it
    // gives R's smoothed observed risks (the curve's grid avoids patients' values).
    for (k, o) in nums(&r["smoothed_observed_first10"])
        .into_iter()
        .enumerate()
        .filter(|(k, _)| (0.01..0.99).contains(&(1.0 - (-cll[*k].exp()).exp())))
    {
        let risk = 1.0 - (-cll[k].exp()).exp();
        near(
            &format!("curve at row {k}"),
            smooth.observed_at(risk),
            o,
            1e-5,
        );
    }
    let risks: Vec<f64> = cll.iter().map(|c| 1.0 - (-c.exp()).exp()).collect();
    let curve = smooth.curve(&risks, 40);
    assert_eq!(curve.len(), 40);
    // Its ends are whole hundredths, and it runs across the 5th–95th percentiles.
    for end in [curve[0].predicted, curve[39].predicted] {
        assert!(((end * 100.0).round() - end * 100.0).abs() < 1e-9, "{end}");
    }
    assert!(curve.windows(2).all(|w| w[1].predicted > w[0].predicted));
    for (what, ours) in [
        ("ICI", smooth.ici),
        ("E50", smooth.e50),
        ("E90", smooth.e90),
        ("Emax", smooth.emax),
    ] {
        near(what, ours, num(&r[what]), 1e-5);
    }

    // dcurves::dca(Surv(time,ev) ~ risk5, time=1826.25, thresholds=seq(0.05,0.5,0.05))
    let r = &pbc.extra["decision_curve_5y"]["formula_implementation"];
    let thresholds = nums(&r["threshold"]);
    for (k, nb) in net_benefit(time, &event, &risk5, t, &thresholds)
        .iter()
        .enumerate()
    {
        close(
            "positive rate",
            nb.test_pos_rate,
            num(&r["test_pos_rate"][k]),
            1e-12,
        );
        close(
            &format!("net benefit at {}", nb.threshold),
            nb.model,
            num(&r["net_benefit"][k]),
            1e-9,
        );
        close(
            "treat all",
            nb.treat_all,
            num(&r["net_benefit_treat_all"][k]),
            1e-9,
        );
        close(
            "dcurves",
            nb.model,
            num(&pbc.extra["decision_curve_5y"]["dcurves"]["model"][k]),
            1e-9,
        );
    }
}

#[test]
fn a_split_sample_external_validation_equals_r() {
    let Some(pbc) = pbc() else { return };
    let r = &pbc.extra["split_validation"];
    let arm = |trt: &str| {
        let text = std::fs::read_to_string(&pbc.randomised_path).expect("rows");
        let mut lines = text.lines();
        let header = lines.next().unwrap_or_default();
        let kept: Vec<&str> = lines.filter(|l| l.split(',').nth(3) == Some(trt)).collect();
        let table = CohortTable::from_bytes(format!("{header}\n{}\n", kept.join("\n")).as_bytes())
            .expect("arm");
        Design::build(&table, &death(MODEL)).expect("design")
    };
    // Develop on trt == 1 (158), validate on trt == 2 (154), carrying only β and H0.
    let (dev, val) = (arm("1"), arm("2"));
    let f = fit(&dev, Ties::Efron);
    let d = &r["development"];
    assert_eq!((f.n, f.events), (158, 65));
    for (j, name) in f.names.iter().enumerate() {
        close(
            &format!("development {name}"),
            f.coef[j],
            num(&d["coef"][name]),
            1e-6,
        );
        close(
            &format!("development se {name}"),
            f.se()[j],
            num(&d["se"][name]),
            1e-6,
        );
    }
    for (t, s) in nums(&d["S0_uncentered"]["times"])
        .into_iter()
        .zip(nums(&d["S0_uncentered"]["surv"]))
    {
        close(&format!("S0({t})"), (-f.baseline[0].at(t)).exp(), s, 1e-9);
    }
    let v = &r["validation"];
    let (time, event) = (&val.time, val.event_flags());
    assert_eq!(
        (val.rows(), event.iter().filter(|e| **e).count()),
        (154, 60)
    );
    let lp: Vec<f64> = (0..val.rows())
        .map(|i| f.linear_predictor(val.row(i)))
        .collect();
    let t = 1826.25;
    let risk5 = risks(&f, &val, t);
    for (k, l) in nums(&v["lp_uncentered_first5"]).into_iter().enumerate() {
        close("validation lp", lp[k], l, 1e-9);
        close(
            "validation risk",
            risk5[k],
            num(&v["risk5_first5"][k]),
            1e-9,
        );
    }
    let c = |w, ymax| concordance(time, &event, &lp, w, ymax).expect("pairs");
    let harrell = c(TimeWeight::Harrell, None);
    close("validation C", harrell.c, num(&v["harrell_c"]), 1e-6);
    close("validation C se", harrell.se, num(&v["harrell_c_se"]), 1e-6);
    close(
        "validation C 5y",
        c(TimeWeight::Harrell, Some(t)).c,
        num(&v["harrell_c_truncated_5y"]),
        1e-6,
    );
    let uno = c(TimeWeight::Uno, Some(t));
    close(
        "validation Uno C",
        uno.c,
        num(&v["uno_c_truncated_5y"]),
        1e-6,
    );
    close(
        "validation Uno C se",
        uno.se,
        num(&v["uno_c_truncated_5y_se"]),
        1e-6,
    );
    let s = slope(time, &event, &lp).expect("slope");
    close(
        "validation slope",
        s.slope,
        num(&v["calibration_slope"]),
        1e-6,
    );
    close(
        "validation slope se",
        s.se,
        num(&v["calibration_slope_se"]),
        1e-6,
    );
    let oe = observed_expected(time, &event, &risk5, t, |i, u| {
        -f.survival(val.row(i), 0, u).ln()
    });
    close(
        "validation observed",
        oe.observed_risk_km,
        num(&v["observed_risk_km_5y"]),
        1e-9,
    );
    close(
        "validation mean risk",
        oe.mean_predicted_risk,
        num(&v["mean_predicted_risk_5y"]),
        1e-9,
    );
    close(
        "validation O:E (KM)",
        oe.oe_ratio_km,
        num(&v["oe_ratio_km_5y"]),
        1e-9,
    );
    assert_eq!(oe.observed_events as f64, num(&v["observed_events_5y"]));
    close(
        "validation expected events",
        oe.expected_events,
        num(&v["expected_events_5y"]),
        1e-9,
    );
    close(
        "validation O:E (counts)",
        oe.oe_ratio_counts,
        num(&v["oe_ratio_counts_5y"]),
        1e-9,
    );
    let censoring = Censoring::fit(time, &event);
    let a = auc(time, &event, &risk5, t, &censoring).expect("auc");
    close("validation AUC", a.auc, num(&v["auc_5y_timeROC"]), 1e-6);
    close(
        "validation AUC se, timeROC",
        a.se,
        num(&v["auc_5y_timeROC_se"]),
        1e-6,
    );
    close(
        "validation AUC se, Score",
        a.se,
        num(&v["auc_5y_riskRegression_se"]),
        1e-9,
    );
    let b = brier_with_null(time, &event, &risk5, t, &censoring);
    close("validation Brier", b.brier, num(&v["brier_5y"]), 1e-6);
    close(
        "validation null Brier",
        b.brier_null,
        num(&v["brier_5y_null_km"]),
        1e-6,
    );
    close("validation IPA", b.ipa, num(&v["ipa_5y"]), 1e-6);
}

fn cli(args: &[&str]) -> Value {
    common::run_cli_json(env!("CARGO_BIN_EXE_sarcoscope"), args)
}

#[test]
fn the_cli_prints_r_values_under_the_documented_keys() {
    let Some(pbc) = pbc() else { return };
    let csv = pbc.randomised_path.to_str().expect("path");
    for (ties, key) in [("efron", "cox_efron"), ("breslow", "cox_breslow")] {
        let fit = cli(&[
            "cohort",
            "fit",
            csv,
            "--time",
            "time",
            "--event",
            "status",
            "--event-value",
            "2",
            "--covariates",
            "age, edema, log(bili), log(albumin), log(protime)",
            "--ties",
            ties,
            "--json",
        ]);
        let r = &pbc.reference[key];
        assert_eq!(fit["n"], 312);
        assert_eq!(fit["events"], 125);
        assert_eq!(fit["ties"], ties);
        if ties == "efron" {
            // cox.zph(fit_efron) (transform "km"), term by term and GLOBAL.
            let zph = &pbc.extra["cox_zph"]["km"];
            let rows = fit["proportional_hazards"].as_array().expect("PH tests");
            assert_eq!(rows.len(), 6);
            for (k, row) in rows.iter().enumerate() {
                assert_eq!(row["term"], zph["terms"][k]);
                close(
                    "CLI zph chisq",
                    num(&row["test"]["chisq"]),
                    num(&zph["chisq"][k]),
                    1e-6,
                );
                close("CLI zph p", num(&row["test"]["p"]), num(&zph["p"][k]), 1e-6);
            }
        }
        for c in fit["coefficients"].as_array().expect("coefficients") {
            let name = c["name"].as_str().expect("name");
            close(
                &format!("CLI {key} {name}"),
                num(&c["coef"]),
                num(&r["coef"][name]),
                1e-6,
            );
            close(
                &format!("CLI {key} se {name}"),
                num(&c["se"]),
                num(&r["se"][name]),
                1e-6,
            );
            close(
                &format!("CLI {key} hr {name}"),
                num(&c["hr"]),
                num(&r["coef"][name]).exp(),
                1e-6,
            );
            for k in ["robust_se", "z", "p", "hr_lower", "hr_upper"] {
                assert!(c[k].is_number(), "{k}");
            }
        }
        for k in ["loglik_null", "loglik"] {
            close(&format!("CLI {key} {k}"), num(&fit[k]), num(&r[k]), 1e-9);
        }
        for k in ["lr_test", "wald_test", "score_test"] {
            close(
                &format!("CLI {key} {k}"),
                num(&fit[k]["chisq"]),
                num(&r[k]),
                1e-6,
            );
        }
        assert_eq!(fit["iterations"], r["iterations"]);
        if ties == "efron" {
            let c = &pbc.reference["concordance"];
            close(
                "CLI Harrell C",
                num(&fit["concordance"]["harrell"]),
                num(&c["harrell"]),
                1e-6,
            );
            close(
                "CLI Harrell C se",
                num(&fit["concordance"]["harrell_se"]),
                num(&c["harrell_se"]),
                1e-6,
            );
        }
    }
    let svg_path = pbc.randomised_path.with_extension("km.svg");
    let km = cli(&[
        "cohort",
        "km",
        pbc.path.to_str().expect("path"),
        "--time",
        "time",
        "--event",
        "status",
        "--event-value",
        "2",
        "--group",
        "edema",
        "--at",
        "365.25,1826.25,3652.5",
        "--conf",
        "log-log",
        "--json",
        "--svg",
        svg_path.to_str().expect("path"),
    ]);
    let svg = std::fs::read_to_string(&svg_path).expect("the plot is written");
    let _ = std::fs::remove_file(&svg_path);
    assert!(svg.starts_with("<svg") && svg.contains("Number at risk"));
    assert_eq!(
        svg.matches("stroke-width=\"2\"").count(),
        3,
        "one curve per edema group"
    );
    let groups = km["groups"].as_array().expect("groups");
    assert_eq!(groups.len(), 3);
    for g in groups {
        let r = &pbc.extra["km_by_edema_loglog"]
            [format!("edema={}", g["group"].as_str().expect("group"))];
        for (k, point) in g["at"].as_array().expect("at").iter().enumerate() {
            assert_eq!(point["n_risk"], r["n_risk"][k]);
            for key in ["surv", "std_err", "lower", "upper"] {
                match r[key][k].as_f64() {
                    Some(v) => close(&format!("CLI km {key}"), num(&point[key]), v, 1e-6),
                    None => assert!(point[key].is_null(), "{key} is NA in R"),
                }
            }
        }
        assert!(g["median"].is_object() && g["n"].is_number() && g["events"].is_number());
    }
    let r = &pbc.extra["logrank_edema_3groups"];
    close(
        "CLI log-rank",
        num(&km["logrank"]["chisq"]),
        num(&r["chisq"]),
        1e-6,
    );
    assert_eq!(km["logrank"]["df"], 2);
    close(
        "CLI log-rank p",
        num(&km["logrank"]["p"]),
        num(&r["p"]),
        1e-6,
    );
}

#[test]
fn cli_validate_prints_the_auc_and_brier_standard_errors_and_the_ibs_of_r() {
    let Some(pbc) = pbc() else { return };
    // The 312 randomised patients' own model rated on them: the apparent figures of
    // Score(list(cox=fit), Surv(time,ev)~1, data=p, times, metrics=c('auc','brier'),
    // cens.model='km', se.fit=TRUE) and timeROC(..., iid=TRUE).
    let csv = pbc.randomised_path.to_str().expect("path");
    let model = pbc
        .randomised_path
        .with_extension("se.sarcoscope-model.json");
    let outcome = ["--time", "time", "--event", "status", "--event-value", "2"];
    // 30 days: no death yet, so no AUC and no SE (null).
    let horizons = "30,365.25,1095.75,1826.25";
    let model_path = model.to_str().expect("path");
    cli(&[
        &["cohort", "fit", csv][..],
        &outcome,
        &[
            "--covariates",
            MODEL,
            "--model-out",
            model_path,
            "--horizons",
            horizons,
            "--json",
        ],
    ]
    .concat());
    let v = cli(&[
        &["cohort", "validate", csv][..],
        &outcome,
        &["--model", model_path, "--horizons", horizons, "--json"],
    ]
    .concat());
    let _ = std::fs::remove_file(&model);
    assert!(v["auc"][0]["auc"].is_null() && v["auc"][0]["se"].is_null());
    let (auc, brier) = (
        &pbc.extra["td_auc_timeROC"],
        &pbc.extra["brier_riskRegression"],
    );
    for k in 0..3 {
        let (a, b) = (&v["auc"][k + 1], &v["brier"][k + 1]);
        close("CLI AUC", num(&a["auc"]), num(&auc["auc"][k]), 1e-6);
        close("CLI AUC se", num(&a["se"]), num(&auc["se"][k]), 1e-6);
        close(
            "CLI Brier",
            num(&b["brier"]),
            num(&brier["brier_cox"][k]),
            1e-6,
        );
        close(
            "CLI Brier se",
            num(&b["se"]),
            num(&brier["se_cox"][k]),
            1e-6,
        );
    }
    // Score(..., times = all observed times up to 5 years, summary = "ibs"): to the
    // last horizon.
    let r = &pbc.extra["ibs_5y"];
    let ibs = &v["ibs"];
    close("CLI IBS tau", num(&ibs["tau"]), num(&r["tau"]), 1e-12);
    close("CLI IBS", num(&ibs["ibs"]), num(&r["ibs_cox"]), 1e-6);
    close(
        "CLI IBS, null",
        num(&ibs["ibs_null"]),
        num(&r["ibs_null_km"]),
        1e-6,
    );
    close(
        "CLI scaled IBS",
        num(&ibs["scaled"]),
        num(&r["scaled_ibs"]),
        1e-6,
    );
}

#[test]
fn a_model_file_carries_a_fit_to_another_centre_as_r_validates_it() {
    let Some(pbc) = pbc() else { return };
    let r = &pbc.extra["split_validation"];
    // Develop on trt == 1, write the model file; validate it on trt == 2 (R: the
    // development coefficients and baseline carried to the validation rows).
    let text = std::fs::read_to_string(&pbc.randomised_path).expect("rows");
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default().to_string();
    let rows: Vec<&str> = lines.collect();
    let dir = std::env::temp_dir().join(format!("sarcoscope-model-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("folder");
    let arm = |trt: &str| {
        let path = dir.join(format!("arm{trt}.csv"));
        let kept: Vec<&str> = rows
            .iter()
            .copied()
            .filter(|l| l.split(',').nth(3) == Some(trt))
            .collect();
        std::fs::write(&path, format!("{header}\n{}\n", kept.join("\n"))).expect("write");
        path
    };
    let (dev, val) = (arm("1"), arm("2"));
    let model = dir.join("pbc.sarcoscope-model.json");
    let report = dir.join("arm2.validation.json");
    let outcome = ["--time", "time", "--event", "status", "--event-value", "2"];
    let fit = cli(&[
        &["cohort", "fit", dev.to_str().expect("path")][..],
        &outcome,
        &[
            "--covariates",
            MODEL,
            "--model-out",
            model.to_str().expect("path"),
            "--horizons",
            "365.25,1095.75,1826.25",
            "--json",
        ],
    ]
    .concat());
    assert_eq!(fit["n"], 158);
    let file = ModelFile::from_json(&std::fs::read_to_string(&model).expect("model file"))
        .expect("reads back");
    let d = &r["development"];
    for (k, h) in file.content.horizons.iter().enumerate() {
        close(
            "published S0",
            h.survival_uncentred,
            num(&d["S0_uncentered"]["surv"][k]),
            1e-9,
        );
    }
    for (j, name) in file.content.names.iter().enumerate() {
        close(
            &format!("published {name}"),
            file.content.coefficients[j],
            num(&d["coef"][name]),
            1e-6,
        );
        close(
            &format!("published mean {name}"),
            file.content.means[j],
            num(&d["means"][name]),
            1e-12,
        );
    }
    // A centre validates the model file on its cohort and writes its aggregate report.
    let validate = |csv: &std::path::Path, report: &std::path::Path, centre: &str| {
        validate_with_report(csv, &outcome, &model, "1826.25", report, centre)
    };
    let v = validate(&val, &report, "arm 2");
    // The aggregate report carries the same figures, and no row of any patient.
    let sent: Value = serde_json::from_str(&std::fs::read_to_string(&report).expect("report"))
        .expect("report JSON");
    assert_eq!(sent["schema"], "sarcoscope-validation/1");
    assert_eq!(sent["centre"], "arm 2");
    assert_eq!(sent["figures"]["harrell_c"], v["harrell_c"]);
    assert_eq!(sent["figures"]["calibration"], v["calibration"]);
    assert_eq!(sent["figures"]["excluded"], serde_json::json!([]));
    assert_eq!(sent["deciles"].as_array().map(Vec::len), Some(10));
    // pbc's identifiers are row numbers (counts may equal them): its check is the
    // covariate vectors; the synthetic cohort below checks text identifiers.
    no_patient_row_in(
        &sent,
        &val,
        &[],
        &["age", "bili", "albumin", "protime", "edema"],
    );
    // The development centre pools two centres' reports (the same model file).
    let own = dir.join("arm1.validation.json");
    let apparent = validate(&dev, &own, "");
    let pooled = cli(&[
        "cohort",
        "pool",
        report.to_str().expect("path"),
        own.to_str().expect("path"),
        "--json",
    ]);
    let c = &pooled["c"]["Ok"];
    assert_eq!(c["k"], 2);
    assert_eq!(pooled["centres"], serde_json::json!(["arm 2", "centre 2"]));
    let (lo, hi) = {
        let (a, b) = (num(&v["harrell_c"]), num(&apparent["harrell_c"]));
        (a.min(b), a.max(b))
    };
    assert!((lo..=hi).contains(&num(&c["estimate"])), "{c}");
    assert!(
        c["prediction"].is_null(),
        "two centres give no prediction interval"
    );
    assert!(pooled["oe"]["Ok"]["estimate"].is_number());
    let r = &r["validation"];
    assert_eq!(
        (v["n"].as_u64(), v["events"].as_u64()),
        (Some(154), Some(60))
    );
    for (ours, key) in [
        (&v["harrell_c"], "harrell_c"),
        (&v["harrell_c_se"], "harrell_c_se"),
        (&v["uno_c"], "uno_c_truncated_5y"),
        (&v["uno_c_se"], "uno_c_truncated_5y_se"),
        (&v["calibration"][0]["slope"], "calibration_slope"),
        (&v["calibration"][0]["slope_se"], "calibration_slope_se"),
        (&v["calibration"][0]["oe"], "oe_ratio_km_5y"),
        (&v["calibration"][0]["oe_counts"], "oe_ratio_counts_5y"),
        (&v["auc"][0]["auc"], "auc_5y_timeROC"),
        (&v["auc"][0]["se"], "auc_5y_timeROC_se"),
        (&v["brier"][0]["brier"], "brier_5y"),
        (&v["brier"][0]["brier_null"], "brier_5y_null_km"),
        (&v["brier"][0]["ipa"], "ipa_5y"),
    ] {
        close(
            &format!("external validation {key}"),
            num(ours),
            num(&r[key]),
            1e-6,
        );
    }
    assert_eq!(v["net_benefit"].as_array().map(Vec::len), Some(10));
    // Smoothed calibration by rcs (R's reference here used hare, another smoother).
    for key in ["ici", "e50", "e90"] {
        let value = num(&v["calibration"][0][key]);
        assert!((0.0..0.2).contains(&value), "{key} = {value}");
    }

    // A damaged, cut-short or unknown file is refused in words.
    let good = std::fs::read_to_string(&model).expect("model file");
    let damaged = good.replacen("0.78223851", "0.78223852", 1);
    assert_ne!(damaged, good, "the coefficient is in the file");
    for (what, text, message) in [
        ("damaged", damaged, "changed or damaged"),
        ("cut short", good[..good.len() / 2].to_string(), "cut short"),
        (
            "another format",
            good.replacen("sarcoscope-model/1", "sarcoscope-model/9", 1),
            "cannot read",
        ),
    ] {
        let error = ModelFile::from_json(&text).expect_err(what).to_string();
        assert!(error.contains(message), "{what}: {error}");
        assert!(
            common::plain_language_problem(&error).is_none(),
            "{what}: {error}"
        );
    }
    // A horizon beyond the development follow-up is refused.
    let beyond = file
        .risk(&[50.0, 0.0, 0.0, 1.0, 2.3], 0, 1e6)
        .expect_err("horizon");
    assert!(beyond
        .to_string()
        .contains("beyond the development cohort's longest follow-up"));
    let _ = std::fs::remove_dir_all(dir);
}

/// `cohort validate` of `model` on `csv` at `horizons`, writing the aggregate report.
fn validate_with_report(
    csv: &std::path::Path,
    outcome: &[&str],
    model: &std::path::Path,
    horizons: &str,
    report: &std::path::Path,
    centre: &str,
) -> Value {
    cli(&[
        &["cohort", "validate", csv.to_str().expect("path")][..],
        outcome,
        &[
            "--model",
            model.to_str().expect("path"),
            "--horizons",
            horizons,
            "--report",
            report.to_str().expect("path"),
            "--centre",
            centre,
            "--json",
        ],
    ]
    .concat())
}

/// Every number and text of a JSON value, as written.
fn leaves(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Array(a) => a.iter().for_each(|v| leaves(v, out)),
        Value::Object(o) => o.values().for_each(|v| leaves(v, out)),
        Value::Number(n) => out.push(n.to_string()),
        Value::String(s) => out.push(s.clone()),
        _ => {}
    }
}

/// Asserts that `export` holds no identifier of the cohort at `csv` (its `ids`
/// columns, as text) and no patient's whole covariate vector (every value of the
/// `covariates` columns of one row).
fn no_patient_row_in(export: &Value, csv: &std::path::Path, ids: &[&str], covariates: &[&str]) {
    let mut values = Vec::new();
    leaves(export, &mut values);
    let numbers: Vec<f64> = values.iter().filter_map(|v| v.parse().ok()).collect();
    let table = CohortTable::from_bytes(&std::fs::read(csv).expect("cohort")).expect("table");
    let column = |name: &str| {
        table
            .column(name)
            .unwrap_or_else(|| panic!("column {name}"))
    };
    for row in 0..table.rows() {
        for id in ids {
            let cell = &column(id).cells[row];
            assert!(
                !values
                    .iter()
                    .any(|v| v == cell && v.parse::<f64>().is_err()),
                "identifier {cell} is in the export"
            );
        }
        let whole_vector = covariates.iter().all(|c| {
            column(c).cells[row]
                .parse::<f64>()
                .is_ok_and(|x| numbers.contains(&x))
        });
        assert!(
            !whole_vector,
            "the covariates of row {row} are all in the export"
        );
    }
}

#[test]
fn an_aggregate_report_holds_no_patient_row_and_suppresses_small_counts() {
    // A cohort with text identifiers and dates, and a factor with a rare level (3
    // patients): identifiers and dates must not travel, the rare level's count must not
    // be shown.
    let dir = std::env::temp_dir().join(format!("sarcoscope-aggregate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("folder");
    // A fixed linear congruential sequence: the same cohort on every run.
    let mut state = 20_261_201_u64;
    let mut below = |n: u64| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((state >> 33) % n) as usize
    };
    let mut lines = vec!["mrn,scan_date,time,status,meld,child".to_string()];
    for i in 0..120 {
        let meld = 8.0 + below(25) as f64 + below(100) as f64 / 100.0;
        let child = if i < 3 {
            "C"
        } else if i % 2 == 0 {
            "A"
        } else {
            "B"
        };
        let time = 30.0 + below(1800) as f64 * (30.0 / meld);
        let status = u8::from(below(40) < meld as usize);
        lines.push(format!(
            "MRN-{:06},2019-{:02}-{:02},{time},{status},{meld},{child}",
            4711 + i * 37,
            1 + i % 12,
            1 + i % 28
        ));
    }
    let csv = dir.join("centre.csv");
    std::fs::write(&csv, lines.join("\n") + "\n").expect("write");
    let model = dir.join("m.sarcoscope-model.json");
    let outcome = ["--time", "time", "--event", "status"];
    cli(&[
        &["cohort", "fit", csv.to_str().expect("path")][..],
        &outcome,
        &[
            "--covariates",
            "meld, factor(child)",
            "--model-out",
            model.to_str().expect("path"),
            "--horizons",
            "365",
            "--json",
        ],
    ]
    .concat());
    let report = dir.join("report.json");
    validate_with_report(&csv, &outcome, &model, "180,365", &report, "");
    let text = std::fs::read_to_string(&report).expect("report");
    for needle in ["MRN-", "2019-"] {
        assert!(!text.contains(needle), "'{needle}' is in the export");
    }
    let sent: Value = serde_json::from_str(&text).expect("JSON");
    no_patient_row_in(&sent, &csv, &["mrn", "scan_date"], &["meld", "time"]);
    let child = sent["case_mix"]
        .as_array()
        .and_then(|c| c.iter().find(|p| p["predictor"] == "factor(child)"))
        .expect("case mix of child");
    let level = |l: &str| {
        child["levels"]
            .as_array()
            .and_then(|ls| ls.iter().find(|x| x[0] == l))
            .map(|x| x[1].clone())
            .unwrap_or_else(|| panic!("level {l}"))
    };
    assert_eq!(level("C"), serde_json::json!("fewer_than_five"));
    assert_eq!(level("A"), serde_json::json!({"shown": 58}));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn bad_cohort_files_get_a_plain_message_never_a_panic() {
    let dir = std::env::temp_dir().join(format!("sarcoscope-cohort-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary folder");
    let many: String = (0..1_000_000)
        .map(|i| {
            format!(
                "{},{},{}\n",
                1 + i % 3650,
                u8::from(i % 7 == 0),
                (i % 97) as f64 / 10.0
            )
        })
        .collect();
    let cases: Vec<(&str, String, &str)> = vec![
        ("empty", String::new(), "the file is empty"),
        ("header only", "time,status,x\n".into(), "no patients"),
        (
            "ragged",
            "time,status,x\n1,1,2\n2,0\n".into(),
            "line 3: 2 fields where the header names 3",
        ),
        (
            "all censored",
            "time,status,x\n1,0,2\n2,0,3\n3,0,1\n".into(),
            "no patient had the event",
        ),
        (
            "constant",
            "time,status,x\n1,1,2\n2,0,2\n3,1,2\n".into(),
            "x has the same value for every patient",
        ),
        (
            "no column",
            "time,status,y\n1,1,2\n".into(),
            "there is no column 'x' in the file",
        ),
        (
            "text",
            "time,status,x\none,1,2\n".into(),
            "'one' is not a number",
        ),
        (
            "one event",
            "time,status,x\n1,1,2\n2,0,3\n3,0,1\n4,0,5\n".into(),
            "",
        ),
        (
            "separating",
            "time,status,x\n1,1,1\n2,1,1\n3,0,0\n4,0,0\n5,1,1\n6,0,0\n".into(),
            "grows without bound",
        ),
        ("a million rows", format!("time,status,x\n{many}"), ""),
    ];
    for (name, text, message) in cases {
        let path = dir.join(format!("{}.csv", name.replace(' ', "-")));
        std::fs::write(&path, text).expect("write");
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_sarcoscope"))
            .args([
                "cohort",
                "fit",
                path.to_str().expect("path"),
                "--time",
                "time",
                "--event",
                "status",
                "--covariates",
                "x",
                "--json",
            ])
            .output()
            .expect("runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
        assert!(
            stderr.contains(message),
            "{name}: expected '{message}' in: {stderr}"
        );
        if out.status.success() {
            let fit: Value = serde_json::from_slice(&out.stdout).expect("JSON");
            // Never NaN shown as a number: JSON has no NaN, so a NaN would be null.
            assert!(fit["coefficients"][0]["coef"].is_number(), "{name}: {fit}");
            // And the page reads what the worker sends: a null where a number belongs
            // would make the result unreadable there.
            let typed = serde_json::from_slice::<FitOutput>(&out.stdout);
            assert!(typed.is_ok(), "{name}: {typed:?}\n{fit}");
        } else {
            let last = stderr.trim().lines().last().unwrap_or_default();
            assert!(
                common::plain_language_problem(last).is_none(),
                "{name}: {stderr}"
            );
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn published_scores_without_a_baseline_rank_patients_as_a_score_column_does() {
    let dir = std::env::temp_dir().join(format!("sarcoscope-ranks-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("folder");
    let csv = dir.join("invented.csv");
    let path = |p: &std::path::Path| p.to_str().expect("path").to_owned();
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_sarcoscope"))
        .args([
            "cohort",
            "synth",
            "--n",
            "600",
            "--seed",
            "3",
            "--out",
            &path(&csv),
        ])
        .status()
        .expect("synth");
    assert!(status.success());
    let outcome = ["--time", "time", "--event", "status"];
    for key in ["meld_na", "meld_sarcopenia"] {
        let model = dir.join(format!("{key}.sarcoscope-model.json"));
        let status = std::process::Command::new(env!("CARGO_BIN_EXE_sarcoscope"))
            .args(["cohort", "published", key, "--out", &path(&model)])
            .status()
            .expect("published");
        assert!(status.success());
        let report = dir.join(format!("{key}.validation.json"));
        let v = validate_with_report(&csv, &outcome, &model, "90,365", &report, "invented");
        let score = cli(&[
            &["cohort", "validate", &path(&csv)][..],
            &outcome,
            &["--score", key, "--horizons", "90,365", "--json"],
        ]
        .concat());
        for k in ["harrell_c", "harrell_c_se", "uno_c", "auc"] {
            assert_eq!(
                v[k], score[k],
                "{key} {k}: the file ranks as the column does"
            );
        }
        for k in ["brier", "calibration", "net_benefit"] {
            assert_eq!(v[k], serde_json::json!([]), "{key}: no probability, no {k}");
        }
        let warning = v["warnings"].to_string();
        assert!(warning.contains("no baseline survival"), "{warning}");
        let sent: Value =
            serde_json::from_slice(&std::fs::read(&report).expect("report")).expect("JSON");
        assert_eq!(sent["deciles"], serde_json::json!([]));
        assert_eq!(sent["risk_groups"].as_array().map(Vec::len), Some(3));
    }
    let _ = std::fs::remove_dir_all(dir);
}
