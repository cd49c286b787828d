//! The Cohort statistics view: a cohort file in, its columns summarised, roles chosen,
//! Kaplan–Meier curves, the Cox model with its bootstrap validation, and the model file
//! to publish. Competing risks are in [`super::competing`], the external validation of
//! a model file in [`super::validation`].

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::HtmlInputElement;

use super::client::Statistics;
use super::competing::CompetingSection;
use super::messages::{Left, Publish, ToStatistics};
use super::pooling::PoolingSection;
use super::validation::ValidationSection;
use crate::download::save_text;
use crate::figures::{figure, interval, maybe, p_figure, p_value};
use crate::picked::picked_files;
use crate::shell::Route;
use sarcoscope::survival::analysis::BootstrapPlan;
use sarcoscope::survival::cox::Ties;
use sarcoscope::survival::design::{Outcome, Roles, TermSpec};
use sarcoscope::survival::km::ConfType;
use sarcoscope::survival::table::ColumnKind;

/// Numbers typed as "365.25, 1826.25".
pub fn numbers(text: &str, what: &str) -> Result<Vec<f64>, String> {
    text.split([',', ';', ' '])
        .filter(|t| !t.trim().is_empty())
        .map(|t| {
            t.trim()
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite() && *x > 0.0)
                .ok_or_else(|| format!("{what}: '{}' is not a positive number", t.trim()))
        })
        .collect()
}

/// Opens the invented cirrhosis cohort (`survival::synthetic`) as if it were a file.
fn open_synthetic(stats: Statistics) {
    let text = sarcoscope::survival::synthetic::cohort_csv(1000, 1);
    let parts = js_sys::Array::of1(&text.into());
    let options = web_sys::FilePropertyBag::new();
    options.set_type("text/csv");
    match web_sys::File::new_with_str_sequence_and_options(
        &parts,
        "invented-cirrhosis-cohort.csv",
        &options,
    ) {
        Ok(file) => stats.open(file),
        Err(_) => stats.state.error.set(Some(
            "The browser could not make the invented cohort's file.".into(),
        )),
    }
}

/// The form: which column plays which part, and the analysis' settings.
#[derive(Clone, Copy)]
pub struct Form {
    pub time: RwSignal<String>,
    pub event: RwSignal<String>,
    pub event_value: RwSignal<String>,
    competing_value: RwSignal<String>,
    covariates: RwSignal<String>,
    strata: RwSignal<String>,
    group: RwSignal<String>,
    ties: RwSignal<String>,
    conf: RwSignal<String>,
    pub horizons: RwSignal<String>,
    pub time_unit: RwSignal<String>,
    bootstrap: RwSignal<String>,
    seed: RwSignal<String>,
    name: RwSignal<String>,
}

impl Form {
    fn new() -> Form {
        Form {
            time: RwSignal::new(String::new()),
            event: RwSignal::new(String::new()),
            event_value: RwSignal::new("1".into()),
            competing_value: RwSignal::new(String::new()),
            covariates: RwSignal::new(String::new()),
            strata: RwSignal::new(String::new()),
            group: RwSignal::new(String::new()),
            ties: RwSignal::new("efron".into()),
            conf: RwSignal::new("log".into()),
            horizons: RwSignal::new("365.25, 1095.75, 1826.25".into()),
            time_unit: RwSignal::new("days".into()),
            bootstrap: RwSignal::new("200".into()),
            seed: RwSignal::new("20261201".into()),
            name: RwSignal::new("Cox model".into()),
        }
    }

    pub fn outcome(&self) -> Result<Outcome, String> {
        let (time, event) = (self.time.get_untracked(), self.event.get_untracked());
        if time.is_empty() || event.is_empty() {
            return Err("Choose the follow-up time and the event columns.".into());
        }
        Ok(Outcome::new(
            &time,
            &event,
            self.event_value.get_untracked().trim(),
        ))
    }

    fn optional(signal: RwSignal<String>) -> Option<String> {
        Some(signal.get_untracked()).filter(|s| !s.is_empty())
    }

    fn roles(&self, with_covariates: bool) -> Result<Roles, String> {
        let covariates = if with_covariates {
            let text = self.covariates.get_untracked();
            if text.trim().is_empty() {
                return Err("Write the covariates, as in R: age, log(bili), factor(edema).".into());
            }
            TermSpec::parse_list(&text).map_err(|e| format!("Covariates: {e}"))?
        } else {
            Vec::new()
        };
        Ok(Roles {
            outcome: self.outcome()?,
            covariates,
            strata: Form::optional(self.strata),
            group: Form::optional(self.group),
        })
    }

