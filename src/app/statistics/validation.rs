//! External validation: a model file (from a development centre, or one shipped as a
//! published score) applied to this centre's cohort, giving a printable report and an
//! export of aggregate figures only (`survival::aggregate`).

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::client::Statistics;
use super::messages::ToStatistics;
use super::view::{ColumnChoice, Form, LeftOut};
use crate::download::save_text;
use crate::figures::{figure, interval, maybe};
use crate::picked::{picked_files, text_of};
use sarcoscope::survival::aggregate::{Count, ValidationReport};
use sarcoscope::survival::design::{Roles, TermSpec};
use sarcoscope::survival::model::ModelFile;
use sarcoscope::survival::plot::{
    calibration_svg, decision_curve_svg, CalibrationPoint, NetBenefitPoint,
};
use sarcoscope::survival::published::{self, AVAILABLE};

/// A model file read on the page: its text (sent to the worker) and what it says.
#[derive(Clone, PartialEq)]
struct Loaded {
    file: String,
    text: String,
    model: ModelFile,
}

#[component]
pub fn ValidationSection(stats: Statistics, form: Form) -> impl IntoView {
    let s = stats.state;
    let loaded = RwSignal::new(None::<Result<Loaded, String>>);
    let centre = RwSignal::new(String::new());
    let on_model = move |ev: leptos::ev::Event| {
        let Some(file) = picked_files(&ev).into_iter().next() else {
            return;
        };
        spawn_local(async move {
            let name = file.name();
            loaded.set(Some(match text_of(&file).await {
                Err(e) => Err(e),
                Ok(text) => ModelFile::from_json(&text)
                    .map(|model| {
                        s.offer(model.clone());
                        let horizons: Vec<String> = model
                            .content
                            .horizons
                            .iter()
                            .map(|h| h.time.to_string())
                            .collect();
                        if !horizons.is_empty() {
                            form.horizons.set(horizons.join(", "));
                        }
                        Loaded {
                            file: name.clone(),
                            text,
                            model,
                        }
                    })
                    .map_err(|e| format!("{name}: {e}")),
            }));
        });
    };
    let validate = move |_| {
        let Some(Ok(model)) = loaded.get_untracked() else {
            return s.error.set(Some("Choose a model file first.".into()));
        };
        match (form.outcome(), form.horizon_list()) {
            (Ok(outcome), Ok(horizons)) => stats.send(
                ToStatistics::Validate {
                    outcome,
                    model: model.text,
                    horizons,
                    centre: centre.get_untracked(),
                },
                "Validating the model on this cohort",
            ),
            (Err(e), _) | (_, Err(e)) => s.error.set(Some(e)),
        }
    };
    view! {
        <section class="stats-validation" id="stats-validation" hidden=move || s.table.with(Option::is_none)>
            <h2>"External validation of a model file"</h2>
            <p>
                "Load a model file ("<code>"*.sarcoscope-model.json"</code>") and validate it on the cohort above: "
                "its predictors are read from the columns of the same names, the outcome from the columns chosen above."
            </p>
            <label class="button">
                "Choose a model file…"
                <input id="stats-model-file" type="file" accept=".json,application/json" on:change=on_model/>
            </label>
            <span class="hint">" or a published score: "</span>
            {AVAILABLE.into_iter().map(|(key, name)| view! {
                <button class="action" id=format!("stats-published-{key}") on:click=move |_| {
                    if let Some(model) = published::model(key) {
                        // A score that only ranks is read at its publication's outcome horizon.
                        let horizons: Vec<String> = match model.content.horizons.as_slice() {
                            [] => vec![model.content.development.max_follow_up.to_string()],
                            published => published.iter().map(|h| h.time.to_string()).collect(),
                        };
                        form.horizons.set(horizons.join(", "));
                        loaded.set(Some(Ok(Loaded { file: "shipped with Sarcoscope".into(), text: model.to_json(), model })));
                    }
                }>{name}</button>
            }).collect_view()}
            <p class="hint">
                "A published score needs its column in the cohort ("<code>"meld"</code>", "<code>"meld_na"</code>", "<code>"meld3"</code>", "<code>"meld_sarcopenia"</code>
                ", as Sarcoscope's CSV export names them) and time in days. MELD-Na and MELD-Sarcopenia were published without a baseline survival: "
                "they rank patients (C, Uno's C, AUC) and give no probability, so no calibration or Brier score."
            </p>
            {move || loaded.get().map(|l| match l {
                Err(e) => view! { <p class="error" id="stats-model-error">{e}</p> }.into_any(),
                Ok(l) => {
                    let c = &l.model.content;
                    let d = &c.development;
                    view! {
                        <div id="stats-model">
                            <p><strong>{c.name.clone()}</strong>{format!(" — {} ({})", c.description, l.file)}</p>
                            <p class="warning" hidden=!c.published_elsewhere>"A published score, shipped for comparison: not this study's model."</p>
                            <p class="hint">{match &c.publication {
                                Some(p) if l.model.ranks_only() => format!("{} {} Ranks patients only: no probability.", p.citation, p.development),
                                Some(p) => format!("{} {} Risks only at {} {}.", p.citation, p.development, figure(d.max_follow_up, 0), c.time_unit),
                                None => format!(
                                    "Developed on {} patients with {} events (longest follow-up {} {}); Harrell's C {} there. Seal {}… verified.",
                                    d.n, d.events, figure(d.max_follow_up, 1), c.time_unit, figure(d.harrell_c, 3), &l.model.sha256[..12.min(l.model.sha256.len())]
                                ),
                            }}</p>
                        </div>
                    }.into_any()
                }
            })}
            <label class="field">
                <span>"This centre"</span>
                <input id="stats-centre" prop:value=move || centre.get() on:input=move |ev| centre.set(event_target_value(&ev))/>
                <small>"Named in the report, so that the development centre can tell reports apart."</small>
            </label>
            <button class="action" id="stats-validate" on:click=validate disabled=move || s.running.with(Option::is_some) || !matches!(loaded.get(), Some(Ok(_)))>
                "Validate on this cohort"
            </button>
            <Report stats=stats/>
            <ScoreRating stats=stats form=form/>
        </section>
    }
}

