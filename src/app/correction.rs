//! Correcting the mask on the axial view: brush and eraser per tissue (size in mm,
//! optionally only where the HU fit the tissue), undo/redo, and the "reviewed" mark.
//! Every change goes through the mask the report is computed from, so the numbers
//! follow each stroke.

use leptos::prelude::*;

use super::workspace::Workspace;
use sarcoscope::segment::edit::{dab, Brush, History, Stroke, Tool};
use sarcoscope::segment::{AxialSlice, HuWindows, TissueClass};

#[derive(Clone, Copy)]
pub struct Correction {
    /// Whether mouse strokes on the axial view paint (instead of window/level).
    pub editing: RwSignal<bool>,
    pub brush: RwSignal<Brush>,
    history: StoredValue<History>,
    stroke: StoredValue<Option<Stroke>>,
    /// Bumped when a stroke ends or is undone/redone: the moment to save.
    pub revision: RwSignal<u32>,
    pub can_undo: RwSignal<bool>,
    pub can_redo: RwSignal<bool>,
}

impl Correction {
    pub fn new() -> Correction {
        Correction {
            editing: RwSignal::new(false),
            brush: RwSignal::new(Brush {
                tool: Tool::Paint,
                tissue: TissueClass::SkeletalMuscle,
                radius_mm: 5.0,
                hu_constrained: true,
            }),
            history: StoredValue::new(History::default()),
            stroke: StoredValue::new(None),
            revision: RwSignal::new(0),
            can_undo: RwSignal::new(false),
            can_redo: RwSignal::new(false),
        }
    }

    /// A fresh mask from the network: earlier strokes no longer apply to it.
    pub fn reset(&self) {
        self.history.set_value(History::default());
        self.stroke.set_value(None);
        self.sync();
    }

    fn sync(&self) {
        self.history.with_value(|h| {
            self.can_undo.set(h.can_undo());
            self.can_redo.set(h.can_redo());
        });
    }

    /// Whether a press on the axial view at `slice` starts a stroke.
    pub fn active(&self, ws: Workspace, slice: usize) -> bool {
        self.editing.get_untracked() && ws.segmentation.is_of_slice(slice)
    }

    pub fn begin(&self, ws: Workspace, column: usize, row: usize) {
        self.stroke.set_value(Some(Stroke::default()));
        self.extend(ws, column, row);
    }

    pub fn extend(&self, ws: Workspace, column: usize, row: usize) {
        if self.stroke.with_value(Option::is_none) {
            return;
        }
        let brush = self.brush.get_untracked();
        let loaded = ws.scan.loaded.get_untracked();
        let Some(volume) = loaded.as_ref().map(|l| &l.volume) else {
            return;
        };
        ws.segmentation.result.update(|seg| {
            let Some(seg) = seg.as_mut() else { return };
            let Some(hu) = volume.axial_copy(seg.report.slice) else {
                return;
            };
            let Ok(slice) = AxialSlice::of_header(&hu, &volume.header) else {
                return;
            };
            self.stroke.update_value(|stroke| {
                if let Some(stroke) = stroke {
                    dab(
                        &mut seg.mask,
                        &slice,
                        column as f64,
                        row as f64,
                        &brush,
                        stroke,
                    );
                }
            });
        });
    }

    pub fn end(&self) {
        let mut taken = None;
        self.stroke.update_value(|s| taken = s.take());
        let Some(stroke) = taken else {
            return;
        };
        self.history.update_value(|h| h.record(stroke));
        self.sync();
        self.revision.update(|r| *r += 1);
    }

    fn step(&self, ws: Workspace, redo: bool) {
        ws.segmentation.result.update(|seg| {
            if let Some(seg) = seg.as_mut() {
                self.history.update_value(|h| {
                    if redo {
                        h.redo(&mut seg.mask);
                    } else {
                        h.undo(&mut seg.mask);
                    }
                });
            }
        });
        self.sync();
        self.revision.update(|r| *r += 1);
    }

    pub fn undo(&self, ws: Workspace) {
        self.step(ws, false);
    }

    pub fn redo(&self, ws: Workspace) {
        self.step(ws, true);
    }
}