    pub fn horizon_list(&self) -> Result<Vec<f64>, String> {
        numbers(&self.horizons.get_untracked(), "Horizons")
    }

    /// Guesses from the column names, so that a usual file needs few choices.
    fn guess(&self, names: &[String]) {
        let find = |words: &[&str]| {
            names
                .iter()
                .find(|n| words.iter().any(|w| n.to_lowercase().contains(w)))
                .cloned()
                .unwrap_or_default()
        };
        self.time.set(find(&["time", "days", "follow"]));
        self.event.set(find(&["status", "event", "death", "dead"]));
    }
}

fn input_value(ev: &leptos::ev::Event) -> String {
    ev.target()
        .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
        .map(|i| i.value())
        .unwrap_or_default()
}

/// A text field bound to `signal`.
#[component]
fn Field(
    label: &'static str,
    id: &'static str,
    signal: RwSignal<String>,
    #[prop(optional)] hint: &'static str,
) -> impl IntoView {
    view! {
        <label class="field">
            <span>{label}</span>
            <input id=id prop:value=move || signal.get() on:input=move |ev| signal.set(input_value(&ev))/>
            <small>{hint}</small>
        </label>
    }
}

/// A choice of the table's columns (or none, when `optional`).
#[component]
pub fn ColumnChoice(
    stats: Statistics,
    label: &'static str,
    id: &'static str,
    signal: RwSignal<String>,
    optional: bool,
) -> impl IntoView {
    let names = move || {
        stats
            .state
            .table
            .with(|t| {
                t.as_ref()
                    .map(|t| t.columns.iter().map(|c| c.name.clone()).collect::<Vec<_>>())
            })
            .unwrap_or_default()
    };
    view! {
        <label class="field">
            <span>{label}</span>
            <select id=id on:change=move |ev| signal.set(event_target_value(&ev))>
                <option value="" selected=move || signal.get().is_empty()>{if optional { "(none)" } else { "(choose)" }}</option>
                {move || names().into_iter().map(|n| {
                    let selected = n == signal.get();
                    view! { <option value=n.clone() selected=selected>{n.clone()}</option> }
                }).collect_view()}
            </select>
        </label>
    }
}