/// A score column without a model file (MELD-Na, MELD-Sarcopenia): how well it ranks
/// patients — C, Uno's C and the AUC at each horizon. No risk, so no calibration.
#[component]
fn ScoreRating(stats: Statistics, form: Form) -> impl IntoView {
    let s = stats.state;
    let column = RwSignal::new(String::new());
    let rate = move |_| {
        let score = column.get_untracked();
        if score.is_empty() {
            return s.error.set(Some("Choose the score column to rate.".into()));
        }
        let spec = match TermSpec::parse(&score) {
            Ok(spec) => spec,
            Err(e) => return s.error.set(Some(e.to_string())),
        };
        match (form.outcome(), form.horizon_list()) {
            (Ok(outcome), Ok(horizons)) => stats.send(
                ToStatistics::RateScore {
                    roles: Roles::new(outcome, vec![spec]),
                    horizons,
                },
                "Rating the score",
            ),
            (Err(e), _) | (_, Err(e)) => s.error.set(Some(e)),
        }
    };
    let download = move |_| {
        if let Some((output, _)) = s.rated.get_untracked() {
            let text = serde_json::to_string_pretty(&output).unwrap_or_default();
            let _ = save_text(
                &format!("score-{}.json", output.rated),
                "application/json",
                &text,
            );
        }
    };
    view! {
        <h3>"Or rate a score column"</h3>
        <p class="hint">"A score without a baseline survival (MELD-Na, MELD-Sarcopenia; higher = higher risk) can be rated for discrimination only."</p>
        <ColumnChoice stats=stats label="Score column" id="stats-score" signal=column optional=false/>
        <button class="action" id="stats-rate" on:click=rate disabled=move || s.running.with(Option::is_some)>"Rate the score"</button>
        {move || s.rated.get().map(|(o, left)| view! {
            <table class="metrics" id="stats-rated">
                <tbody>
                    <tr><td>{format!("{}: patients, events", o.rated)}</td><td class="num">{format!("{}, {}", o.n, o.events)}</td></tr>
                    <tr><td>"Harrell's C (se)"</td><td class="num">{format!("{} ({})", figure(o.harrell_c, 4), figure(o.harrell_c_se, 4))}</td></tr>
                    <tr><td>{format!("Uno's C to {}", maybe(o.uno_tau, 1))}</td><td class="num">{format!("{} ({})", maybe(o.uno_c, 4), maybe(o.uno_c_se, 4))}</td></tr>
                    {o.auc.iter().map(|a| view! { <tr><td>{format!("AUC at {} (se)", figure(a.time, 2))}</td><td class="num">{format!("{} ({})", maybe(a.auc, 4), maybe(a.se, 4))}</td></tr> }).collect_view()}
                </tbody>
            </table>
            <p class="cite">"C as survival::concordance (Uno's with timewt = \"n/G2\"); AUC cumulative/dynamic with IPCW, as timeROC."</p>
            <button class="action" id="stats-download-rated" on:click=download>"Download (JSON, as sarcoscope cohort validate --score)"</button>
            <LeftOut left=left id="stats-rated-left"/>
        })}
    }
}

