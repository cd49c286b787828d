//! The analyses as a user asks for them — fit a model, validate a score or a model
//! file, draw survival curves — each one result with the figures the issue fixed the
//! names of. The command line prints these and the browser's statistics worker sends
//! them to the page, so both give the same numbers from the same code.

use serde::{Deserialize, Serialize};

use super::bootstrap::{optimism, Optimism};
use super::calibration::{observed_expected, slope, smoothed, CurvePoint};
use super::competing::{fine_gray, gray_test, GrayTest, Incidence, IncidencePoint};
use super::concordance::{concordance, TimeWeight};
use super::cox::{self, Coefficient, CoxError, CoxFit, Test, Ties};
use super::decision::net_benefit;
use super::design::{Design, DesignError, Exclusion, Outcome, Roles, Status};
use super::ipcw::Censoring;
use super::km::{ConfType, KaplanMeier, KmPoint, Median};
use super::logrank::log_rank;
use super::model::{Describe, ModelError, ModelFile};
use super::performance::{auc, brier_with_null, integrated_brier};
use super::plot::{at_risk, schoenfeld_svg, StepPlot, Steps};
use super::table::CohortTable;
use super::zph::{schoenfeld, smooth, zph, TimeTransform};

/// Why an analysis gave no result, in words for the person who asked.
#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    #[error(transparent)]
    Design(#[from] DesignError),
    #[error(transparent)]
    Cox(#[from] CoxError),
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error("no pair of patients can be compared (too few events)")]
    NoComparablePairs,
    #[error("the horizon {horizon} lies beyond this cohort's longest follow-up ({last}): nothing can be said there")]
    BeyondFollowUp { horizon: f64, last: f64 },
    #[error("stratum '{0}' is not one the model was fitted with")]
    UnknownStratum(String),
    #[error("name the value of the event column that means the competing event (a transplant, for example)")]
    NoCompetingEvent,
}

/// `cohort fit`: the Cox model as `summary(coxph)` reports it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FitOutput {
    pub n: usize,
    pub events: usize,
    pub ties: Ties,
    pub coefficients: Vec<Coefficient>,
    pub loglik_null: f64,
    pub loglik: f64,
    pub lr_test: Test,
    pub wald_test: Test,
    pub score_test: Test,
    pub iterations: usize,
    pub concordance: ConcordanceOutput,
    /// The proportional-hazards test of each term, then the global one (`cox.zph`, KM
    /// time transform).
    pub proportional_hazards: Vec<PhTest>,
    /// Optimism-corrected figures, when a bootstrap was asked for.
    pub bootstrap: Option<Optimism>,
    pub warnings: Vec<String>,
    pub excluded: Vec<Exclusion>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct ConcordanceOutput {
    #[serde(deserialize_with = "crate::survival::json::nan_if_null")]
    pub harrell: f64,
    #[serde(deserialize_with = "crate::survival::json::nan_if_null")]
    pub harrell_se: f64,
}

/// One row of `cox.zph`'s table: a term (or "GLOBAL") and its test.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PhTest {
    pub term: String,
    pub test: Test,
}

/// How many bootstrap refits, from which seed, and the Brier score's horizon.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BootstrapPlan {
    pub b: usize,
    pub seed: u64,
    pub horizon: Option<f64>,
}

/// A fitted model and what is reported of it.
pub struct Fitted {
    pub model: CoxFit,
    pub output: FitOutput,
}