#[component]
pub fn StatisticsView(stats: Statistics, shown: RwSignal<Route>) -> impl IntoView {
    let s = stats.state;
    let form = Form::new();
    // A new file's columns suggest the outcome.
    Effect::new(move |_| {
        if let Some(names) = s.table.with(|t| {
            t.as_ref()
                .map(|t| t.columns.iter().map(|c| c.name.clone()).collect::<Vec<_>>())
        }) {
            form.guess(&names);
        }
    });
    let on_file = move |ev: leptos::ev::Event| {
        if let Some(file) = picked_files(&ev).into_iter().next() {
            stats.open(file);
        }
    };
    let fail = move |message: String| s.error.set(Some(message));
    let draw = move |_| {
        let conf = ConfType::parse(&form.conf.get_untracked()).unwrap_or_default();
        match (form.roles(false), form.horizon_list()) {
            (Ok(roles), Ok(at)) => stats.send(
                ToStatistics::Km { roles, at, conf },
                "Drawing the survival curves",
            ),
            (Err(e), _) | (_, Err(e)) => fail(e),
        }
    };
    let competing = move |_| {
        let with_covariates = !form.covariates.get_untracked().trim().is_empty();
        match (form.roles(with_covariates), form.horizon_list()) {
            (Ok(mut roles), Ok(at)) => {
                roles.outcome.competing_value = Form::optional(form.competing_value);
                let what = if with_covariates {
                    "Cumulative incidence, Gray's test and the Fine–Gray model"
                } else {
                    "Cumulative incidence and Gray's test"
                };
                stats.send(ToStatistics::Competing { roles, at }, what);
            }
            (Err(e), _) | (_, Err(e)) => fail(e),
        }
    };
    let fit = move |_| {
        let ties = Ties::parse(&form.ties.get_untracked()).unwrap_or(Ties::Efron);
        let plan = || -> Result<Option<BootstrapPlan>, String> {
            let b = form
                .bootstrap
                .get_untracked()
                .trim()
                .parse::<usize>()
                .map_err(|_| "Bootstrap refits: a whole number (0 for none)".to_owned())?;
            let seed = form
                .seed
                .get_untracked()
                .trim()
                .parse::<u64>()
                .map_err(|_| "Seed: a whole number".to_owned())?;
            let horizon = form.horizon_list()?.into_iter().reduce(f64::max);
            Ok((b > 0).then_some(BootstrapPlan { b, seed, horizon }))
        };
        let mut roles = match form.roles(true) {
            Ok(r) => r,
            Err(e) => return fail(e),
        };
        roles.group = None;
        match (plan(), form.horizon_list()) {
            (Ok(bootstrap), Ok(horizons)) => {
                let publish = Publish {
                    name: form.name.get_untracked(),
                    time_unit: form.time_unit.get_untracked(),
                    horizons,
                };
                let what = match bootstrap {
                    Some(b) => format!("Fitting the Cox model and {} bootstrap refits", b.b),
                    None => "Fitting the Cox model".into(),
                };
                stats.send(
                    ToStatistics::Fit {
                        roles,
                        ties,
                        bootstrap,
                        publish,
                    },
                    &what,
                );
            }
            (Err(e), _) | (_, Err(e)) => fail(e),
        }
    };
    view! {
        <div class="view statistics" id="view-statistics" data-answers=move || s.answers.get() hidden=move || shown.get() != Route::Statistics>
            <section class="stats-file">
                <h2>"Cohort statistics"</h2>
                <p>
                    "Develop a prognostic model on your cohort, or validate a published one, with the estimators of R's "
                    <code>"survival"</code>", "<code>"rms"</code>" and "<code>"riskRegression"</code>
                    ". The file is read in this browser; nothing is uploaded, and a validation report holds aggregate figures only."
                </p>
                <label class="button">
                    "Choose a cohort file (CSV)…"
                    <input id="stats-file" type="file" accept=".csv,.txt,.tsv,text/csv" on:change=on_file/>
                </label>
                <button class="action" id="stats-demo" on:click=move |_| open_synthetic(stats)>
                    "Or try an invented cohort (1,000 patients; nobody in it exists)"
                </button>
                <p class="hint">"One line per patient with a header line; commas or semicolons, decimal point or comma; missing values empty or NA."</p>
                <Status stats=stats/>
            </section>
            <Columns stats=stats/>
            <section class="stats-roles" id="stats-roles" hidden=move || s.table.with(Option::is_none)>
                <h2>"Outcome and model"</h2>
                <div class="form-grid">
                    <ColumnChoice stats=stats label="Follow-up time" id="stats-time" signal=form.time optional=false/>
                    <ColumnChoice stats=stats label="Event column" id="stats-event" signal=form.event optional=false/>
                    <Field label="Event value" id="stats-event-value" signal=form.event_value hint="The value that means the event (death); other values are censored, and the page says which."/>
                    <Field label="Time unit" id="stats-time-unit" signal=form.time_unit/>
                    <Field label="Horizons" id="stats-horizons" signal=form.horizons hint="In the time unit: where survival is read, risks are predicted and the model publishes its baseline."/>
                    <ColumnChoice stats=stats label="Compare groups" id="stats-group" signal=form.group optional=true/>
                    <label class="field">
                        <span>"Interval"</span>
                        <select id="stats-conf" on:change=move |ev| form.conf.set(event_target_value(&ev))>
                            <option value="log" selected=true>"log (R's default)"</option>
                            <option value="log-log">"log-log"</option>
                            <option value="plain">"plain"</option>
                        </select>
                    </label>
                </div>
                <button class="action" id="stats-km" on:click=draw disabled=move || s.running.with(Option::is_some)>"Draw survival curves"</button>
                <div class="form-grid">
                    <Field label="Competing event value" id="stats-competing-value" signal=form.competing_value hint="The value of the event column for an event that prevents the one studied (a transplant before death). Leave empty if there is none."/>
                </div>
                <button class="action" id="stats-competing" on:click=competing disabled=move || s.running.with(Option::is_some)>"Competing risks: cumulative incidence"</button>
                <div class="form-grid">
                    <Field label="Covariates" id="stats-covariates" signal=form.covariates hint="As in R: age, log(bili), rcs(albumin, 4), factor(edema, ref=0)."/>
                    <ColumnChoice stats=stats label="Strata" id="stats-strata" signal=form.strata optional=true/>
                    <label class="field">
                        <span>"Ties"</span>
                        <select id="stats-ties" on:change=move |ev| form.ties.set(event_target_value(&ev))>
                            <option value="efron" selected=true>"Efron (R's default)"</option>
                            <option value="breslow">"Breslow"</option>
                        </select>
                    </label>
                    <Field label="Bootstrap refits" id="stats-bootstrap" signal=form.bootstrap hint="Optimism correction as rms::validate (0: none)."/>
                    <Field label="Seed" id="stats-seed" signal=form.seed hint="The same seed gives the same figures here and in `sarcoscope cohort fit`."/>
                    <Field label="Model name" id="stats-name" signal=form.name/>
                </div>
                <button class="action" id="stats-fit" on:click=fit disabled=move || s.running.with(Option::is_some)>"Fit the Cox model"</button>
            </section>
            <KmSection stats=stats/>
            <CompetingSection stats=stats/>
            <FitSection stats=stats/>
            <ValidationSection stats=stats form=form/>
            <PoolingSection/>
        </div>
    }
}

