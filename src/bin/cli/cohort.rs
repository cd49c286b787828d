//! `sarcoscope cohort fit|validate|km`: survival statistics on a cohort CSV, with the JSON keys
//! the issue fixed so that others can script against them. The work is in
//! `sarcoscope::survival`; this file reads arguments and prints.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use sarcoscope::survival::bootstrap::{optimism, Optimism};
use sarcoscope::survival::calibration::{observed_expected, slope, smoothed};
use sarcoscope::survival::concordance::{concordance, TimeWeight};
use sarcoscope::survival::cox::{self, Coefficient, Test, Ties};
use sarcoscope::survival::decision::net_benefit;
use sarcoscope::survival::design::{Design, Exclusion, Outcome, Roles, TermSpec};
use sarcoscope::survival::ipcw::Censoring;
use sarcoscope::survival::km::{ConfType, KaplanMeier, KmPoint, Median};
use sarcoscope::survival::logrank::log_rank;
use sarcoscope::survival::model::{Describe, ModelFile};
use sarcoscope::survival::performance::{auc, brier_with_null};
use sarcoscope::survival::plot::KmPlot;
use sarcoscope::survival::table::CohortTable;
use serde::Serialize;

use super::Failure;

#[derive(Subcommand)]
pub enum CohortCommand {
    /// Fit a Cox proportional-hazards model (as R's coxph): coefficients, hazard ratios,
    /// tests and Harrell's C.
    Fit {
        #[command(flatten)]
        outcome: OutcomeArgs,
        /// Covariates as in R: age,log(bili),rcs(albumin,4),factor(edema).
        #[arg(long)]
        covariates: String,
        /// How tied event times are handled.
        #[arg(long, default_value = "efron", value_parser = parse_ties)]
        ties: Ties,
        /// A column whose levels get their own baseline hazard.
        #[arg(long)]
        strata: Option<String>,
        /// Write the fitted model as a sealed model file (*.sarcoscope-model.json).
        #[arg(long)]
        model_out: Option<PathBuf>,
        /// The horizons the model file publishes S0 at (time column's unit).
        #[arg(long, value_delimiter = ',')]
        horizons: Vec<f64>,
        /// The model's name in its file.
        #[arg(long, default_value = "Cox model")]
        name: String,
        /// Bootstrap refits for optimism-corrected C, slope and (with --horizons) the
        /// Brier score at the last horizon, as rms::validate (0: none).
        #[arg(long, default_value_t = 0)]
        bootstrap: usize,
        /// The bootstrap's seed: the same seed gives the same figures everywhere.
        #[arg(long, default_value_t = 20261201)]
        seed: u64,
        #[arg(long)]
        json: bool,
    },
    /// How well an existing risk score separates outcomes in this cohort: Harrell's and
    /// Uno's C and the time-dependent AUC at each horizon.
    Validate {
        #[command(flatten)]
        outcome: OutcomeArgs,
        /// A column that already holds a risk score, higher meaning higher risk (MELD).
        #[arg(long, conflicts_with = "model", required_unless_present = "model")]
        score: Option<String>,
        /// A model file: its predicted risks are rated (discrimination, Brier,
        /// calibration, net benefit), its predictors read from columns of the same names.
        #[arg(long)]
        model: Option<PathBuf>,
        /// Horizons in the time column's unit: 365.25,1826.25. Uno's C is truncated at
        /// the last one.
        #[arg(long, value_delimiter = ',')]
        horizons: Vec<f64>,
        #[arg(long)]
        json: bool,
    },
    /// Kaplan–Meier survival at chosen times, by group, with the log-rank test.
    Km {
        #[command(flatten)]
        outcome: OutcomeArgs,
        /// A column to compare groups by.
        #[arg(long)]
        group: Option<String>,
        /// Times to read the curves at, in the time column's unit: 365.25,1826.25.
        #[arg(long, value_delimiter = ',', required = true)]
        at: Vec<f64>,
        /// The scale of the confidence interval: log (R's default), log-log or plain.
        #[arg(long, default_value = "log", value_parser = parse_conf)]
        conf: ConfType,
        /// Also draw the curves, with the numbers at risk at --at, as an SVG file.
        #[arg(long)]
        svg: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
pub struct OutcomeArgs {
    /// The cohort table (CSV: commas or semicolons, decimal point or comma).
    csv: PathBuf,
    /// The follow-up time column.
    #[arg(long)]
    time: String,
    /// The event indicator column.
    #[arg(long)]
    event: String,
    /// The event indicator's value for the event studied; other values are censored.
    #[arg(long, default_value = "1")]
    event_value: String,
}

fn parse_ties(s: &str) -> Result<Ties, String> {
    Ties::parse(s).ok_or_else(|| format!("'{s}': ties are efron or breslow"))
}

fn parse_conf(s: &str) -> Result<ConfType, String> {
    ConfType::parse(s).ok_or_else(|| format!("'{s}': the interval is log, log-log or plain"))
}

pub fn run(command: CohortCommand) -> Result<(), Failure> {
    match command {
        CohortCommand::Fit {
            outcome,
            covariates,
            ties,
            strata,
            model_out,
            horizons,
            name,
            bootstrap,
            seed,
            json,
        } => {
            let validation = (bootstrap > 0).then(|| Bootstrap {
                b: bootstrap,
                seed,
                horizon: horizons.iter().copied().reduce(f64::max),
            });
            let roles = Roles {
                covariates: TermSpec::parse_list(&covariates)?,
                strata,
                ..outcome.roles()
            };
            let publish = model_out.map(|path| Publish {
                path,
                describe: Describe {
                    name,
                    description: format!(
                        "coxph(Surv({}, {} == {}) ~ {covariates})",
                        outcome.time, outcome.event, outcome.event_value
                    ),
                    time_unit: String::new(),
                    outcome: format!("{} = {}", outcome.event, outcome.event_value),
                    horizons,
                    strata: roles.strata.clone(),
                    ..Describe::default()
                },
            });
            fit(&outcome.csv, &roles, ties, publish, validation, json)
        }
        CohortCommand::Validate {
            outcome,
            score,
            model,
            horizons,
            json,
        } => match (score, model) {
            (Some(score), _) => {
                let roles = Roles {
                    covariates: vec![TermSpec::parse(&score)?],
                    ..outcome.roles()
                };
                validate(&outcome.csv, &roles, &horizons, json)
            }
            (None, Some(model)) => validate_model(&outcome, &model, &horizons, json),
            (None, None) => Err("give --score COLUMN or --model FILE".into()),
        },
        CohortCommand::Km {
            outcome,
            group,
            at,
            conf,
            svg,
            json,
        } => {
            let roles = Roles {
                group,
                ..outcome.roles()
            };
            let time_label = outcome.time.clone();
            km(
                &outcome.csv,
                &roles,
                &at,
                conf,
                svg.map(|path| (path, time_label)),
                json,
            )
        }
    }
}

impl OutcomeArgs {
    fn roles(&self) -> Roles {
        Roles {
            outcome: Outcome {
                time: self.time.clone(),
                event: self.event.clone(),
                event_value: self.event_value.clone(),
                competing_value: None,
                censored_values: None,
            },
            covariates: Vec::new(),
            strata: None,
            group: None,
        }
    }
}

fn design(path: &Path, roles: &Roles) -> Result<Design, Failure> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let table = CohortTable::from_bytes(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    let design = Design::build(&table, roles)?;
    report_design(&design, roles);
    Ok(design)
}

/// On stderr: the rows left out and the codes read as censored, so that nothing is
/// dropped or recoded unseen.
fn report_design(design: &Design, roles: &Roles) {
    if !design.excluded.is_empty() {
        eprintln!(
            "{} row(s) left out ({} with a bad cell):",
            design.excluded.len(),
            design
                .excluded
                .iter()
                .filter(|e| e.reason.is_bad_cell())
                .count()
        );
        for e in &design.excluded {
            eprintln!("  {e}");
        }
    }
    let codes: Vec<String> = design
        .censored_codes
        .iter()
        .map(|(c, n)| format!("'{c}' ({n})"))
        .collect();
    if !codes.is_empty() {
        eprintln!(
            "{}: event = '{}'; read as censored: {}",
            roles.outcome.event,
            roles.outcome.event_value,
            codes.join(", ")
        );
    }
}

#[derive(Serialize)]
struct FitOutput {
    n: usize,
    events: usize,
    ties: Ties,
    coefficients: Vec<Coefficient>,
    loglik_null: f64,
    loglik: f64,
    lr_test: Test,
    wald_test: Test,
    score_test: Test,
    iterations: usize,
    concordance: ConcordanceOutput,
    /// Optimism-corrected figures, when --bootstrap was asked for.
    bootstrap: Option<Optimism>,
    warnings: Vec<String>,
    excluded: Vec<Exclusion>,
}

#[derive(Serialize)]
struct ConcordanceOutput {
    harrell: f64,
    harrell_se: f64,
}

/// How many bootstrap refits, from which seed, and the Brier score's horizon.
struct Bootstrap {
    b: usize,
    seed: u64,
    horizon: Option<f64>,
}

/// Where and how to write the model file of a fit.
struct Publish {
    path: PathBuf,
    describe: Describe,
}

fn fit(
    path: &Path,
    roles: &Roles,
    ties: Ties,
    publish: Option<Publish>,
    validation: Option<Bootstrap>,
    json: bool,
) -> Result<(), Failure> {
    let design = design(path, roles)?;
    let event = design.event_flags();
    let model = cox::fit_design(&design, ties)?;
    let lp: Vec<f64> = (0..design.rows())
        .map(|i| model.linear_predictor(design.row(i)))
        .collect();
    let c = concordance(&design.time, &event, &lp, TimeWeight::Harrell, None)
        .ok_or("no pair of patients can be compared (too few events)")?;
    let output = FitOutput {
        n: model.n,
        events: model.events,
        ties,
        coefficients: model.coefficients(0.95),
        loglik_null: model.loglik_null,
        loglik: model.loglik,
        lr_test: model.lr_test,
        wald_test: model.wald_test,
        score_test: model.score_test,
        iterations: model.iterations,
        concordance: ConcordanceOutput {
            harrell: c.c,
            harrell_se: c.se,
        },
        bootstrap: match validation {
            None => None,
            Some(v) => optimism(&design, ties, v.horizon, v.b, v.seed, |done, total| {
                if done % (total / 10).max(1) == 0 {
                    eprintln!("bootstrap: {done} of {total} refits");
                }
                true
            })?,
        },
        warnings: model.warnings(),
        excluded: design.excluded.clone(),
    };
    for w in &output.warnings {
        eprintln!("warning: {w}");
    }
    if let Some(publish) = publish {
        let file = ModelFile::from_fit(&model, &design, publish.describe, (c.c, c.se))?;
        std::fs::write(&publish.path, file.to_json())
            .map_err(|e| format!("cannot write {}: {e}", publish.path.display()))?;
        eprintln!("model file written: {}", publish.path.display());
    }
    if json {
        out!("{}", serde_json::to_string_pretty(&output)?);
        return Ok(());
    }
    out!(
        "n = {}, events = {}, ties: {:?}",
        output.n,
        output.events,
        ties
    );
    out!(
        "{:<24} {:>10} {:>9} {:>9} {:>8} {:>10} {:>9}  95% CI",
        "",
        "coef",
        "se",
        "robust",
        "z",
        "p",
        "HR"
    );
    for c in &output.coefficients {
        out!(
            "{:<24} {:>10.5} {:>9.5} {:>9.5} {:>8.3} {:>10.3e} {:>9.4}  {:.4}–{:.4}",
            c.name,
            c.coef,
            c.se,
            c.robust_se,
            c.z,
            c.p,
            c.hr,
            c.hr_lower,
            c.hr_upper
        );
    }
    out!(
        "log-likelihood {:.4} (null {:.4}); {} iterations",
        model.loglik,
        model.loglik_null,
        model.iterations
    );
    for (name, t) in [
        ("likelihood ratio", model.lr_test),
        ("Wald", model.wald_test),
        ("score", model.score_test),
    ] {
        out!(
            "{name} test: {:.3} on {} df, p = {}",
            t.chisq,
            t.df,
            p_text(t.p)
        );
    }
    out!("Harrell's C {:.4} (se {:.4})", c.c, c.se);
    if let Some(b) = &output.bootstrap {
        out!(
            "bootstrap ({} refits, seed {}): C {:.4} → {:.4} corrected; slope {:.3}",
            b.b,
            b.seed,
            b.apparent.c,
            b.corrected.c,
            b.corrected.slope
        );
    }
    Ok(())
}

/// `cohort validate`: the same keys for a score column and for a model file; with a
/// score, which is not a probability, `brier`, `calibration` and `net_benefit` stay
/// empty and a warning says why.
#[derive(Serialize)]
struct ValidateOutput {
    /// The model file's name, or the score column.
    rated: String,
    n: usize,
    events: usize,
    harrell_c: f64,
    harrell_c_se: f64,
    uno_c: Option<f64>,
    uno_c_se: Option<f64>,
    /// The truncation time of Uno's C (the last horizon), if any.
    uno_tau: Option<f64>,
    auc: Vec<AucAt>,
    brier: Vec<BrierAt>,
    calibration: Vec<CalibrationAt>,
    net_benefit: Vec<NetBenefitAt>,
    warnings: Vec<String>,
    excluded: Vec<Exclusion>,
}

#[derive(Serialize)]
struct AucAt {
    time: f64,
    auc: Option<f64>,
}

#[derive(Serialize)]
struct BrierAt {
    time: f64,
    brier: f64,
    brier_null: f64,
    ipa: f64,
}

#[derive(Serialize)]
struct CalibrationAt {
    time: f64,
    slope: f64,
    slope_se: f64,
    /// (1 − KM(t)) / mean predicted risk.
    oe: f64,
    /// Events by t / expected events by t.
    oe_counts: f64,
    /// Smoothed calibration (Austin et al. 2020, rcs of cll with 3 knots): mean, median
    /// and 90th percentile of |predicted − smoothed observed|; null where it cannot be
    /// fitted (a warning says why).
    ici: Option<f64>,
    e50: Option<f64>,
    e90: Option<f64>,
}

#[derive(Serialize)]
struct NetBenefitAt {
    time: f64,
    threshold: f64,
    model: f64,
    treat_all: f64,
}

/// Decision thresholds 5 %, 10 %, … 50 %.
const THRESHOLDS: [f64; 10] = [0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5];

/// Discrimination of `score` (higher = sooner) and, per horizon, the AUC of what
/// `marker_at(t)` gives (the score itself, or a model's risk by t).
fn discrimination(
    rated: String,
    design: &Design,
    score: &[f64],
    horizons: &[f64],
    marker_at: impl Fn(f64) -> Result<Vec<f64>, Failure>,
) -> Result<ValidateOutput, Failure> {
    let (time, event) = (&design.time, design.event_flags());
    let last = time.iter().copied().fold(0.0, f64::max);
    if let Some(&h) = horizons.iter().find(|&&h| h > last) {
        return Err(format!(
            "the horizon {h} lies beyond this cohort's longest follow-up ({last}): nothing can be said there"
        )
        .into());
    }
    let harrell = concordance(time, &event, score, TimeWeight::Harrell, None)
        .ok_or("no pair of patients can be compared (too few events)")?;
    let tau = horizons.iter().copied().reduce(f64::max);
    let uno = concordance(time, &event, score, TimeWeight::Uno, tau);
    let censoring = Censoring::fit(time, &event);
    let auc = horizons
        .iter()
        .map(|&t| {
            Ok(AucAt {
                time: t,
                auc: auc(time, &event, &marker_at(t)?, t, &censoring),
            })
        })
        .collect::<Result<_, Failure>>()?;
    Ok(ValidateOutput {
        rated,
        n: design.rows(),
        events: design.events(),
        harrell_c: harrell.c,
        harrell_c_se: harrell.se,
        uno_c: uno.map(|c| c.c),
        uno_c_se: uno.map(|c| c.se),
        uno_tau: tau,
        auc,
        brier: Vec::new(),
        calibration: Vec::new(),
        net_benefit: Vec::new(),
        warnings: Vec::new(),
        excluded: design.excluded.clone(),
    })
}

fn validate(path: &Path, roles: &Roles, horizons: &[f64], json: bool) -> Result<(), Failure> {
    let design = design(path, roles)?;
    let score: Vec<f64> = (0..design.rows()).map(|i| design.row(i)[0]).collect();
    let rated = roles.covariates[0].to_string();
    let mut output = discrimination(rated, &design, &score, horizons, |_| Ok(score.clone()))?;
    output.warnings.push(
        "a score is not a probability: Brier score, calibration and net benefit need a model file"
            .into(),
    );
    print_validation(&output, json)
}

fn validate_model(
    outcome: &OutcomeArgs,
    path: &Path,
    horizons: &[f64],
    json: bool,
) -> Result<(), Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let model = ModelFile::from_json(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let terms = model.terms();
    let roles = Roles {
        covariates: terms.iter().map(|t| t.spec.clone()).collect(),
        strata: model
            .content
            .strata
            .as_ref()
            .map(|(column, _)| column.clone()),
        ..outcome.roles()
    };
    let bytes = std::fs::read(&outcome.csv)
        .map_err(|e| format!("cannot read {}: {e}", outcome.csv.display()))?;
    let table =
        CohortTable::from_bytes(&bytes).map_err(|e| format!("{}: {e}", outcome.csv.display()))?;
    let design = Design::with_terms(&table, &roles, &terms)?;
    report_design(&design, &roles);
    // A stratum of the validation cohort is matched to the model's by its level.
    let strata: Vec<usize> = match &model.content.strata {
        None => vec![0; design.rows()],
        Some((_, levels)) => design
            .strata
            .iter()
            .map(|&s| {
                levels
                    .iter()
                    .position(|l| *l == design.strata_levels[s])
                    .ok_or_else(|| {
                        format!(
                            "stratum '{}' is not one the model was fitted with",
                            design.strata_levels[s]
                        )
                    })
            })
            .collect::<Result<_, _>>()?,
    };
    let (time, event, n) = (&design.time, design.event_flags(), design.rows());
    let lp: Vec<f64> = (0..n)
        .map(|i| model.linear_predictor(design.row(i)))
        .collect();
    let risk_at = |t: f64| -> Result<Vec<f64>, Failure> {
        Ok((0..n)
            .map(|i| model.risk(design.row(i), strata[i], t))
            .collect::<Result<_, _>>()?)
    };
    let mut output = discrimination(model.content.name.clone(), &design, &lp, horizons, risk_at)?;
    let censoring = Censoring::fit(time, &event);
    let slope = slope(time, &event, &lp)?;
    for &t in horizons {
        let risk = risk_at(t)?;
        let b = brier_with_null(time, &event, &risk, t, &censoring);
        output.brier.push(BrierAt {
            time: t,
            brier: b.brier,
            brier_null: b.brier_null,
            ipa: b.ipa,
        });
        let cll: Vec<f64> = (0..n)
            .map(|i| model.cumulative_hazard(design.row(i), strata[i], t).ln())
            .collect();
        let smooth = if cll.iter().all(|c| c.is_finite()) {
            smoothed(time, &event, &cll, t)
                .map_err(|e| {
                    output
                        .warnings
                        .push(format!("smoothed calibration at {t}: {e}"))
                })
                .ok()
        } else {
            output.warnings.push(format!(
                "smoothed calibration at {t}: some predicted risks are 0"
            ));
            None
        };
        let oe = observed_expected(time, &event, &risk, t, |i, s| {
            model.cumulative_hazard(design.row(i), strata[i], s)
        });
        output.calibration.push(CalibrationAt {
            time: t,
            slope: slope.slope,
            slope_se: slope.se,
            oe: oe.oe_ratio_km,
            oe_counts: oe.oe_ratio_counts,
            ici: smooth.as_ref().map(|s| s.ici),
            e50: smooth.as_ref().map(|s| s.e50),
            e90: smooth.as_ref().map(|s| s.e90),
        });
        output.net_benefit.extend(
            net_benefit(time, &event, &risk, t, &THRESHOLDS)
                .into_iter()
                .map(|x| NetBenefitAt {
                    time: t,
                    threshold: x.threshold,
                    model: x.model,
                    treat_all: x.treat_all,
                }),
        );
    }
    print_validation(&output, json)
}

fn print_validation(output: &ValidateOutput, json: bool) -> Result<(), Failure> {
    if json {
        out!("{}", serde_json::to_string_pretty(output)?);
        return Ok(());
    }
    out!(
        "{} on n = {}, events = {}",
        output.rated,
        output.n,
        output.events
    );
    out!(
        "Harrell's C {:.4} (se {:.4})",
        output.harrell_c,
        output.harrell_c_se
    );
    if let (Some(c), Some(se)) = (output.uno_c, output.uno_c_se) {
        let to = output
            .uno_tau
            .map_or_else(String::new, |t| format!(" to {t}"));
        out!("Uno's C{to} {c:.4} (se {se:.4})");
    }
    for a in &output.auc {
        let value = a
            .auc
            .map_or_else(|| "– (no case or no control)".into(), |v| format!("{v:.4}"));
        out!("AUC at {}: {value}", a.time);
    }
    for (b, c) in output.brier.iter().zip(&output.calibration) {
        out!(
            "t = {}: Brier {:.4} (null {:.4}, IPA {:.3}); slope {:.3} (se {:.3}); O:E {:.3} (counts {:.3})",
            b.time, b.brier, b.brier_null, b.ipa, c.slope, c.slope_se, c.oe, c.oe_counts
        );
    }
    for w in &output.warnings {
        out!("note: {w}");
    }
    Ok(())
}

fn p_text(p: Option<f64>) -> String {
    p.map_or_else(|| "not defined".into(), |p| format!("{p:.3e}"))
}

#[derive(Serialize)]
struct KmOutput {
    groups: Vec<KmGroup>,
    logrank: Option<Test>,
}

#[derive(Serialize)]
struct KmGroup {
    group: String,
    n: usize,
    events: usize,
    at: Vec<KmPoint>,
    median: Median,
}

fn km(
    path: &Path,
    roles: &Roles,
    at: &[f64],
    conf: ConfType,
    svg: Option<(PathBuf, String)>,
    json: bool,
) -> Result<(), Failure> {
    let design = design(path, roles)?;
    let event = design.event_flags();
    let label = |level: &String| {
        if roles.group.is_some() {
            level.clone()
        } else {
            "all".into()
        }
    };
    let curves: Vec<(String, KaplanMeier)> = design
        .group_levels
        .iter()
        .enumerate()
        .map(|(g, level)| {
            let rows: Vec<usize> = (0..design.rows())
                .filter(|&i| design.group[i] == g)
                .collect();
            let time: Vec<f64> = rows.iter().map(|&i| design.time[i]).collect();
            let ev: Vec<bool> = rows.iter().map(|&i| event[i]).collect();
            (label(level), KaplanMeier::fit(&time, &ev))
        })
        .collect();
    if let Some((file, time_label)) = svg {
        let plot = KmPlot {
            groups: curves.iter().map(|(l, c)| (l.clone(), c)).collect(),
            ticks: at.to_vec(),
            time_label,
            interval: None,
        };
        std::fs::write(&file, plot.svg())
            .map_err(|e| format!("cannot write {}: {e}", file.display()))?;
    }
    let groups = curves
        .iter()
        .map(|(group, curve)| KmGroup {
            group: group.clone(),
            n: curve.n,
            events: curve.events,
            at: at.iter().map(|&t| curve.at(t, conf, 0.95)).collect(),
            median: curve.median(conf, 0.95),
        })
        .collect();
    let logrank = roles.group.as_ref().and_then(|_| {
        log_rank(&design.time, &event, &design.group, &design.strata, 0.0).map(|t| Test {
            chisq: t.chisq,
            df: t.df,
            p: t.p,
        })
    });
    let output = KmOutput { groups, logrank };
    if json {
        out!("{}", serde_json::to_string_pretty(&output)?);
        return Ok(());
    }
    let value = |v: Option<f64>| v.map_or_else(|| "–".into(), |v| format!("{v:.4}"));
    for g in &output.groups {
        out!(
            "{}: n = {}, events = {}, median {} ({}–{})",
            g.group,
            g.n,
            g.events,
            value(g.median.time),
            value(g.median.lower),
            value(g.median.upper)
        );
        for p in &g.at {
            out!(
                "  t = {:<10} at risk {:>5}  S = {:.4}  se {}  95% CI {}–{}",
                p.time,
                p.n_risk,
                p.surv,
                value(p.std_err),
                value(p.lower),
                value(p.upper)
            );
        }
    }
    if let Some(t) = &output.logrank {
        out!(
            "log-rank: {:.3} on {} df, p = {}",
            t.chisq,
            t.df,
            p_text(t.p)
        );
    }
    Ok(())
}
