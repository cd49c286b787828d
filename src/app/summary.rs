//! The key figures of the patient in one line above the tabs, so the numbers a
//! hepatologist reads first stay in sight whatever tab is open.

use leptos::prelude::*;

use super::body_panel::fixed;
use sarcoscope::body::Call;
use sarcoscope::report::CaseReport;

fn call_words(call: Option<&Call>) -> (&'static str, String) {
    match call {
        None => ("none", "—".into()),
        Some(c) => (c.label(), c.label().to_string()),
    }
}

#[component]
pub fn SummaryStrip(current: Memo<CaseReport>) -> impl IntoView {
    let figure = move |id: &'static str,
                       label: &'static str,
                       value: Box<dyn Fn(&CaseReport) -> String + Send + Sync>| {
        view! {
            <div class="figure" id=id>
                <span class="label">{label}</span>
                <span class="value">{move || current.with(|r| value(r))}</span>
            </div>
        }
    };
    let call = move |id: &'static str,
                     label: &'static str,
                     pick: fn(&CaseReport) -> Option<&Call>| {
        view! {
            <div class="figure" id=id data-call=move || current.with(|r| call_words(pick(r)).0)>
                <span class="label">{label}</span>
                <span class=move || format!("value verdict verdict-{}", current.with(|r| call_words(pick(r)).0))>
                    {move || current.with(|r| call_words(pick(r)).1)}
                </span>
            </div>
        }
    };
    view! {
        <div class="summary" id="summary">
            {figure("summary-sma", "SMA cm²", Box::new(|r| fixed(r.case.composition.as_ref().map(|c| c.sma_cm2), 1)))}
            {figure("summary-smi", "SMI cm²/m²", Box::new(|r| fixed(r.case.composition.as_ref().and_then(|c| c.indices).map(|i| i.smi), 1)))}
            {call("summary-sarcopenia", "Sarcopenia", |r| r.sarcopenia.as_ref())}
            {call("summary-myosteatosis", "Myosteatosis", |r| r.myosteatosis.as_ref())}
            {figure("summary-meld-na", "MELD-Na", Box::new(|r| r.case.scores.meld_na.map_or("—".into(), |m| m.to_string())))}
            {figure("summary-child-pugh", "Child–Pugh", Box::new(|r| r.case.scores.child_pugh.map_or("—".into(), |c| format!("{} {}", c.class.letter(), c.points))))}
        </div>
    }
}