/// What runs, its progress and the time left, Cancel, and the last error.
#[component]
fn Status(stats: Statistics) -> impl IntoView {
    let s = stats.state;
    view! {
        {move || s.running.get().map(|r| {
            let left = if r.done > 0 && r.total > r.done {
                let per = (js_sys::Date::now() - r.started_ms) / r.done as f64;
                format!(", about {} s left", ((r.total - r.done) as f64 * per / 1000.0).ceil())
            } else {
                String::new()
            };
            let count = if r.total > 0 {
                format!(" — {} of {}{left}", r.done, r.total)
            } else {
                String::new()
            };
            view! {
                <div class="progress" id="stats-progress">
                    <span>{format!("{}{count}…", r.what)}</span>
                    <progress max=r.total.max(1) value=r.done></progress>
                    <button id="stats-cancel" on:click=move |_| stats.cancel()>"Cancel"</button>
                </div>
            }
        })}
        <p class="error" id="stats-error">{move || s.error.get()}</p>
        <p class="hint" id="stats-note">{move || s.note.get()}</p>
    }
}

/// Each column: its type, missing count, range or levels.
#[component]
fn Columns(stats: Statistics) -> impl IntoView {
    let table = stats.state.table;
    view! {
        <section class="stats-columns" id="stats-columns" hidden=move || table.with(Option::is_none)>
            {move || table.get().map(|t| view! {
                <h2>{format!("{} — {} patients, {} columns", t.file, t.rows, t.columns.len())}</h2>
                <p class="hint">{format!("Read as {}.", t.dialect)}</p>
                <div class="scroll">
                <table class="metrics">
                    <thead><tr><th>"Column"</th><th>"Type"</th><th>"Missing"</th><th>"Min / median / max"</th><th>"Levels"</th></tr></thead>
                    <tbody>
                        {t.columns.into_iter().map(|c| {
                            let range = c.range.map(|r| format!("{} / {} / {}", figure(r.min, 2), figure(r.median, 2), figure(r.max, 2))).unwrap_or_default();
                            let levels = c.levels.iter().map(|(l, n)| format!("{l} ({n})")).collect::<Vec<_>>().join(", ");
                            let kind = match c.kind { ColumnKind::Number => "number", ColumnKind::Text => "text" };
                            view! { <tr><td><code>{c.name}</code></td><td>{kind}</td><td class="num">{c.missing}</td><td class="num">{range}</td><td>{levels}</td></tr> }
                        }).collect_view()}
                    </tbody>
                </table>
                </div>
            })}
        </section>
    }
}

/// The rows left out and the codes read as censored, on the page only.
#[component]
pub fn LeftOut(left: Left, id: &'static str) -> impl IntoView {
    let codes = left
        .censored_codes
        .iter()
        .map(|(c, n)| format!("'{c}' ({n})"))
        .collect::<Vec<_>>()
        .join(", ");
    let n = left.excluded.len();
    view! {
        <p class="hint" hidden=codes.is_empty()>{format!("Read as censored: {codes}.")}</p>
        <details class="left-out" id=id hidden=n == 0>
            <summary>{format!("{n} row(s) left out — shown here only, never exported")}</summary>
            <ul class="errors">
                {left.excluded.into_iter().map(|e| view! { <li>{e.to_string()}</li> }).collect_view()}
            </ul>
        </details>
    }
}