#[component]
pub fn CorrectionPanel(ws: Workspace) -> impl IntoView {
    let c = ws.correction;
    let case = ws.case;
    let has_mask = move || ws.segmentation.result.with(Option::is_some);
    let edited = move || {
        ws.segmentation
            .result
            .with(|s| s.as_ref().map_or(0, |s| s.edited_pixels()))
    };
    let set_brush = move |f: &dyn Fn(&mut Brush)| c.brush.update(|b| f(b));
    let window_hint = move || {
        let b = c.brush.get();
        HuWindows::ALBERTA.of(b.tissue).map_or(String::new(), |w| {
            format!("{}: {:.0} to {:.0} HU", b.tissue.name(), w.low.0, w.high.0)
        })
    };
    view! {
        <section class="correction" id="correction-panel">
            <h2>"Correct the mask"</h2>
            <label class="toggle">
                <input type="checkbox" id="correct" disabled=move || !has_mask()
                    prop:checked=move || c.editing.get()
                    on:change=move |ev| c.editing.set(event_target_checked(&ev))/>
                "Draw on the image (instead of window/level)"
            </label>
            <div class="brush">
                <select id="brush-tool" aria-label="Brush or eraser" on:change=move |ev| {
                    let tool = if event_target_value(&ev) == "erase" { Tool::Erase } else { Tool::Paint };
                    set_brush(&|b| b.tool = tool);
                }>
                    <option value="paint" prop:selected=move || c.brush.get().tool == Tool::Paint>"Brush"</option>
                    <option value="erase" prop:selected=move || c.brush.get().tool == Tool::Erase>"Eraser"</option>
                </select>
                <select id="brush-tissue" aria-label="Tissue to paint" on:change=move |ev| {
                    let key = event_target_value(&ev);
                    if let Some(t) = TissueClass::TISSUES.into_iter().find(|t| t.key() == key) {
                        set_brush(&|b| b.tissue = t);
                    }
                }>
                    {TissueClass::TISSUES.into_iter().map(|t| view! {
                        <option value=t.key() prop:selected=move || c.brush.get().tissue == t>{t.name()}</option>
                    }).collect_view()}
                </select>
                <label>
                    "Size "
                    <input type="range" id="brush-size" min="1" max="25" step="1"
                        prop:value=move || c.brush.get().radius_mm.to_string()
                        on:input=move |ev| {
                            if let Ok(mm) = event_target_value(&ev).parse::<f64>() {
                                set_brush(&|b| b.radius_mm = mm);
                            }
                        }/>
                    {move || format!(" {:.0} mm radius", c.brush.get().radius_mm)}
                </label>
                <label class="toggle">
                    <input type="checkbox" id="brush-hu"
                        prop:checked=move || c.brush.get().hu_constrained
                        on:change=move |ev| { let on = event_target_checked(&ev); set_brush(&|b| b.hu_constrained = on); }/>
                    "Only where the HU fit the tissue"
                </label>
                <span class="hint">{window_hint}</span>
            </div>
            <button id="undo" disabled=move || !c.can_undo.get() on:click=move |_| c.undo(ws)>"Undo"</button>
            <button id="redo" disabled=move || !c.can_redo.get() on:click=move |_| c.redo(ws)>"Redo"</button>
            <span id="edited-pixels" data-count=move || edited().to_string()>
                {move || format!("{} pixels corrected by hand", edited())}
            </span>
            <label class="toggle reviewed">
                <input type="checkbox" id="reviewed" disabled=move || !has_mask()
                    prop:checked=move || case.reviewed.get()
                    on:change=move |ev| case.reviewed.set(event_target_checked(&ev))/>
                "I have reviewed this mask"
            </label>
            <p class="hint" id="saved-state">{move || ws.saved_state.get()}</p>
            <button id="forget-case" on:click=move |_| super::store::forget(ws)>"Forget what this browser keeps for this series"</button>
            <p class="hint">"Ctrl+Z / Ctrl+Y undo and redo on the image. Corrections and the form are kept in this browser only (IndexedDB), so a reload loses nothing."</p>
        </section>
    }
}