/// Fits the Cox model on `design`, and validates it by the bootstrap when `plan` asks;
/// `progress` hears of each refit (done, total) and may stop the run by returning false.
pub fn fit(
    design: &Design,
    ties: Ties,
    plan: Option<BootstrapPlan>,
    progress: impl FnMut(usize, usize) -> bool,
) -> Result<Fitted, AnalysisError> {
    let event = design.event_flags();
    let model = cox::fit_design(design, ties)?;
    let lp: Vec<f64> = (0..design.rows())
        .map(|i| model.linear_predictor(design.row(i)))
        .collect();
    let c = concordance(&design.time, &event, &lp, TimeWeight::Harrell, None)
        .ok_or(AnalysisError::NoComparablePairs)?;
    let input = cox::CoxInput::of(design, &event);
    let mut first = 0;
    let columns: Vec<Vec<usize>> = design
        .terms
        .iter()
        .map(|t| {
            let width = t.names().len();
            first += width;
            (first - width..first).collect()
        })
        .collect();
    let proportional_hazards = zph(&input, &model, TimeTransform::Km, &columns)
        .into_iter()
        .zip(
            design
                .terms
                .iter()
                .map(|t| t.spec.to_string())
                .chain(["GLOBAL".to_string()]),
        )
        .map(|(test, term)| PhTest { term, test })
        .collect();
    let bootstrap = match plan {
        None => None,
        Some(p) => optimism(design, ties, p.horizon, p.b, p.seed, progress)?,
    };
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
        proportional_hazards,
        bootstrap,
        warnings: model.warnings(),
        excluded: design.excluded.clone(),
    };
    Ok(Fitted { model, output })
}

impl Fitted {
    /// The model file a development centre publishes, with the bootstrap's figures
    /// when one ran.
    pub fn model_file(&self, design: &Design, describe: Describe) -> Result<ModelFile, ModelError> {
        let c = &self.output.concordance;
        let mut file =
            ModelFile::from_fit(&self.model, design, describe, (c.harrell, c.harrell_se))?;
        file.content.development.bootstrap = self.output.bootstrap.clone();
        Ok(file)
    }
}

/// One design column's β(t): its scaled Schoenfeld residuals over follow-up, smoothed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ResidualPlot {
    pub name: String,
    pub svg: String,
}

impl Fitted {
    /// `plot(cox.zph(fit))`, one panel per design column; a column whose smooth cannot
    /// be fitted (fewer than four distinct event times) has no panel.
    pub fn schoenfeld_plots(&self, design: &Design) -> Vec<ResidualPlot> {
        let event = design.event_flags();
        let input = cox::CoxInput::of(design, &event);
        let s = schoenfeld(&input, &self.model, TimeTransform::Km);
        (0..design.columns())
            .filter_map(|j| {
                let y: Vec<f64> = s.scaled.iter().map(|r| r[j]).collect();
                let smooth = smooth(&s.g, &y, s.var[j][j])?;
                Some(ResidualPlot {
                    name: s.names[j].clone(),
                    svg: schoenfeld_svg(
                        &s.names[j],
                        &s.g,
                        &s.time,
                        &y,
                        self.model.coef[j],
                        &smooth,
                    ),
                })
            })
            .collect()
    }
}

/// `cohort validate`: the same keys for a score column and for a model file; with a
/// score, which is not a probability, `brier`, `calibration` and `net_benefit` stay
/// empty and a warning says why.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ValidateOutput {
    /// The model file's name, or the score column.
    pub rated: String,
    pub n: usize,
    pub events: usize,
    #[serde(deserialize_with = "crate::survival::json::nan_if_null")]
    pub harrell_c: f64,
    #[serde(deserialize_with = "crate::survival::json::nan_if_null")]
    pub harrell_c_se: f64,
    pub uno_c: Option<f64>,
    pub uno_c_se: Option<f64>,
    /// The truncation time of Uno's C (the last horizon), if any.
    pub uno_tau: Option<f64>,
    pub auc: Vec<AucAt>,
    pub brier: Vec<BrierAt>,
    pub calibration: Vec<CalibrationAt>,
    pub net_benefit: Vec<NetBenefitAt>,
    /// The integrated Brier score up to the last horizon, for a model whose risks exist
    /// at every time (not a score, nor a score published at its horizon only).
    #[serde(default)]
    pub ibs: Option<IbsTo>,
    pub warnings: Vec<String>,
    pub excluded: Vec<Exclusion>,
}

