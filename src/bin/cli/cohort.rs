//! `sarcoscope cohort fit|validate|km`: survival statistics on a cohort CSV, with the JSON keys
//! the issue fixed so that others can script against them. The work is in
//! `sarcoscope::survival`; this file reads arguments and prints.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use sarcoscope::survival::aggregate::ValidationReport;
use sarcoscope::survival::analysis::{
    self, km_curves, km_summary, Applied, BootstrapPlan, ValidateOutput,
};
use sarcoscope::survival::cox::Ties;
use sarcoscope::survival::design::{Design, Outcome, Roles, TermSpec};
use sarcoscope::survival::km::ConfType;
use sarcoscope::survival::model::{Describe, ModelFile};
use sarcoscope::survival::plot::KmPlot;
use sarcoscope::survival::pooling::synthesise;
use sarcoscope::survival::table::CohortTable;

use super::{write_file, Failure};

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
        /// The time column's unit, as the model file states it (days, months).
        #[arg(long, default_value = "")]
        time_unit: String,
        /// Bootstrap refits for optimism-corrected C, slope and (with --horizons) the
        /// Brier score at the last horizon, as rms::validate (0: none).
        #[arg(long, default_value_t = 0)]
        bootstrap: usize,
        /// The bootstrap's seed: the same seed gives the same figures everywhere.
        #[arg(long, default_value_t = 20261201)]
        seed: u64,
        /// Write each column's β(t) plot (scaled Schoenfeld residuals with the smooth of
        /// plot(cox.zph(fit))) as an SVG file in this folder.
        #[arg(long)]
        zph_plots: Option<PathBuf>,
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
        /// With --model: also write the aggregate-only validation report (JSON; no row
        /// of any patient, counts under 5 suppressed) for the development centre.
        #[arg(long, requires = "model")]
        report: Option<PathBuf>,
        /// The validating centre's name in the report.
        #[arg(long, default_value = "")]
        centre: String,
        #[arg(long)]
        json: bool,
    },
    /// Pool centres' validation reports (written by `validate --report` or the app):
    /// C, O:E and the calibration slope by random-effects meta-analysis (REML, HKSJ).
    Pool {
        /// The reports, one per centre, all of the same model file.
        reports: Vec<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// The published scores shipped as model files (MELD, MELD-Na, MELD 3.0,
    /// MELD-Sarcopenia): list them, or write one (to validate it with `validate --model`).
    Published {
        /// meld, meld_na, meld3 or meld_sarcopenia; without it, the list.
        key: Option<String>,
        #[arg(long, requires = "key")]
        out: Option<PathBuf>,
    },
    /// Write an invented cirrhosis cohort (nobody in it exists), the same for a seed
    /// everywhere: for benchmarks and trying the statistics without patient data.
    Synth {
        /// How many invented patients.
        #[arg(long, default_value_t = 1000)]
        n: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The CSV file to write (standard output without).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Competing risks (as cmprsk): the cumulative incidence of the event and of the
    /// competing event at chosen times, by group, with Gray's test; with --covariates,
    /// the Fine–Gray model of the event.
    Competing {
        #[command(flatten)]
        outcome: OutcomeArgs,
        /// The event indicator's value for the competing event (a transplant).
        #[arg(long)]
        competing_value: String,
        /// A column to compare groups by (Gray's test).
        #[arg(long)]
        group: Option<String>,
        /// A column whose levels stratify Gray's test.
        #[arg(long)]
        strata: Option<String>,
        /// Covariates of the Fine–Gray model, as in R: log(bili),age.
        #[arg(long)]
        covariates: Option<String>,
        /// Times to read the incidences at, in the time column's unit.
        #[arg(long, value_delimiter = ',', required = true)]
        at: Vec<f64>,
        /// Also draw the incidences, with the numbers at risk at --at, as an SVG file.
        #[arg(long)]
        svg: Option<PathBuf>,
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
            time_unit,
            bootstrap,
            seed,
            zph_plots,
            json,
        } => {
            let validation = (bootstrap > 0).then(|| BootstrapPlan {
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
                describe: Describe::cox(&roles, name, time_unit, horizons),
            });
            let written = Written {
                model: publish,
                zph_plots,
            };
            fit(&outcome.csv, &roles, ties, written, validation, json)
        }
        CohortCommand::Validate {
            outcome,
            score,
            model,
            horizons,
            report,
            centre,
            json,
        } => match (score, model) {
            (Some(score), _) => {
                let roles = Roles {
                    covariates: vec![TermSpec::parse(&score)?],
                    ..outcome.roles()
                };
                validate(&outcome.csv, &roles, &horizons, json)
            }
            (None, Some(model)) => {
                let report = report.map(|path| (path, centre));
                validate_model(&outcome, &model, &horizons, report, json)
            }
            (None, None) => Err("give --score COLUMN or --model FILE".into()),
        },
        CohortCommand::Pool { reports, json } => pool(&reports, json),
        CohortCommand::Published { key, out } => published(key.as_deref(), out),
        CohortCommand::Synth { n, seed, out } => {
            let text = sarcoscope::survival::synthetic::cohort_csv(n, seed);
            match out {
                Some(path) => write_file(&path, text),
                None => {
                    out!("{}", text.trim_end());
                    Ok(())
                }
            }
        }
        CohortCommand::Competing {
            outcome,
            competing_value,
            group,
            strata,
            covariates,
            at,
            svg,
            json,
        } => {
            let mut roles = Roles {
                group,
                strata,
                covariates: match covariates {
                    Some(text) => TermSpec::parse_list(&text)?,
                    None => Vec::new(),
                },
                ..outcome.roles()
            };
            roles.outcome.competing_value = Some(competing_value);
            competing(&outcome.csv, &roles, &at, svg, json)
        }
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
        Roles::new(
            Outcome::new(&self.time, &self.event, &self.event_value),
            Vec::new(),
        )
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

/// What a fit writes besides its figures.
struct Written {
    model: Option<Publish>,
    zph_plots: Option<PathBuf>,
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
    written: Written,
    validation: Option<BootstrapPlan>,
    json: bool,
) -> Result<(), Failure> {
    let design = design(path, roles)?;
    let fitted = analysis::fit(&design, ties, validation, |done, total| {
        if done % (total / 10).max(1) == 0 {
            eprintln!("bootstrap: {done} of {total} refits");
        }
        true
    })?;
    let output = &fitted.output;
    for w in &output.warnings {
        eprintln!("warning: {w}");
    }
    if let Some(folder) = written.zph_plots {
        std::fs::create_dir_all(&folder)
            .map_err(|e| format!("cannot create {}: {e}", folder.display()))?;
        for (k, plot) in fitted.schoenfeld_plots(&design).iter().enumerate() {
            let file = folder.join(format!("zph-{}.svg", k + 1));
            write_file(&file, &plot.svg)?;
            eprintln!("β(t) of {}: {}", plot.name, file.display());
        }
    }
    if let Some(publish) = written.model {
        let file = fitted.model_file(&design, publish.describe)?;
        write_file(&publish.path, file.to_json())?;
        eprintln!("model file written: {}", publish.path.display());
    }
    if json {
        out!("{}", serde_json::to_string_pretty(output)?);
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
        output.loglik,
        output.loglik_null,
        output.iterations
    );
    for (name, t) in [
        ("likelihood ratio", output.lr_test),
        ("Wald", output.wald_test),
        ("score", output.score_test),
    ] {
        out!(
            "{name} test: {:.3} on {} df, p = {}",
            t.chisq,
            t.df,
            p_text(t.p)
        );
    }
    let c = &output.concordance;
    out!("Harrell's C {:.4} (se {:.4})", c.harrell, c.harrell_se);
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

fn validate(path: &Path, roles: &Roles, horizons: &[f64], json: bool) -> Result<(), Failure> {
    let design = design(path, roles)?;
    let output = analysis::validate_score(&design, roles.covariates[0].to_string(), horizons)?;
    print_validation(&output, json)
}

fn validate_model(
    outcome: &OutcomeArgs,
    path: &Path,
    horizons: &[f64],
    report: Option<(PathBuf, String)>,
    json: bool,
) -> Result<(), Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let model = ModelFile::from_json(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let roles = outcome.roles();
    let bytes = std::fs::read(&outcome.csv)
        .map_err(|e| format!("cannot read {}: {e}", outcome.csv.display()))?;
    let table =
        CohortTable::from_bytes(&bytes).map_err(|e| format!("{}: {e}", outcome.csv.display()))?;
    let applied = Applied::new(&model, &table, roles.outcome.clone())?;
    report_design(&applied.design, &roles);
    let Some((file, centre)) = report else {
        return print_validation(&applied.validate(horizons)?, json);
    };
    let report = ValidationReport::build(&applied, horizons, centre)?;
    write_file(&file, report.to_json())?;
    eprintln!("aggregate report written: {}", file.display());
    let mut figures = report.figures;
    figures.excluded = applied.design.excluded.clone();
    print_validation(&figures, json)
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
    let se = |v: Option<f64>| v.map_or_else(|| "–".into(), |v| format!("{v:.4}"));
    for a in &output.auc {
        let value = a.auc.map_or_else(
            || "– (no case or no control)".into(),
            |v| format!("{v:.4} (se {})", se(a.se)),
        );
        out!("AUC at {}: {value}", a.time);
    }
    for (b, c) in output.brier.iter().zip(&output.calibration) {
        out!(
            "t = {}: Brier {:.4} (se {}, null {:.4}, IPA {:.3}); slope {:.3} (se {:.3}); O:E {:.3} (counts {})",
            b.time, b.brier, se(b.se), b.brier_null, b.ipa, c.slope, c.slope_se, c.oe,
            c.oe_counts.map_or_else(|| "not known".into(), |v| format!("{v:.3}"))
        );
    }
    if let Some(i) = &output.ibs {
        out!(
            "integrated Brier to {}: {:.4} (null {:.4}; scaled {:.3})",
            i.tau,
            i.ibs,
            i.ibs_null,
            i.scaled
        );
    }
    for w in &output.warnings {
        out!("note: {w}");
    }
    Ok(())
}

fn published(key: Option<&str>, out: Option<PathBuf>) -> Result<(), Failure> {
    let Some(key) = key else {
        for (key, name) in sarcoscope::survival::published::AVAILABLE {
            out!("{key:8} {name}");
        }
        return Ok(());
    };
    let model = sarcoscope::survival::published::model(key).ok_or_else(|| {
        format!("'{key}' is not a shipped model (see `sarcoscope cohort published`)")
    })?;
    match out {
        Some(path) => write_file(&path, model.to_json()),
        None => {
            out!("{}", model.to_json());
            Ok(())
        }
    }
}

fn pool(paths: &[PathBuf], json: bool) -> Result<(), Failure> {
    let reports = paths
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            serde_json::from_str::<ValidationReport>(&text)
                .map_err(|e| format!("{}: not a validation report ({e})", path.display()).into())
        })
        .collect::<Result<Vec<_>, Failure>>()?;
    let synthesis = synthesise(&reports)?;
    if json {
        out!("{}", serde_json::to_string_pretty(&synthesis)?);
        return Ok(());
    }
    out!(
        "{} over {} centres: {}",
        synthesis.model,
        synthesis.centres.len(),
        synthesis.centres.join(", ")
    );
    for (name, result) in [
        ("Harrell's C", &synthesis.c),
        ("O:E (Kaplan–Meier)", &synthesis.oe),
        ("calibration slope", &synthesis.slope),
    ] {
        match result {
            Ok(p) => {
                let prediction = p.prediction.map_or_else(String::new, |(lo, hi)| {
                    format!("; prediction interval {lo:.3}–{hi:.3}")
                });
                out!(
                    "{name}: {:.3} (95% CI {:.3}–{:.3}){prediction}; tau² {:.4}",
                    p.estimate,
                    p.lower,
                    p.upper,
                    p.tau2
                );
            }
            Err(why) => out!("{name}: not pooled — {why}"),
        }
    }
    Ok(())
}

/// A figure to four decimals, or a dash where it is not defined.
fn dash(v: Option<f64>) -> String {
    v.map_or_else(|| "–".into(), |v| format!("{v:.4}"))
}

fn p_text(p: Option<f64>) -> String {
    p.map_or_else(|| "not defined".into(), |p| format!("{p:.3e}"))
}

fn competing(
    path: &Path,
    roles: &Roles,
    at: &[f64],
    svg: Option<PathBuf>,
    json: bool,
) -> Result<(), Failure> {
    let design = design(path, roles)?;
    let grouped = roles.group.is_some();
    let (output, plot) = analysis::competing(&design, &roles.outcome, grouped, at)?;
    if let Some(file) = svg {
        write_file(&file, plot)?;
    }
    for w in &output.warnings {
        eprintln!("warning: {w}");
    }
    if json {
        out!("{}", serde_json::to_string_pretty(&output)?);
        return Ok(());
    }
    for g in &output.groups {
        out!(
            "{}: n = {}, events = {}, competing events = {}",
            g.group,
            g.n,
            g.events,
            g.competing
        );
        for a in &g.at {
            out!(
                "  t = {:<10} at risk {:>5}  event {:.4} ({}–{})  competing {:.4} ({}–{})",
                a.time,
                a.n_risk,
                a.event.incidence,
                dash(a.event.lower),
                dash(a.event.upper),
                a.competing.incidence,
                dash(a.competing.lower),
                dash(a.competing.upper)
            );
        }
    }
    for (what, test) in [
        ("event", &output.gray_event),
        ("competing event", &output.gray_competing),
    ] {
        if let Some(t) = test {
            out!(
                "Gray's test, {what}: {:.3} on {} df, p = {}",
                t.chisq,
                t.df,
                p_text(t.p)
            );
        }
    }
    if let Some(f) = &output.fine_gray {
        out!(
            "Fine–Gray model of the event ({} iterations):",
            f.iterations
        );
        for c in &f.coefficients {
            out!(
                "  {:<20} coef {:>9.5}  se {:>8.5}  p {:>10.3e}  sHR {:.4} ({:.4}–{:.4})",
                c.name,
                c.coef,
                c.se,
                c.p,
                c.hr,
                c.hr_lower,
                c.hr_upper
            );
        }
    }
    Ok(())
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
    let grouped = roles.group.is_some();
    let curves = km_curves(&design, grouped);
    if let Some((file, time_label)) = svg {
        let plot = KmPlot {
            groups: curves.iter().map(|(l, c)| (l.clone(), c)).collect(),
            ticks: at.to_vec(),
            time_label,
            interval: None,
        };
        write_file(&file, plot.svg())?;
    }
    let output = km_summary(&design, &curves, grouped, at, conf);
    if json {
        out!("{}", serde_json::to_string_pretty(&output)?);
        return Ok(());
    }
    for g in &output.groups {
        out!(
            "{}: n = {}, events = {}, median {} ({}–{})",
            g.group,
            g.n,
            g.events,
            dash(g.median.time),
            dash(g.median.lower),
            dash(g.median.upper)
        );
        for p in &g.at {
            out!(
                "  t = {:<10} at risk {:>5}  S = {:.4}  se {}  95% CI {}–{}",
                p.time,
                p.n_risk,
                p.surv,
                dash(p.std_err),
                dash(p.lower),
                dash(p.upper)
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