#[component]
fn KmSection(stats: Statistics) -> impl IntoView {
    let km = stats.state.km;
    let download = move |_| {
        if let Some(k) = km.get_untracked() {
            let text = serde_json::to_string_pretty(&k.output).unwrap_or_default();
            let _ = save_text("survival-curves.json", "application/json", &text);
        }
    };
    view! {
        <section class="stats-km" id="stats-km-section" hidden=move || km.with(Option::is_none)>
            {move || km.get().map(|k| {
                let logrank = k.output.logrank.map(|t| format!("Log-rank test: χ² = {} on {} df, {} (survival::survdiff).", figure(t.chisq, 3), t.df, p_value(t.p))).unwrap_or_default();
                view! {
                    <h2>"Kaplan–Meier survival"</h2>
                    <div class="km-plot" id="stats-km-plot" inner_html=k.svg></div>
                    <table class="metrics" id="stats-km-table">
                        <thead><tr><th>"Group"</th><th>"Time"</th><th>"At risk"</th><th>"Survival"</th><th>"95% CI"</th></tr></thead>
                        <tbody>
                            {k.output.groups.iter().flat_map(|g| g.at.iter().map(|p| {
                                view! { <tr><td>{g.group.clone()}</td><td class="num">{figure(p.time, 2)}</td><td class="num">{p.n_risk}</td><td class="num">{figure(p.surv, 4)}</td><td class="num">{interval(p.lower, p.upper, 4, "not defined")}</td></tr> }
                            }).collect::<Vec<_>>()).collect_view()}
                        </tbody>
                    </table>
                    <ul>
                        {k.output.groups.iter().map(|g| view! {
                            <li>{format!("{}: {} patients, {} events, median survival {} (95% CI {})", g.group, g.n, g.events, g.median.time.map_or_else(|| "not reached".into(), |t| figure(t, 1)), interval(g.median.lower, g.median.upper, 1, "not reached"))}</li>
                        }).collect_view()}
                    </ul>
                    <p id="stats-logrank">{logrank}</p>
                    <p class="cite">"Kaplan–Meier with Greenwood's variance, as survival::survfit; median and its interval as print.survfit."</p>
                    <button class="action" id="stats-download-km" on:click=download>"Download the curves (JSON, as sarcoscope cohort km --json)"</button>
                    <LeftOut left=k.left id="stats-km-left"/>
                }
            })}
        </section>
    }
}