/// The integrated Brier score over (0, τ], beside the null model's (everyone given the
/// cohort's 1 − KM), and the scaled score 1 − IBS / IBS_null (riskRegression's
/// `summary = "ibs"`).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct IbsTo {
    pub tau: f64,
    #[serde(deserialize_with = "crate::survival::json::nan_if_null")]
    pub ibs: f64,
    #[serde(deserialize_with = "crate::survival::json::nan_if_null")]
    pub ibs_null: f64,
    #[serde(deserialize_with = "crate::survival::json::nan_if_null")]
    pub scaled: f64,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct AucAt {
    pub time: f64,
    pub auc: Option<f64>,
    /// The standard error that counts the estimated censoring weights (as `timeROC`'s
    /// iid and `riskRegression::Score`'s); absent from reports of earlier versions.
    pub se: Option<f64>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct BrierAt {
    pub time: f64,
    #[serde(deserialize_with = "crate::survival::json::nan_if_null")]
    pub brier: f64,
    #[serde(deserialize_with = "crate::survival::json::nan_if_null")]
    pub brier_null: f64,
    #[serde(deserialize_with = "crate::survival::json::nan_if_null")]
    pub ipa: f64,
    /// The standard error of `brier`, as `Score(…, cens.model = "km", se.fit = TRUE)`;
    /// absent from reports of earlier versions.
    pub se: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CalibrationAt {
    pub time: f64,
    #[serde(deserialize_with = "crate::survival::json::nan_if_null")]
    pub slope: f64,
    #[serde(deserialize_with = "crate::survival::json::nan_if_null")]
    pub slope_se: f64,
    /// (1 − KM(t)) / mean predicted risk.
    #[serde(deserialize_with = "crate::survival::json::nan_if_null")]
    pub oe: f64,
    /// The standard error of log(oe) (Greenwood), for pooling centres.
    pub oe_log_se: Option<f64>,
    /// Events by t / expected events by t; `None` for a score published at its horizon
    /// only, whose expected count before the horizon is not known.
    pub oe_counts: Option<f64>,
    /// Smoothed calibration (Austin et al. 2020, rcs of cll with 3 knots): mean, median
    /// and 90th percentile of |predicted − smoothed observed|; null where it cannot be
    /// fitted (a warning says why).
    pub ici: Option<f64>,
    pub e50: Option<f64>,
    pub e90: Option<f64>,
    /// The smooth calibration curve (predicted against smoothed observed risk) on a
    /// grid across the 5th–95th percentiles of predicted risk: aggregate, no
    /// patient's own prediction (empty where the smoother could not be fitted).
    #[serde(default)]
    pub smooth: Vec<CurvePoint>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct NetBenefitAt {
    pub time: f64,
    pub threshold: f64,
    #[serde(deserialize_with = "crate::survival::json::nan_if_null")]
    pub model: f64,
    #[serde(deserialize_with = "crate::survival::json::nan_if_null")]
    pub treat_all: f64,
}

/// Points on a drawn smooth calibration curve.
const SMOOTH_POINTS: usize = 40;

/// Decision thresholds 5 %, 10 %, … 50 %.
pub const THRESHOLDS: [f64; 10] = [0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5];

/// Discrimination of `score` (higher = sooner) and, per horizon, the AUC of what
/// `marker_at(t)` gives (the score itself, or a model's risk by t).
fn discrimination(
    rated: String,
    design: &Design,
    score: &[f64],
    horizons: &[f64],
    marker_at: impl Fn(f64) -> Result<Vec<f64>, AnalysisError>,
) -> Result<ValidateOutput, AnalysisError> {
    let (time, event) = (&design.time, design.event_flags());
    let last = time.iter().copied().fold(0.0, f64::max);
    if let Some(&horizon) = horizons.iter().find(|&&h| h > last) {
        return Err(AnalysisError::BeyondFollowUp { horizon, last });
    }
    let harrell = concordance(time, &event, score, TimeWeight::Harrell, None)
        .ok_or(AnalysisError::NoComparablePairs)?;
    let tau = horizons.iter().copied().reduce(f64::max);
    let uno = concordance(time, &event, score, TimeWeight::Uno, tau);
    let censoring = Censoring::fit(time, &event);
    let auc = horizons
        .iter()
        .map(|&t| {
            let a = auc(time, &event, &marker_at(t)?, t, &censoring);
            Ok(AucAt {
                time: t,
                auc: a.map(|a| a.auc),
                se: a.map(|a| a.se).filter(|se| se.is_finite()),
            })
        })
        .collect::<Result<_, AnalysisError>>()?;
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
        ibs: None,
        warnings: Vec::new(),
        excluded: design.excluded.clone(),
    })
}

/// How well the risk score in the design's first column separates outcomes.
pub fn validate_score(
    design: &Design,
    rated: String,
    horizons: &[f64],
) -> Result<ValidateOutput, AnalysisError> {
    let score: Vec<f64> = (0..design.rows()).map(|i| design.row(i)[0]).collect();
    let mut output = discrimination(rated, design, &score, horizons, |_| Ok(score.clone()))?;
    output.warnings.push(
        "a score is not a probability: Brier score, calibration and net benefit need a model file"
            .into(),
    );
    Ok(output)
}

/// A model file applied to a cohort: its predictors read from the columns of the same
/// names, each row's stratum matched to the model's by level.
pub struct Applied<'a> {
    pub model: &'a ModelFile,
    pub design: Design,
    strata: Vec<usize>,
}

