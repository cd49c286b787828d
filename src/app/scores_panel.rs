//! The laboratory form and the prognosis scores, and the study eligibility checklist.
//! Units are chosen per field; a value that cannot be right is refused with a message
//! beside the field, and a score lacking an input says which.

use leptos::prelude::*;

use super::body_panel::Cite;
use super::case::{Case, LabField};
use sarcoscope::clinical::eligibility::{self, Answers, Criterion, Exclusion};
use sarcoscope::clinical::{albi, child_pugh, fibrosis, meld, Lab, Units};
use sarcoscope::provenance::Source;
use sarcoscope::report::CaseReport;

/// One laboratory input; `errors` is the form's checked once for every field.
fn lab_field(case: Case, lab: Lab, errors: Memo<Vec<(&'static str, String)>>) -> impl IntoView {
    let convertible = matches!(lab, Lab::Bilirubin | Lab::Creatinine | Lab::Albumin);
    let text = move || {
        case.labs
            .with(|l| l.get(&lab).map(|f| f.text.clone()).unwrap_or_default())
    };
    let units = move || {
        case.labs
            .with(|l| l.get(&lab).map_or(Units::Si, |f| f.units))
    };
    let set = move |f: &dyn Fn(&mut LabField)| {
        case.labs.update(|l| {
            if let Some(field) = l.get_mut(&lab) {
                f(field);
            }
        })
    };
    let error = move || {
        errors
            .get()
            .into_iter()
            .find(|(k, _)| *k == lab.key())
            .map(|(_, e)| e)
    };
    let unit_control = if convertible {
        view! {
            <select id=format!("unit-{}", lab.key()) on:change=move |ev| {
                let u = if event_target_value(&ev) == "conventional" { Units::Conventional } else { Units::Si };
                // The typed number is converted, so switching the unit never changes the
                // quantity (71.8 µmol/L must not become 71.8 mg/dL).
                set(&|f| {
                    if let Some(text) = lab.convert_text(&f.text, f.units, u) {
                        f.text = text;
                    }
                    f.units = u;
                });
            }>
                <option value="si" prop:selected=move || units() == Units::Si>{lab.unit(Units::Si)}</option>
                <option value="conventional" prop:selected=move || units() == Units::Conventional>{lab.unit(Units::Conventional)}</option>
            </select>
        }
        .into_any()
    } else {
        view! { <span class="unit">{lab.unit(Units::Si)}</span> }.into_any()
    };
    view! {
        <label class="field lab">
            <span>{lab.name()}</span>
            <input
                id=format!("lab-{}", lab.key())
                inputmode="decimal"
                prop:value=text
                on:input=move |ev| { let v = event_target_value(&ev); set(&|f| f.text = v.clone()); }
            />
            {unit_control}
            <small class="error" id=format!("lab-{}-error", lab.key())>{error}</small>
        </label>
    }
}

fn choice(
    id: &'static str,
    label: &'static str,
    signal: RwSignal<String>,
    options: &'static [(&'static str, &'static str)],
) -> impl IntoView {
    view! {
        <label class="field lab">
            <span>{label}</span>
            <select id=id on:change=move |ev| signal.set(event_target_value(&ev))>
                {options.iter().map(|&(value, text)| view! {
                    <option value=value prop:selected=move || signal.get() == value>{text}</option>
                }).collect_view()}
            </select>
        </label>
    }
}

fn score_row(
    id: &'static str,
    name: impl IntoView + 'static,
    value: Option<String>,
    source: Source,
) -> impl IntoView {
    let shown = value.clone().unwrap_or_else(|| "—".into());
    view! {
        <tr id=id data-value=value.unwrap_or_default()>
            <td>{name}</td>
            <td class="num">{shown}</td>
            <td class="cite-cell"><Cite source=source/></td>
        </tr>
    }
}

/// The laboratory form: one field per value, its unit chosen per field.
#[component]
pub fn LabsPanel(case: Case) -> impl IntoView {
    let errors = Memo::new(move |_| case.clinical().1);
    view! {
        <section class="labs" id="labs-panel">
            <h2>"Laboratory"</h2>
            <p class="hint">"Choose the unit per field. Values that cannot be right are refused, never scored. Scores use the sex and age above."</p>
            <div class="lab-grid">
                {Lab::ALL.into_iter().map(|lab| lab_field(case, lab, errors)).collect_view()}
                {choice("dialysis", "Dialysis ≥ 2× or CVVHD 24 h in the past week", case.dialysis, &[("", "—"), ("0", "no"), ("1", "yes")])}
                {choice("ascites", "Ascites", case.ascites, &[("", "—"), ("none", "none"), ("mild", "mild / easily controlled"), ("moderate", "moderate–severe / poorly controlled")])}
                {choice("encephalopathy", "Encephalopathy (West Haven)", case.encephalopathy, &[("", "—"), ("0", "none"), ("1", "grade 1–2"), ("3", "grade 3–4")])}
            </div>
        </section>
    }
}

/// The prognosis scores, each with its source, and what a missing one still needs.
#[component]
pub fn ScoresPanel(current: Memo<CaseReport>) -> impl IntoView {
    let rows = move || {
        let s = current.get().case.scores;
        view! {
            {score_row("score-meld", "MELD (UNOS)", s.meld.map(|m| m.score.to_string()), meld::MELD_SOURCE)}
            {score_row("score-meld-survival", "MELD 3-month survival", s.meld.map(|m| format!("{:.1} %", 100.0 * m.survival_3_month)), meld::MELD_SURVIVAL_SOURCE)}
            {score_row("score-meld-na", "MELD-Na (UNOS 2016)", s.meld_na.map(|m| m.to_string()), meld::MELD_NA_SOURCE)}
            {score_row("score-meld3", "MELD 3.0", s.meld3.map(|m| if m.uncapped != m.score {
                format!("{} (uncapped {})", m.score, m.uncapped)
            } else { m.score.to_string() }), meld::MELD3_SOURCE)}
            {score_row("score-meld3-survival", "MELD 3.0 90-day survival", s.meld3.map(|m| format!("{:.1} %", 100.0 * m.survival_90_day)), meld::MELD3_SURVIVAL_SOURCE)}
            {score_row("score-child-pugh", "Child–Pugh", s.child_pugh.map(|c| format!("{} (class {})", c.points, c.class.letter())), child_pugh::SOURCE)}
            {score_row("score-albi", "ALBI", s.albi.map(|a| format!("{:.2} (grade {})", a.score, a.grade)), albi::SOURCE)}
            {score_row("score-apri", "APRI", s.apri.map(|v| format!("{v:.2}")), fibrosis::APRI_SOURCE)}
            {score_row("score-fib4", "FIB-4", s.fib4.map(|v| format!("{v:.2}")), fibrosis::FIB4_SOURCE)}
            {score_row("score-meld-sarcopenia", format!("MELD-Sarcopenia{}", s.sarcopenic_for_meld.map_or(String::new(), |c| format!(" ({})", meld::martin_call_words(c)))), s.meld_sarcopenia.map(|v| format!("{v:.2}")), meld::MELD_SARCOPENIA_SOURCE)}
        }
    };
    let missing = move || {
        current
            .get()
            .case
            .scores
            .missing
            .into_iter()
            .map(|m| view! { <li>{format!("{} needs {}", m.score, m.needs.join(", "))}</li> })
            .collect_view()
    };
    view! {
        <section class="scores" id="scores-panel">
            <h2>"Prognosis scores"</h2>
            <p class="hint">"From the Patient and labs tab; a score that lacks an input says which."</p>
            <table class="scores-table" id="scores-table">
                <thead><tr><th>"Score"</th><th>"Value"</th><th>"Source"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
            <ul class="missing" id="scores-missing">{missing}</ul>
            <p class="hint">{format!("Child–Pugh albumin: 3 points below {} g/dL (Pugh 1973, CCJM); some tables use 3.0.", child_pugh::ALBUMIN_LOWER_BAND_G_DL)}</p>
        </section>
    }
}

fn status_view(c: Criterion) -> impl IntoView {
    view! {
        <tr id=format!("criterion-{}", c.key) data-status=c.status.label()>
            <td>{c.text}</td>
            <td class=format!("status status-{}", c.status.label().replace(' ', "-"))>{c.status.label()}</td>
            <td>{c.detail}</td>
        </tr>
    }
}

fn answer(
    id: String,
    label: &'static str,
    case: Case,
    get: impl Fn(&Answers) -> Option<bool> + Copy + Send + Sync + 'static,
    put: impl Fn(&mut Answers, Option<bool>) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let value = move || match get(&case.answers.get()) {
        Some(true) => "yes",
        Some(false) => "no",
        None => "",
    };
    view! {
        <label class="field wide">
            <span>{label}</span>
            <select id=id on:change=move |ev| {
                let v = match event_target_value(&ev).as_str() { "yes" => Some(true), "no" => Some(false), _ => None };
                case.answers.update(|a| put(a, v));
            }>
                <option value="" prop:selected=move || value().is_empty()>"unknown"</option>
                <option value="yes" prop:selected=move || value() == "yes">"yes"</option>
                <option value="no" prop:selected=move || value() == "no">"no"</option>
            </select>
        </label>
    }
}

#[component]
pub fn EligibilityPanel(case: Case, current: Memo<CaseReport>) -> impl IntoView {
    view! {
        <section class="eligibility" id="eligibility-panel">
            <h2>"Study eligibility (NCT06531200)"</h2>
            <p class="hint">"The laboratory route to a cirrhosis diagnosis needs at least two of four signs. Nothing unknown counts as met; the investigator decides."</p>
            <p>
                "Laboratory route: "
                <strong id="eligibility-route" data-status=move || current.get().case.eligibility.laboratory_route.label()>
                    {move || current.get().case.eligibility.laboratory_route.label()}
                </strong>
            </p>
            <table class="criteria">
                <tbody>
                    {move || current.get().case.eligibility.signs.into_iter().map(status_view).collect_view()}
                    {move || current.get().case.eligibility.checks.into_iter().map(status_view).collect_view()}
                </tbody>
            </table>
            {answer("answer-platelets".into(), "Low platelets have no other explainable cause", case, |a| a.platelets_no_other_cause, |a, v| a.platelets_no_other_cause = v)}
            {answer("answer-albumin".into(), "Low albumin not due to malnutrition or kidney disease", case, |a| a.albumin_no_other_cause, |a, v| a.albumin_no_other_cause = v)}
            {answer("answer-inr".into(), "Anticoagulants/thrombolytics stopped > 7 days before the INR", case, |a| a.inr_off_anticoagulants, |a, v| a.inr_off_anticoagulants = v)}
            {answer("answer-l3".into(), "High-quality L3 CT (see the QC flags)", case, |a| a.l3_ct_high_quality, |a, v| a.l3_ct_high_quality = v)}
            <h3>"Exclusion criteria"</h3>
            <p class="hint">"Does any of these apply? Each is the investigator's answer: none can be read from the CT or the laboratory values."</p>
            <p>
                "No exclusion criterion applies: "
                <strong id="eligibility-exclusions" data-status=move || current.get().case.eligibility.no_exclusion.label()>
                    {move || current.get().case.eligibility.no_exclusion.label()}
                </strong>
            </p>
            <table class="criteria">
                <tbody>
                    {move || current.get().case.eligibility.exclusions.into_iter().map(status_view).collect_view()}
                </tbody>
            </table>
            {Exclusion::ALL.into_iter().map(|which| view! {
                {answer(format!("exclusion-{}", which.key()), which.text(), case, move |a| a.exclusion(which), move |a, v| a.set_exclusion(which, v))}
                {which.prompt().map(|p| view! { <p class="hint prompt">{format!("Before answering: {p}.")}</p> })}
            }).collect_view()}
            <Cite source=eligibility::SOURCE/>
            <Cite source=eligibility::EXCLUSION_SOURCE/>
        </section>
    }
}
