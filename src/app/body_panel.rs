//! Body composition at L3: the numbers, the sarcopenia and myosteatosis calls under the
//! chosen cut-off sets, and where every formula and threshold comes from.

use leptos::prelude::*;

use super::case::Case;
use sarcoscope::body::composition::{AREA_SOURCE, LOW_ATTENUATION_SOURCE};
use sarcoscope::body::{Call, MyosteatosisCutoffs, SmiCutoffs, CUTOFFS_VERSION};
use sarcoscope::provenance::Evidence;
use sarcoscope::report::CaseReport;

/// A number to `places` decimals, or a dash when absent.
pub fn fixed(v: Option<f64>, places: usize) -> String {
    v.map_or("—".to_string(), |v| format!("{v:.places$}"))
}

/// A citation line, marked when the source was not verified against the primary text.
#[component]
pub fn Cite(source: sarcoscope::provenance::Source) -> impl IntoView {
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

/// A choice among cut-off sets, shown by name and stored by key.
fn cutoff_select<T: Copy + PartialEq + Send + Sync + 'static>(
    id: &'static str,
    label: &'static str,
    chosen: RwSignal<T>,
    all: &'static [T],
    key: fn(T) -> &'static str,
    name: fn(T) -> &'static str,
) -> impl IntoView {
    view! {
        <label class="field wide">
            <span>{label}</span>
            <select id=id on:change=move |ev| {
                let wanted = event_target_value(&ev);
                if let Some(&set) = all.iter().find(|&&s| key(s) == wanted) {
                    chosen.set(set);
                }
            }>
                {all.iter().map(|&set| view! {
                    <option value=key(set) prop:selected=move || chosen.get() == set>{name(set)}</option>
                }).collect_view()}
            </select>
        </label>
    }
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
            {cutoff_select("smi-cutoffs", "Sarcopenia cut-offs", case.smi_cutoffs, &SmiCutoffs::ALL, SmiCutoffs::key, SmiCutoffs::name)}
            {move || call_view("call-sarcopenia", "Sarcopenia (SMI)", current.get().sarcopenia, "cm²/m²")}
            {cutoff_select("myosteatosis-cutoffs", "Myosteatosis cut-offs", case.myosteatosis_cutoffs, &MyosteatosisCutoffs::ALL, MyosteatosisCutoffs::key, MyosteatosisCutoffs::name)}
            {move || call_view("call-myosteatosis", "Myosteatosis (muscle HU)", current.get().myosteatosis, "HU")}
            <Cite source=AREA_SOURCE/>
            <Cite source=LOW_ATTENUATION_SOURCE/>
            <p class="hint">{format!("Cut-off sets: {CUTOFFS_VERSION}. The set applied is printed in the report and every export.")}</p>
        </section>
    }
}
