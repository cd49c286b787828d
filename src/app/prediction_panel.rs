//! The patient's predicted risk under each prognostic model the page knows: the
//! published scores shipped with Sarcoscope, and the model files fitted or loaded in
//! the Statistics view. Values are read from this patient's report under the names of
//! Sarcoscope's CSV export (`meld`, `smi_cm2_m2`, `sarcopenia`, …), so a model fitted on
//! exported cohorts finds them; what is missing or out of range is said.

use leptos::prelude::*;

use super::figures::{figure, interval};
use sarcoscope::report::CaseReport;
use sarcoscope::survival::model::ModelFile;
use sarcoscope::survival::prediction::predict;
use sarcoscope::survival::published;

#[component]
pub fn PredictionPanel(
    current: Memo<CaseReport>,
    models: RwSignal<Vec<ModelFile>>,
) -> impl IntoView {
    // Built and sealed once: the list below is redrawn at every keystroke in the form.
    // Scores that only rank (MELD-Na, MELD-Sarcopenia) give no probability: the Scores
    // tab shows their values.
    let shipped: Vec<ModelFile> = published::AVAILABLE
        .iter()
        .filter_map(|(key, _)| published::model(key))
        .filter(|m| !m.ranks_only())
        .collect();
    let all = move || {
        shipped
            .iter()
            .cloned()
            .chain(models.get())
            .collect::<Vec<_>>()
    };
    let percent = |v: f64| format!("{} %", figure(100.0 * v, 1));
    view! {
        <section class="predictions" id="prediction-panel">
            <h2>"Predicted risk"</h2>
            <ul class="predictions">
                {move || {
                    let report = current.get();
                    let columns = report.columns();
                    // A call not made ("unknown") is a value not known.
                    let value_of = |column: &str| {
                        columns.iter().find(|(n, _)| *n == column).map(|(_, v)| v.clone()).filter(|v| v != "unknown")
                    };
                    all().into_iter().map(|model| {
                        let c = &model.content;
                        let source = match &c.publication {
                            Some(p) => format!("Published score, not this study's model: {}", p.citation),
                            None => format!("Model file {}…, developed on {} patients.", &model.sha256[..12.min(model.sha256.len())], c.development.n),
                        };
                        let body = match predict(&model, value_of) {
                            Ok(p) => {
                                let risks = p.horizons.iter().map(|h| {
                                    let ci = match (h.lower, h.upper) {
                                        (Some(_), Some(_)) => format!(" (95% CI {})", interval(h.lower.map(|v| 100.0 * v), h.upper.map(|v| 100.0 * v), 1, "not defined")),
                                        _ => " (no interval: the model carries no covariance)".into(),
                                    };
                                    format!("risk of {} by {} {}: {}{ci}", c.outcome, figure(h.time, 0), c.time_unit, percent(h.risk))
                                }).collect::<Vec<_>>().join("; ");
                                let outside = (!p.outside_range.is_empty()).then(|| format!(
                                    "Outside the model's development range: {} — the prediction extrapolates.", p.outside_range.join(", ")
                                ));
                                view! { <p class="risk">{risks}</p><p class="warning">{outside}</p> }.into_any()
                            }
                            Err(e) => view! { <p class="hint">{format!("Not computed: {e}.")}</p> }.into_any(),
                        };
                        view! {
                            <li data-model=c.name.clone()>
                                <strong>{c.name.clone()}</strong>
                                {body}
                                <p class="cite">{source}</p>
                            </li>
                        }
                    }).collect_view()
                }}
            </ul>
            <p class="cite">
                "Values are this page's, under the names of Sarcoscope's CSV export. Intervals: delta method on the linear predictor centred at the development means; the baseline hazard's own uncertainty is not included."
            </p>
        </section>
    }
}