#[component]
fn FitSection(stats: Statistics) -> impl IntoView {
    let fit = stats.state.fit;
    let download_model = move |_| {
        if let Some(Ok(text)) = fit.with_untracked(|f| f.as_ref().map(|f| f.model.clone())) {
            let _ = save_text("model.sarcoscope-model.json", "application/json", &text);
        }
    };
    let download_fit = move |_| {
        if let Some(f) = fit.get_untracked() {
            let text = serde_json::to_string_pretty(&f.output).unwrap_or_default();
            let _ = save_text("cox-fit.json", "application/json", &text);
        }
    };
    view! {
        <section class="stats-fit" id="stats-fit-section" hidden=move || fit.with(Option::is_none)>
            {move || fit.get().map(|f| {
                let o = f.output;
                let test = |name: &str, t: sarcoscope::survival::cox::Test| format!("{name}: χ² = {} on {} df, {}", figure(t.chisq, 2), t.df, p_value(t.p));
                view! {
                    <h2>{format!("Cox model — {} patients, {} events ({:?} ties)", o.n, o.events, o.ties)}</h2>
                    <div class="scroll">
                    <table class="metrics" id="stats-cox-table">
                        <thead><tr><th>"Term"</th><th>"coef"</th><th>"se"</th><th>"robust se"</th><th>"z"</th><th>"p"</th><th>"HR (95% CI)"</th></tr></thead>
                        <tbody>
                            {o.coefficients.iter().map(|c| view! {
                                <tr><td><code>{c.name.clone()}</code></td><td class="num">{figure(c.coef, 4)}</td><td class="num">{figure(c.se, 4)}</td><td class="num">{figure(c.robust_se, 4)}</td><td class="num">{figure(c.z, 2)}</td><td class="num">{p_figure(Some(c.p))}</td>
                                <td class="num">{format!("{} ({}–{})", figure(c.hr, 3), figure(c.hr_lower, 3), figure(c.hr_upper, 3))}</td></tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                    </div>
                    <ul id="stats-cox-tests">
                        <li>{format!("Log-likelihood {} (null {}); {} Newton–Raphson iterations", figure(o.loglik, 3), figure(o.loglik_null, 3), o.iterations)}</li>
                        <li>{test("Likelihood ratio test", o.lr_test)}</li>
                        <li>{test("Wald test", o.wald_test)}</li>
                        <li>{test("Score (log-rank) test", o.score_test)}</li>
                        <li id="stats-harrell">{format!("Harrell's C {} (se {})", figure(o.concordance.harrell, 4), figure(o.concordance.harrell_se, 4))}</li>
                    </ul>
                    <h3>"Proportional hazards (cox.zph, Kaplan–Meier time scale)"</h3>
                    <table class="metrics" id="stats-zph">
                        <thead><tr><th>"Term"</th><th>"χ²"</th><th>"df"</th><th>"p"</th></tr></thead>
                        <tbody>
                            {o.proportional_hazards.iter().map(|t| view! {
                                <tr><td><code>{t.term.clone()}</code></td><td class="num">{figure(t.test.chisq, 3)}</td><td class="num">{t.test.df}</td><td class="num">{p_figure(t.test.p)}</td></tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                    <p class="cite">"A small p says the term's hazard ratio changes over follow-up (Grambsch & Therneau 1994, the score test of survival ≥ 3.0)."</p>
                    <details class="zph-plots" id="stats-zph-plots" open=true hidden=f.residuals.is_empty()>
                        <summary>"β(t) of each term: scaled Schoenfeld residuals over follow-up"</summary>
                        <p class="hint">"Each dot is a death; the line is a smooth with ±2 SE (dashed), as plot(cox.zph(fit)) draws it. A smooth that stays near the dotted line (the fitted coefficient) means the hazard ratio holds over follow-up; a trend means it changes."</p>
                        {f.residuals.iter().map(|r| view! {
                            <figure class="zph-plot">
                                <figcaption><code>{r.name.clone()}</code></figcaption>
                                <div inner_html=r.svg.clone()></div>
                            </figure>
                        }).collect_view()}
                    </details>
                    {o.bootstrap.map(|b| {
                        let brier = |v: Option<f64>| maybe(v, 4);
                        view! {
                            <h3>{format!("Internal validation: {} bootstrap refits (seed {}{})", b.b, b.seed, if b.failed > 0 { format!(", {} samples drawn again", b.failed) } else { String::new() })}</h3>
                            <table class="metrics" id="stats-bootstrap-table">
                                <thead><tr><th></th><th>"Apparent"</th><th>"Optimism"</th><th>"Corrected"</th></tr></thead>
                                <tbody>
                                    <tr><td>"Harrell's C"</td><td class="num">{figure(b.apparent.c, 4)}</td><td class="num">{figure(b.optimism.c, 4)}</td><td class="num">{figure(b.corrected.c, 4)}</td></tr>
                                    <tr><td>"Calibration slope"</td><td class="num">{figure(b.apparent.slope, 3)}</td><td class="num">{figure(b.optimism.slope, 3)}</td><td class="num">{figure(b.corrected.slope, 3)}</td></tr>
                                    <tr><td>"Brier score (last horizon)"</td><td class="num">{brier(b.apparent.brier)}</td><td class="num">{brier(b.optimism.brier)}</td><td class="num">{brier(b.corrected.brier)}</td></tr>
                                </tbody>
                            </table>
                            <p class="cite">"Optimism correction as rms::validate (Harrell, Regression Modeling Strategies §5.3); draws from SplitMix64, identical in the browser and the command line."</p>
                        }
                    })}
                    <ul class="warnings">{o.warnings.iter().map(|w| view! { <li>{w.clone()}</li> }).collect_view()}</ul>
                    <p class="cite">"Cox model by Newton–Raphson with step halving, as survival::coxph; robust SEs as coxph(robust = TRUE); C as survival::concordance."</p>
                    <p>
                        <button class="action" id="stats-download-model" disabled=f.model.is_err() on:click=download_model>"Download the model file"</button>
                        <button class="action" id="stats-download-fit" on:click=download_fit>"Download the fit (JSON, as sarcoscope cohort fit --json)"</button>
                    </p>
                    <p class="error" id="stats-model-refused">{f.model.err()}</p>
                    <LeftOut left=f.left id="stats-fit-left"/>
                }
            })}
        </section>
    }
}
