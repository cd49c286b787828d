//! Body composition at L3: the numbers, the sarcopenia and myosteatosis calls under the
//! chosen cut-off sets, and where every formula and threshold comes from.

use leptos::prelude::*;

use super::case::Case;
use crate::body::composition::{AREA_SOURCE, LOW_ATTENUATION_SOURCE};
use crate::body::{Call, MyosteatosisCutoffs, SmiCutoffs, CUTOFFS_VERSION};
use crate::provenance::Evidence;
use crate::report::CaseReport;

fn fixed(v: Option<f64>, places: usize) -> String {
    v.map_or("—".to_string(), |v| format!("{v:.places$}"))
}

/// A citation line, marked when the source was not verified against the primary text.
#[component]
pub fn Cite(source: crate::provenance::Source) -> impl IntoView {
    let unverified = source.evidence == Evidence::Recalled;
    view! {
        <p class="cite" class:unverified=unverified>
            {if unverified { "Unverified source: " } else { "Source: " }}
            {source.citation}
        </p>
    }
}

fn call_view(
    id: &'static str,
    title: &'static str,
    call: Option<Call>,
    unit: &'static str,
) -> impl IntoView {
    let Some(c) = call else {
        return view! {
            <div class="call" id=id data-call="none"><strong>{title}": "</strong>"segment the measurement slice first"</div>
        }
        .into_any();
    };
    let verdict = c.label();
    let detail = match (c.value, c.threshold) {
        (Some(v), Some(t)) => format!(
            "{v:.1} {unit} {} threshold {t:.2} {unit}",
            if v < t { "<" } else { "≥" }
        ),
        _ => format!("needs {}", c.needs.join(" and ")),
    };
    view! {
        <div class="call" id=id data-call=verdict>
            <strong>{title}": "</strong>
            <span class=format!("verdict verdict-{verdict}")>{verdict}</span>
            " — "{detail}
            <Cite source=c.source/>
        </div>
    }
    .into_any()
}

#[component]
pub fn BodyPanel(case: Case, current: Memo<CaseReport>) -> impl IntoView {
    let rows = move || {
        let r = current.get();
        let c = r.case.composition.as_ref()?;
        let i = c.indices;
        let row = |id: &'static str, name: &'static str, value: String, index: String| {
            let shown = value.clone();
            view! {
                <tr id=id data-value=value>
                    <td>{name}</td><td class="num">{shown}</td><td class="num">{index}</td>
                </tr>
            }
        };
        Some(view! {
            {row("metric-sma", "Skeletal muscle (SMA, SMI)", fixed(Some(c.sma_cm2), 1), fixed(i.map(|i| i.smi), 1))}
            {row("metric-imat", "IMAT", fixed(Some(c.imat_cm2), 1), fixed(i.map(|i| i.imat), 1))}
            {row("metric-vat", "VAT", fixed(Some(c.vat_cm2), 1), fixed(i.map(|i| i.vat), 1))}
            {row("metric-sat", "SAT", fixed(Some(c.sat_cm2), 1), fixed(i.map(|i| i.sat), 1))}
            {row("metric-muscle-hu", "Muscle attenuation (mean HU)", fixed(c.muscle_hu, 1), String::new())}
            {row("metric-lama", "Low-attenuation muscle, −29..29 HU (% of muscle)", fixed(c.low_attenuation_muscle_pct, 1), String::new())}
            {row("metric-vat-sat", "VAT / SAT ratio", fixed(c.vat_sat_ratio, 2), String::new())}
            {row("metric-bmi", "BMI (kg/m²)", fixed(c.bmi, 1), String::new())}
        })
    };
    let needs_height = move || {
        let r = current.get();
        (r.case.composition.is_some() && r.case.body.height.is_none())
            .then_some("Enter the height (Patient and scan panel): SMI and the indices need it, and it is never guessed.")
    };
    view! {
        <section class="body" id="body-panel">
            <h2>"Body composition at L3"</h2>
            <p class="warning">{needs_height}</p>
            <table class="metrics">
                <thead><tr><th></th><th>"Area (cm²) / value"</th><th>"Index (cm²/m²)"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
            <label class="field wide">
                <span>"Sarcopenia cut-offs"</span>
                <select id="smi-cutoffs" on:change=move |ev| {
                    if let Some(set) = SmiCutoffs::from_key(&event_target_value(&ev)) {
                        case.smi_cutoffs.set(set);
                    }
                }>
                    {SmiCutoffs::ALL.into_iter().map(|set| view! {
                        <option value=set.key() prop:selected=move || case.smi_cutoffs.get() == set>{set.name()}</option>
                    }).collect_view()}
                </select>
            </label>
            {move || call_view("call-sarcopenia", "Sarcopenia (SMI)", current.get().sarcopenia, "cm²/m²")}
            <label class="field wide">
                <span>"Myosteatosis cut-offs"</span>
                <select id="myosteatosis-cutoffs" on:change=move |ev| {
                    if let Some(set) = MyosteatosisCutoffs::from_key(&event_target_value(&ev)) {
                        case.myosteatosis_cutoffs.set(set);
                    }
                }>
                    {MyosteatosisCutoffs::ALL.into_iter().map(|set| view! {
                        <option value=set.key() prop:selected=move || case.myosteatosis_cutoffs.get() == set>{set.name()}</option>
                    }).collect_view()}
                </select>
            </label>
            {move || call_view("call-myosteatosis", "Myosteatosis (muscle HU)", current.get().myosteatosis, "HU")}
            <Cite source=AREA_SOURCE/>
            <Cite source=LOW_ATTENUATION_SOURCE/>
            <p class="hint">{format!("Cut-off sets: {CUTOFFS_VERSION}. The set applied is printed in the report and every export.")}</p>
        </section>
    }
}
