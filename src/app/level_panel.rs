//! The L3 level panel: where the automatic search put L3, how sure it is and on what
//! evidence, and the reader's choice of measurement slice.

use leptos::prelude::*;

use super::workspace::Workspace;
use sarcoscope::l3::{L3Choice, L3Method, L3Status};

/// The L3 level: what the automatic search found and how sure it is, and the user's
/// choice (automatic or set by hand), which measurements and the report will use.
#[component]
pub fn LevelPanel(ws: Workspace) -> impl IntoView {
    let scan = ws.scan;
    let summary = move || {
        let level = scan.level()?;
        let text = match (level.status, level.slice_index) {
            (L3Status::Found, Some(slice)) => format!(
                "L3 found automatically at slice {slice} (confidence {:.0}%).",
                level.confidence * 100.0
            ),
            (L3Status::Uncertain, Some(slice)) => format!(
                "L3 is uncertain: best guess slice {slice} (confidence {:.0}%). Please check the sagittal view and set the level by hand if needed.",
                level.confidence * 100.0
            ),
            (L3Status::NotInScan, _) => {
                "L3 does not seem to be in this scan. Check the coverage, or set the level by hand.".to_string()
            }
            (_, None) => "L3 could not be found automatically. Set the level by hand.".to_string(),
        };
        Some(text)
    };
    let choice = move || {
        let choice = scan.l3_choice.get()?;
        Some(match choice.method {
            L3Method::Automatic { .. } => {
                format!("Measurement slice: {} (automatic)", choice.slice)
            }
            L3Method::Manual => format!("Measurement slice: {} (set by hand)", choice.slice),
            L3Method::Given => format!(
                "Measurement slice: {} (as the archive gives it)",
                choice.slice
            ),
        })
    };
    let notes = move || scan.level().map(|l| l.evidence.notes).unwrap_or_default();
    let evidence = move || {
        let e = scan.level()?.evidence;
        let seen = |yes: bool| if yes { "seen" } else { "not seen" };
        let took = scan
            .loaded
            .with(|l| {
                l.as_ref()
                    .map(|l| format!(" Searched in {:.0} ms.", l.level_ms))
            })
            .unwrap_or_default();
        Some(format!(
            "Evidence: sacrum {}, last rib {}, {} vertebra(e) counted.{took}",
            seen(e.sacrum_seen),
            seen(e.last_rib_seen),
            e.vertebrae_counted
        ))
    };
    let set_here = move |_| {
        scan.l3_choice.set(Some(L3Choice {
            slice: scan.slice.get_untracked(),
            method: L3Method::Manual,
        }))
    };
    let go_to = move |_| {
        if let Some(choice) = scan.l3_choice.get_untracked() {
            scan.slice.set(choice.slice);
        }
    };
    let automatic = move |_| {
        let level = scan
            .loaded
            .with_untracked(|l| l.as_ref().map(|l| l.level.clone()));
        if let Some(level) = level {
            let choice = L3Choice::automatic(&level);
            if let Some(c) = &choice {
                scan.slice.set(c.slice);
            }
            scan.l3_choice.set(choice);
        }
    };
    view! {
        <section class="level" id="level-panel">
            <h2>"Level (L3)"</h2>
            <p id="level-summary">{summary}</p>
            <p id="level-choice" class="choice">{choice}</p>
            <p id="level-evidence" class="hint">{evidence}</p>
            <ul class="notes">{move || notes().into_iter().map(|n| view! { <li>{n}</li> }).collect_view()}</ul>
            // Nothing to move or choose before a series is open.
            <div class="level-actions" hidden=move || scan.loaded.with(Option::is_none)>
                <button id="goto-l3" on:click=go_to>"Go to the L3 slice"</button>
                <button id="set-l3" on:click=set_here>"Use the current slice as L3"</button>
                <button id="auto-l3" on:click=automatic>"Back to the automatic choice"</button>
                <button id="l3-up" title="Shift+↑ on the image" on:click=move |_| scan.move_l3(1)>"L3 one slice up"</button>
                <button id="l3-down" title="Shift+↓ on the image" on:click=move |_| scan.move_l3(-1)>"L3 one slice down"</button>
                <p class="hint">"On the sagittal and coronal views: blue labels are the vertebrae found, blue edge marks the L3 slice, the yellow line the slice shown."</p>
            </div>
        </section>
    }
}