fn last_horizon(r: &ValidationReport) -> Option<f64> {
    r.horizons.last().copied()
}

/// The decision curve at the report's last horizon.
fn decision_curve(r: &ValidationReport) -> String {
    let Some(t) = last_horizon(r) else {
        return String::new();
    };
    let points: Vec<NetBenefitPoint> = r
        .figures
        .net_benefit
        .iter()
        .filter(|n| n.time == t)
        .map(|n| NetBenefitPoint {
            threshold: n.threshold,
            model: n.model,
            treat_all: n.treat_all,
        })
        .collect();
    decision_curve_svg(
        &points,
        &format!(
            "Decision curve at {} {}: the model (solid), treat all (dashed), treat none (grey)",
            figure(t, 2),
            r.time_unit
        ),
    )
}

/// The calibration plot at the report's last horizon, from its (unsuppressed) tenths.
fn calibration_plot(r: &ValidationReport) -> String {
    let Some(&t) = r.horizons.last() else {
        return String::new();
    };
    let points: Vec<CalibrationPoint> = r
        .deciles
        .iter()
        .filter(|d| d.time == t)
        .filter_map(|d| {
            Some(CalibrationPoint {
                predicted: d.predicted?,
                observed: d.observed?,
                lower: d.observed_lower,
                upper: d.observed_upper,
            })
        })
        .collect();
    let smooth = r
        .figures
        .calibration
        .iter()
        .find(|c| c.time == t)
        .map_or(&[][..], |c| &c.smooth[..]);
    calibration_svg(
        &points,
        smooth,
        &format!(
            "Calibration at {} {} (tenths of predicted risk, 95% CI; the line: smoothed, Austin et al. 2020)",
            figure(t, 2),
            r.time_unit
        ),
    )
}

fn count(c: Count) -> String {
    c.to_string()
}