impl<'a> Applied<'a> {
    pub fn new(
        model: &'a ModelFile,
        table: &CohortTable,
        outcome: Outcome,
    ) -> Result<Applied<'a>, AnalysisError> {
        let roles = Roles {
            outcome,
            covariates: model.terms().iter().map(|t| t.spec.clone()).collect(),
            strata: model
                .content
                .strata
                .as_ref()
                .map(|(column, _)| column.clone()),
            group: None,
        };
        let design = Design::with_terms(table, &roles, &model.terms())?;
        let strata = match &model.content.strata {
            None => vec![0; design.rows()],
            Some((_, levels)) => design
                .strata
                .iter()
                .map(|&s| {
                    let level = &design.strata_levels[s];
                    levels
                        .iter()
                        .position(|l| l == level)
                        .ok_or_else(|| AnalysisError::UnknownStratum(level.clone()))
                })
                .collect::<Result<_, _>>()?,
        };
        Ok(Applied {
            model,
            design,
            strata,
        })
    }

    pub fn linear_predictors(&self) -> Vec<f64> {
        (0..self.design.rows())
            .map(|i| self.model.linear_predictor(self.design.row(i)))
            .collect()
    }

    /// Each row's predicted probability of the event by `t`.
    pub fn risks(&self, t: f64) -> Result<Vec<f64>, AnalysisError> {
        Ok((0..self.design.rows())
            .map(|i| self.model.risk(self.design.row(i), self.strata[i], t))
            .collect::<Result<_, _>>()?)
    }

    fn cumulative_hazard(&self, i: usize, t: f64) -> f64 {
        self.model
            .cumulative_hazard(self.design.row(i), self.strata[i], t)
    }

    /// Discrimination, Brier score, calibration and net benefit at each horizon, and the
    /// integrated Brier score up to the last.
    pub fn validate(&self, horizons: &[f64]) -> Result<ValidateOutput, AnalysisError> {
        let design = &self.design;
        let (time, event, n) = (&design.time, design.event_flags(), design.rows());
        let lp = self.linear_predictors();
        let name = self.model.content.name.clone();
        if self.model.ranks_only() {
            let mut output = discrimination(name, design, &lp, horizons, |_| Ok(lp.clone()))?;
            output.warnings.push(
                "this published score ranks patients only (its authors published no baseline survival): Brier score, calibration and net benefit cannot be computed".into(),
            );
            return Ok(output);
        }
        let mut output = discrimination(name, design, &lp, horizons, |t| self.risks(t))?;
        let censoring = Censoring::fit(time, &event);
        let slope = slope(time, &event, &lp)?;
        for &t in horizons {
            let risk = self.risks(t)?;
            let b = brier_with_null(time, &event, &risk, t, &censoring);
            output.brier.push(BrierAt {
                time: t,
                brier: b.brier,
                brier_null: b.brier_null,
                ipa: b.ipa,
                se: Some(b.se).filter(|se| se.is_finite()),
            });
            let cll: Vec<f64> = (0..n).map(|i| self.cumulative_hazard(i, t).ln()).collect();
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
            let oe = observed_expected(time, &event, &risk, t, |i, s| self.cumulative_hazard(i, s));
            output.calibration.push(CalibrationAt {
                time: t,
                slope: slope.slope,
                slope_se: slope.se,
                oe: oe.oe_ratio_km,
                oe_log_se: oe.oe_log_se,
                oe_counts: (!self.model.horizons_only()).then_some(oe.oe_ratio_counts),
                ici: smooth.as_ref().map(|s| s.ici),
                e50: smooth.as_ref().map(|s| s.e50),
                e90: smooth.as_ref().map(|s| s.e90),
                smooth: smooth
                    .as_ref()
                    .map_or_else(Vec::new, |s| s.curve(&risk, SMOOTH_POINTS)),
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
        output.ibs = match horizons.iter().copied().reduce(f64::max) {
            Some(tau) if !self.model.horizons_only() => {
                let km = KaplanMeier::fit(time, &event);
                let ibs = integrated_brier(time, &event, tau, &censoring, |i, t| {
                    1.0 - (-self.cumulative_hazard(i, t)).exp()
                });
                let ibs_null =
                    integrated_brier(time, &event, tau, &censoring, |_, t| 1.0 - km.surv_at(t));
                Some(IbsTo {
                    tau,
                    ibs,
                    ibs_null,
                    scaled: 1.0 - ibs / ibs_null,
                })
            }
            _ => None,
        };
        Ok(output)
    }
}

/// `cohort km`: each group's curve read at chosen times, and the log-rank test.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KmOutput {
    pub groups: Vec<KmGroup>,
    pub logrank: Option<Test>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KmGroup {
    pub group: String,
    pub n: usize,
    pub events: usize,
    pub at: Vec<KmPoint>,
    pub median: Median,
}

/// The curves of a design's groups (one, "all", without a group column).
pub fn km_curves(design: &Design, grouped: bool) -> Vec<(String, KaplanMeier)> {
    let event = design.event_flags();
    design
        .group_levels
        .iter()
        .enumerate()
        .map(|(g, level)| {
            let rows: Vec<usize> = (0..design.rows())
                .filter(|&i| design.group[i] == g)
                .collect();
            let time: Vec<f64> = rows.iter().map(|&i| design.time[i]).collect();
            let ev: Vec<bool> = rows.iter().map(|&i| event[i]).collect();
            let label = if grouped { level.clone() } else { "all".into() };
            (label, KaplanMeier::fit(&time, &ev))
        })
        .collect()
}

/// The curves read at `at`, their medians, and the log-rank test between groups.
pub fn km_summary(
    design: &Design,
    curves: &[(String, KaplanMeier)],
    grouped: bool,
    at: &[f64],
    conf: ConfType,
) -> KmOutput {
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
    let logrank = grouped
        .then(|| {
            log_rank(
                &design.time,
                &design.event_flags(),
                &design.group,
                &design.strata,
                0.0,
            )
        })
        .flatten()
        .map(|t| Test {
            chisq: t.chisq,
            df: t.df,
            p: t.p,
        });
    KmOutput { groups, logrank }
}

/// `cohort competing`: per group, the cumulative incidence of the event and of the
/// competing event at chosen times; Gray's test of each across groups; and, with
/// covariates, the Fine–Gray model of the event.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CompetingOutput {
    pub groups: Vec<IncidenceGroup>,
    /// Gray's test across groups of the event's incidence, and of the competing one's.
    pub gray_event: Option<GrayTest>,
    pub gray_competing: Option<GrayTest>,
    pub fine_gray: Option<FineGrayOutput>,
    pub warnings: Vec<String>,
    pub excluded: Vec<Exclusion>,
}

/// The Fine–Gray model as `summary(crr)` prints it: `hr` is the subdistribution hazard
/// ratio, `se` (and `robust_se`) crr's sandwich standard error.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FineGrayOutput {
    pub coefficients: Vec<Coefficient>,
    pub iterations: usize,
    pub converged: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IncidenceGroup {
    pub group: String,
    pub n: usize,
    pub events: usize,
    pub competing: usize,
    pub at: Vec<IncidenceAt>,
}

/// Both incidences at one time, and how many are still free of both and followed.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct IncidenceAt {
    pub time: f64,
    pub n_risk: usize,
    pub event: IncidencePoint,
    pub competing: IncidencePoint,
}

