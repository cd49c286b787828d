//! The patient and scan panel: sex, age, height and weight (prefilled from the header
//! when recorded, never guessed), and the acquisition facts of the open series.

use leptos::prelude::*;

use super::workspace::Workspace;

#[component]
pub fn FactsPanel(ws: Workspace) -> impl IntoView {
    let case = ws.case;
    let scan = move || -> Vec<(String, String)> {
        let Some(inst) = ws
            .scan
            .selection
            .with(|s| s.as_ref().and_then(|s| s.first.clone()))
        else {
            return Vec::new();
        };
        let recorded = |v: Option<String>| v.unwrap_or_else(|| "not recorded".into());
        vec![
            (
                "kVp".into(),
                recorded(inst.acquisition.kvp.map(|k| format!("{k:.0}"))),
            ),
            (
                "Slice thickness".into(),
                recorded(inst.slice_thickness.map(|t| format!("{t:.2} mm"))),
            ),
            (
                "Contrast".into(),
                inst.acquisition
                    .contrast_agent
                    .clone()
                    .unwrap_or_else(|| "none recorded".into()),
            ),
            (
                "Manufacturer".into(),
                recorded(inst.acquisition.manufacturer.clone()),
            ),
            ("Model".into(), recorded(inst.acquisition.model.clone())),
            (
                "Study date".into(),
                recorded(inst.acquisition.study_date.clone()),
            ),
        ]
    };
    let field = move |label: &'static str,
                      id: &'static str,
                      value: RwSignal<String>,
                      hint: &'static str| {
        view! {
            <label class="field">
                <span>{label}</span>
                <input id=id prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev))/>
                <small>{hint}</small>
            </label>
        }
    };
    view! {
        <aside class="facts" id="facts">
            <h2>"Patient and scan"</h2>
            <p class="hint">"Prefilled from the DICOM header when recorded; check and complete. Height is needed for SMI and is never guessed."</p>
            {field("Sex (M/F)", "sex", case.sex, "")}
            {field("Age (years)", "age", case.age, "")}
            {field("Height (cm)", "height", case.height_cm, "from PatientSize when recorded")}
            {field("Weight (kg)", "weight", case.weight_kg, "from PatientWeight when recorded")}
            <ul class="errors" id="facts-errors">
                {move || case.anthropometry().1.into_iter().map(|(k, e)| view! { <li data-field=k>{e}</li> }).collect_view()}
            </ul>
            <dl class="scan" id="scan-facts">
                {move || {
                    scan()
                        .into_iter()
                        .map(|(k, v)| view! { <dt>{k}</dt><dd>{v}</dd> })
                        .collect_view()
                }}
            </dl>
        </aside>
    }
}