/// The aggregate report as it prints, with its exports.
#[component]
fn Report(stats: Statistics) -> impl IntoView {
    let report = stats.state.report;
    let stem = move |r: &ValidationReport| {
        let safe: String = r
            .model
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        format!("validation-{safe}")
    };
    let download_json = move |_| {
        if let Some(r) = report.get_untracked() {
            let _ = save_text(
                &format!("{}.json", stem(&r.report)),
                "application/json",
                &r.report.to_json(),
            );
        }
    };
    let download_csv = move |_| {
        if let Some(r) = report.get_untracked() {
            let _ = save_text(
                &format!("{}.csv", stem(&r.report)),
                "text/csv",
                &r.report.to_csv(),
            );
        }
    };
    let print = move |_| {
        if let Some(w) = web_sys::window() {
            let _ = w.print();
        }
    };
    view! {
        {move || report.get().map(|v| {
            let r = v.report;
            let f = &r.figures;
            let unit = r.time_unit.clone();
            let at = move |t: f64| format!("{} {}", figure(t, 2), unit);
            view! {
                <p class="report-tools">
                    <button id="stats-print" on:click=print>"Print the report (or save as PDF)"</button>
                    <button id="stats-download-report" on:click=download_json>"Download aggregate figures (JSON)"</button>
                    <button id="stats-download-report-csv" on:click=download_csv>"Download headline figures (CSV)"</button>
                </p>
                <article class="report" id="stats-report">
                    <h2>{format!("External validation of {}", r.model)}</h2>
                    <p class="hint">{format!(
                        "Centre: {}. Model file seal {}. Aggregate figures only: no row of any patient; counts of 1 to 4 patients are suppressed.",
                        if r.centre.is_empty() { "(not named)" } else { &r.centre }, r.model_sha256
                    )}</p>
                    <p class="warning" hidden=!r.published_elsewhere>"A published score, not this study's model."</p>
                    <table class="metrics" id="stats-report-figures">
                        <tbody>
                            <tr><td>"Patients, events"</td><td class="num">{format!("{}, {}", f.n, f.events)}</td><td class="cite-cell"></td></tr>
                            <tr><td>"Median follow-up"</td><td class="num">{at(r.median_follow_up)}</td><td></td></tr>
                            <tr><td>"Harrell's C (se)"</td><td class="num" id="stats-report-c">{format!("{} ({})", figure(f.harrell_c, 4), figure(f.harrell_c_se, 4))}</td><td class="cite">"survival::concordance"</td></tr>
                            <tr><td>{format!("Uno's C to {}", maybe(f.uno_tau, 1))}</td><td class="num">{format!("{} ({})", maybe(f.uno_c, 4), maybe(f.uno_c_se, 4))}</td><td class="cite">"concordance(timewt = \"n/G2\", ymax = τ)"</td></tr>
                            {f.auc.iter().map(|a| view! { <tr><td>{format!("AUC at {} (se)", at(a.time))}</td><td class="num">{format!("{} ({})", maybe(a.auc, 4), maybe(a.se, 4))}</td><td class="cite">"cumulative/dynamic, IPCW (timeROC)"</td></tr> }).collect_view()}
                            {f.brier.iter().map(|b| view! { <tr><td>{format!("Brier score at {} ± se (null model; IPA)", at(b.time))}</td><td class="num">{format!("{} ± {} ({}; {})", figure(b.brier, 4), maybe(b.se, 4), figure(b.brier_null, 4), figure(b.ipa, 3))}</td><td class="cite">"IPCW, as riskRegression::Score"</td></tr> }).collect_view()}
                            {f.ibs.map(|i| view! { <tr><td>{format!("Integrated Brier score to {} (null model; scaled)", at(i.tau))}</td><td class="num" id="stats-report-ibs">{format!("{} ({}; {})", figure(i.ibs, 4), figure(i.ibs_null, 4), figure(i.scaled, 3))}</td><td class="cite">"∫ Brier(t) dt / τ, as riskRegression::Score(summary = \"ibs\")"</td></tr> })}
                            {f.calibration.iter().map(|c| view! {
                                <tr><td>{format!("Calibration at {}: slope (se)", at(c.time))}</td><td class="num">{format!("{} ({})", figure(c.slope, 3), figure(c.slope_se, 3))}</td><td class="cite">"coxph on the linear predictor"</td></tr>
                                <tr><td>"O:E, Kaplan–Meier observed ÷ mean predicted risk"</td><td class="num">{figure(c.oe, 3)}</td><td class="cite">"McLernon et al. 2023"</td></tr>
                                <tr><td>"O:E, events ÷ expected events"</td><td class="num">{maybe(c.oe_counts, 3)}</td><td class="cite">"Σ H(min(T, t))"</td></tr>
                                <tr><td>"ICI / E50 / E90"</td><td class="num">{format!("{} / {} / {}", maybe(c.ici, 4), maybe(c.e50, 4), maybe(c.e90, 4))}</td><td class="cite">"Austin, Harrell & van Klaveren 2020, rcs (3 knots) smoother"</td></tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                    // A score that only ranks has no predicted risk to calibrate.
                    <div hidden=r.deciles.is_empty()>
                    <h3>"Calibration by tenth of predicted risk"</h3>
                    <table class="metrics" id="stats-report-deciles">
                        <thead><tr><th>"Horizon"</th><th>"Tenth"</th><th>"Patients"</th><th>"Predicted"</th><th>"Observed (95% CI)"</th></tr></thead>
                        <tbody>
                            {r.deciles.iter().map(|d| view! {
                                <tr><td class="num">{figure(d.time, 2)}</td><td class="num">{d.group}</td><td class="num">{count(d.n)}</td><td class="num">{maybe(d.predicted, 3)}</td>
                                <td class="num">{format!("{} ({})", maybe(d.observed, 3), interval(d.observed_lower, d.observed_upper, 3, "not defined"))}</td></tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                    <div class="calibration-plot" id="stats-calibration-plot" inner_html=calibration_plot(&r)></div>
                    </div>
                    <div hidden=f.net_benefit.is_empty()>
                    <h3>{format!("Decision curve at {}", r.horizons.last().map(|t| at(*t)).unwrap_or_default())}</h3>
                    <div class="calibration-plot" id="stats-decision-curve" inner_html=decision_curve(&r)></div>
                    <table class="metrics" id="stats-report-net-benefit">
                        <thead><tr><th>"Threshold"</th><th>"Net benefit, model"</th><th>"Treat all"</th></tr></thead>
                        <tbody>
                            {last_horizon(&r).map(|t| f.net_benefit.iter().filter(|n| n.time == t).map(|n| view! {
                                <tr><td class="num">{format!("{:.0} %", 100.0 * n.threshold)}</td><td class="num">{figure(n.model, 4)}</td><td class="num">{figure(n.treat_all, 4)}</td></tr>
                            }).collect_view())}
                        </tbody>
                    </table>
                    <p class="cite">"Net benefit = true positives − false positives × pₜ/(1 − pₜ), per patient, with observed risk by Kaplan–Meier (Vickers et al. 2008; as dcurves::dca). Treat none is zero."</p>
                    </div>
                    <h3>{if r.deciles.is_empty() { "Survival by third of the score (Kaplan–Meier)" } else { "Survival by third of predicted risk (Kaplan–Meier)" }}</h3>
                    <table class="metrics" id="stats-report-groups">
                        <thead><tr><th>"Group"</th><th>"Patients"</th><th>"Events"</th>{r.horizons.iter().map(|h| view! { <th>{format!("S({})", figure(*h, 1))}</th> }).collect_view()}</tr></thead>
                        <tbody>
                            {r.risk_groups.iter().map(|g| view! {
                                <tr><td>{g.group.clone()}</td><td class="num">{count(g.n)}</td><td class="num">{count(g.events)}</td>{g.survival.iter().map(|s| view! { <td class="num">{maybe(*s, 3)}</td> }).collect_view()}</tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                    <h3>"Case-mix: this cohort beside the development range"</h3>
                    <table class="metrics" id="stats-report-casemix">
                        <thead><tr><th>"Predictor"</th><th>"Development range"</th><th>"Mean"</th><th>"Quartiles"</th><th>"Outside the range"</th><th>"Levels"</th></tr></thead>
                        <tbody>
                            {r.case_mix.iter().map(|c| view! {
                                <tr><td><code>{c.predictor.clone()}</code>{format!(" {}", c.unit)}</td>
                                <td class="num">{c.development_range.map(|(lo, hi)| format!("{}–{}", figure(lo, 2), figure(hi, 2))).unwrap_or_default()}</td>
                                <td class="num">{maybe(c.mean, 2)}</td>
                                <td class="num">{c.quartiles.map(|q| format!("{} / {} / {}", figure(q[0], 2), figure(q[1], 2), figure(q[2], 2))).unwrap_or_default()}</td>
                                <td class="num">{c.outside_range.map(count).unwrap_or_default()}</td>
                                <td>{c.levels.iter().map(|(l, n)| format!("{l}: {}", count(*n))).collect::<Vec<_>>().join(", ")}</td></tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                    <h3>"Rows left out"</h3>
                    <ul id="stats-report-excluded">
                        {r.excluded_by_reason.iter().map(|(k, n)| view! { <li>{format!("{k}: {}", count(*n))}</li> }).collect_view()}
                    </ul>
                    <ul class="warnings">{f.warnings.iter().map(|w| view! { <li>{w.clone()}</li> }).collect_view()}</ul>
                </article>
                <LeftOut left=v.left id="stats-validation-left"/>
            }
        })}
    }
}