/// The competing-risks analysis of `design` and its plot (one colour per group: the
/// event solid, the competing event dashed; the event's 95 % limits dotted when there
/// is one group — with several they would hide the curves).
pub fn competing(
    design: &Design,
    outcome: &Outcome,
    grouped: bool,
    at: &[f64],
) -> Result<(CompetingOutput, String), AnalysisError> {
    let Some(code) = &outcome.competing_value else {
        return Err(AnalysisError::NoCompetingEvent);
    };
    let mut warnings = Vec::new();
    if design.status.iter().all(|s| *s != Status::Competing) {
        warnings.push(format!(
            "no patient had the competing event ('{code}' in column {}): its incidence is zero throughout",
            outcome.event
        ));
    }
    let (mut groups, mut curves, mut at_risk_rows) = (Vec::new(), Vec::new(), Vec::new());
    for (g, level) in design.group_levels.iter().enumerate() {
        let rows: Vec<usize> = (0..design.rows())
            .filter(|&i| design.group[i] == g)
            .collect();
        let time: Vec<f64> = rows.iter().map(|&i| design.time[i]).collect();
        let status: Vec<Status> = rows.iter().map(|&i| design.status[i]).collect();
        let count = |want: Status| status.iter().filter(|s| **s == want).count();
        let event = Incidence::fit(&time, &status, Status::Event);
        let other = Incidence::fit(&time, &status, Status::Competing);
        let free: Vec<bool> = status.iter().map(|s| *s != Status::Censored).collect();
        let free = KaplanMeier::fit(&time, &free);
        let label = if grouped { level.clone() } else { "all".into() };
        groups.push(IncidenceGroup {
            group: label.clone(),
            n: rows.len(),
            events: count(Status::Event),
            competing: count(Status::Competing),
            at: at
                .iter()
                .map(|&t| IncidenceAt {
                    time: t,
                    n_risk: free.at(t, ConfType::Log, 0.95).n_risk,
                    event: event.at(t, 0.95),
                    competing: other.at(t, 0.95),
                })
                .collect(),
        });
        at_risk_rows.push(at_risk(&label, &free, at));
        let limits = (0..event.times.len())
            .map(|k| {
                let p = event.at(event.times[k], 0.95);
                (p.lower, p.upper)
            })
            .unzip();
        curves.push(Steps {
            label: format!("{label}: event"),
            colour: g,
            dashed: false,
            start: 0.0,
            times: event.times.clone(),
            values: event.value.clone(),
            limits: (!grouped).then_some(limits),
            censored: Vec::new(),
        });
        curves.push(Steps {
            label: format!("{label}: competing event"),
            colour: g,
            dashed: true,
            start: 0.0,
            times: other.times,
            values: other.value,
            limits: None,
            censored: Vec::new(),
        });
    }
    let gray = |cause| {
        grouped
            .then(|| {
                gray_test(
                    &design.time,
                    &design.status,
                    &design.group,
                    &design.strata,
                    cause,
                    0.0,
                )
            })
            .flatten()
    };
    let fine_gray = (design.columns() > 0)
        .then(|| fine_gray(&design.time, &design.status, &design.x, &design.names))
        .flatten();
    if design.columns() > 0 {
        match &fine_gray {
            None => warnings.push(
                "the Fine–Gray model could not be estimated (no event, or covariates that are collinear)".into(),
            ),
            Some(f) if !f.converged => warnings.push(
                "the Fine–Gray model did not converge in 25 iterations: its coefficients are not to be trusted".into(),
            ),
            Some(_) => {}
        }
        if design.strata_levels.len() > 1 {
            warnings.push(
                "the Fine–Gray model is fitted without strata (as cmprsk::crr); the strata apply to Gray's test".into(),
            );
        }
    }
    let svg = StepPlot {
        curves,
        ticks: at.to_vec(),
        time_label: outcome.time.clone(),
        title: "Cumulative incidence of the event and of the competing event",
        at_risk: at_risk_rows,
    }
    .svg();
    let output = CompetingOutput {
        groups,
        gray_event: gray(Status::Event),
        gray_competing: gray(Status::Competing),
        fine_gray: fine_gray.map(|f| FineGrayOutput {
            coefficients: f.coefficients(0.95),
            iterations: f.iterations,
            converged: f.converged,
        }),
        warnings,
        excluded: design.excluded.clone(),
    };
    Ok((output, svg))
}
