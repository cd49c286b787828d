//! A cohort study opened from the review queue, in the Patient view: a bar above the
//! image says which study it is and saves the reader's level and mask back to its row,
//! marked reviewed with the pixels changed (the row is made by the run's own code,
//! [`Measured`], so it differs from the first only where the reader changed something).

use leptos::prelude::*;

use super::client::{Cohort, DEFAULT_SETTINGS};
use crate::report_panel::{mask_png, mask_seg};
use crate::shell::{go, Route};
use crate::workspace::Workspace;
use sarcoscope::batch::masks::MaskFiles;
use sarcoscope::batch::Measured;
use sarcoscope::report::ScanFacts;
use sarcoscope::segment::AxialSlice;

#[component]
pub fn ReviewBar(ws: Workspace, cohort: Cohort) -> impl IntoView {
    let said = RwSignal::new(String::new());
    // A new study opened from the queue starts without the last one's message.
    Effect::new(move |_| {
        ws.review.track();
        said.set(String::new());
    });
    let save = move |_| {
        said.set(match save_to_row(ws, cohort) {
            Ok(text) | Err(text) => text,
        })
    };
    move || {
        ws.review_shown().map(|r| {
            let code = r.code.clone();
            view! {
                <section class="review-bar" id="review-bar" data-case=r.code.clone()>
                    <p>
                        "Cohort study "<strong>{r.code.clone()}</strong>" (folder "<code>{r.folder.clone()}</code>
                        ") opened from the review queue. Check the L3 level and the mask, correct them "
                        "(Muscle and fat: Correct the mask), then save them to the study's row: it is marked reviewed, "
                        "with the pixels you changed."
                    </p>
                    <button class="action" id="review-save" on:click=save>{format!("Save to row {code} as reviewed")}</button>
                    <button class="action" id="review-back" on:click=move |_| go(Route::Cohort)>"Back to the cohort"</button>
                    <p id="review-said" aria-live="polite">{move || said.get()}</p>
                </section>
            }
        })
    }
}

/// Measures the open study at the chosen level with the mask on screen and hands the
/// row to the cohort; what happened, in words.
fn save_to_row(ws: Workspace, cohort: Cohort) -> Result<String, String> {
    let reopened = ws
        .review_shown_untracked()
        .ok_or("This series is not the cohort study opened for review.")?;
    let (level, seg, instance) = ws.reading_at_level()?;
    let edited = seg.edited_pixels();
    let report = ws
        .scan
        .with_volume_untracked(|v| {
            let hu = v.axial_copy(level.slice)?;
            let measured = Measured {
                slice: AxialSlice::of_header(&hu, &v.header).ok()?,
                patient: &instance.patient,
                scan: ScanFacts::new(&instance.acquisition, &v.header, Some(level.clone())),
            };
            let facts = seg.report.facts(true, edited);
            Some(measured.report(&seg.mask, facts, &reopened.code, DEFAULT_SETTINGS))
        })
        .flatten()
        .ok_or("The chosen slice cannot be measured.")?;
    let mask = MaskFiles {
        seg: mask_seg(ws, false)?,
        png: mask_png(ws).ok_or("The mask on screen is gone.")?,
    };
    if !cohort.revise(&reopened, &report, mask) {
        return Err("The cohort run that holds this study is no longer open (another folder was chosen, or it was forgotten): its row was not changed.".into());
    }
    ws.case.reviewed.set(true);
    let sma = report.case.composition.as_ref().map_or(0.0, |c| c.sma_cm2);
    Ok(format!(
        "Row {} saved: SMA {sma:.2} cm² at slice {}, {edited} pixels corrected by hand, marked reviewed.",
        reopened.code, level.slice
    ))
}
