//! The viewer: the axial slice with its mask, and sagittal and coronal reformats that
//! show where the slice and the L3 level lie; scrolling, window/level, HU under the
//! mouse, and brush strokes when correcting.

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{HtmlCanvasElement, KeyboardEvent, MouseEvent, WheelEvent};

use super::render::{self, Window, PRESETS};
use super::workspace::Workspace;
use sarcoscope::volume::VolumeHeader;

/// Image coordinates under the mouse, from CSS pixels to canvas pixels.
fn canvas_point(canvas: &HtmlCanvasElement, ev: &MouseEvent) -> (usize, usize) {
    let w = f64::from(canvas.client_width().max(1));
    let h = f64::from(canvas.client_height().max(1));
    let x = f64::from(ev.offset_x()) * f64::from(canvas.width()) / w;
    let y = f64::from(ev.offset_y()) * f64::from(canvas.height()) / h;
    (x.max(0.0) as usize, y.max(0.0) as usize)
}

#[component]
pub fn Viewer(ws: Workspace) -> impl IntoView {
    let scan = ws.scan;
    let axial = NodeRef::<leptos::html::Canvas>::new();
    let sagittal = NodeRef::<leptos::html::Canvas>::new();
    let coronal = NodeRef::<leptos::html::Canvas>::new();
    let crosshair = RwSignal::new(None::<(usize, usize)>);
    // The pixel under the mouse; the HU shown follows it and the slice.
    let pointer = RwSignal::new(None::<(usize, usize)>);
    let drag = RwSignal::new(None::<(i32, i32, Window)>);
    // Bumped when the frames change size (window, zoom, the view shown again), so the
    // images are fitted again.
    let resized = RwSignal::new(0u32);
    let planes = NodeRef::<leptos::html::Div>::new();
    Effect::new(move |_| {
        let Some(planes) = planes.get() else { return };
        let observe = wasm_bindgen::closure::Closure::<dyn FnMut()>::new(move || {
            resized.update(|r| *r = r.wrapping_add(1));
        });
        if let Ok(observer) = web_sys::ResizeObserver::new(observe.as_ref().unchecked_ref()) {
            observer.observe(&planes);
        }
        // The viewer lives as long as the page.
        observe.forget();
    });

    // The reformats change with the crosshair and the volume, not with the slice: kept,
    // so that stepping through the slices does not gather them again (a sagittal plane
    // of a 1,000-slice 512² series is half a million voxels from the browser's buffer).
    let reformats = Memo::new(move |_| {
        let cross = crosshair.get();
        scan.with_volume(|v| {
            let h = &v.header;
            let (column, row) = cross.unwrap_or((h.columns / 2, h.rows / 2));
            let sagittal = v.sagittal(column.min(h.columns.saturating_sub(1)));
            let coronal = v.coronal(row.min(h.rows.saturating_sub(1)));
            (sagittal, coronal)
        })
    });

    Effect::new(move |_| {
        resized.track();
        let slice = scan.slice.get();
        let window = scan.window.get();
        let level = scan.level();
        let l3_choice = scan.l3_choice.get();
        let overlay = ws.segmentation.overlay.get();
        let (Some(a), Some(s), Some(c)) = (axial.get(), sagittal.get(), coronal.get()) else {
            return;
        };
        ws.segmentation.result.with(|segmentation| {
            scan.with_volume(|v| {
                let h = &v.header;
                if let Some(plane) = v.axial_copy(slice) {
                    let mask = segmentation
                        .as_ref()
                        .filter(|m| overlay && m.report.slice == slice)
                        .map(|m| m.mask.labels());
                    render::draw(&a, &plane, h.columns, h.rows, window, mask);
                }
                reformats.with(|planes| {
                    if let Some((sagittal, coronal)) = planes {
                        render::draw(&s, sagittal, h.rows, h.slices, window, None);
                        render::draw(&c, coronal, h.columns, h.slices, window, None);
                    }
                });
                // Superior is on top, so slice k is drawn at row (slices − 1 − k).
                let row = h.slices.saturating_sub(1 + slice);
                render::draw_row_marker(&s, row, render::CURRENT_SLICE);
                render::draw_row_marker(&c, row, render::CURRENT_SLICE);
                if let Some(choice) = l3_choice {
                    let row = h.slices.saturating_sub(1 + choice.slice);
                    render::draw_row_ticks(&s, row, render::L3_SLICE);
                    render::draw_row_ticks(&c, row, render::L3_SLICE);
                }
                if let Some(level) = &level {
                    render::draw_vertebra_labels(&s, &level.vertebrae, h.slices);
                    render::draw_vertebra_labels(&c, &level.vertebrae, h.slices);
                }
                set_physical_size(&a, &s, &c, &v.header);
            })
        });
    });

    let step = move |delta: i64| {
        let slices = scan.slice_count_untracked();
        if slices > 0 {
            scan.slice
                .update(|z| *z = (*z as i64 + delta).clamp(0, slices as i64 - 1) as usize);
        }
    };
    let on_wheel = move |ev: WheelEvent| {
        ev.prevent_default();
        step(if ev.delta_y() > 0.0 { -1 } else { 1 });
    };
    let on_key = move |ev: KeyboardEvent| {
        if ev.ctrl_key() || ev.meta_key() {
            // Lower-cased, so Caps Lock does not turn undo into redo.
            match (ev.key().to_lowercase().as_str(), ev.shift_key()) {
                ("z", false) => ws.correction.undo(ws),
                ("z", true) | ("y", _) => ws.correction.redo(ws),
                _ => return,
            }
            ev.prevent_default();
            return;
        }
        let delta = match ev.key().as_str() {
            "ArrowUp" | "ArrowRight" => 1,
            "ArrowDown" | "ArrowLeft" => -1,
            "PageUp" => 10,
            "PageDown" => -10,
            _ => return,
        };
        ev.prevent_default();
        if ev.shift_key() {
            scan.move_l3(delta);
        } else {
            step(delta);
        }
    };
    let painting = RwSignal::new(false);
    let on_move = move |ev: MouseEvent| {
        let Some(canvas) = axial.get() else { return };
        if painting.get_untracked() {
            let (x, y) = canvas_point(&canvas, &ev);
            ws.correction.extend(ws, x, y);
        } else if let Some((x0, y0, start)) = drag.get_untracked() {
            let dx = f64::from(ev.client_x() - x0);
            let dy = f64::from(ev.client_y() - y0);
            scan.window.set(Window {
                width: (start.width + dx * 4.0).max(1.0),
                level: start.level - dy * 2.0,
            });
        }
        pointer.set(Some(canvas_point(&canvas, &ev)));
    };
    let readout = move || {
        let slice = scan.slice.get();
        let (x, y) = pointer.get()?;
        scan.with_volume(|v| match v.hu_at(x, y, slice) {
            Some(hu) => format!("{:.0} HU at column {x}, row {y}, slice {slice}", hu.0),
            None if x < v.header.columns && y < v.header.rows => {
                format!("no data (outside the scanned field) at column {x}, row {y}")
            }
            None => String::new(),
        })
    };
    let on_down = move |ev: MouseEvent| {
        if ev.button() == 0 && ws.correction.active(ws, scan.slice.get_untracked()) {
            if let Some(canvas) = axial.get() {
                let (x, y) = canvas_point(&canvas, &ev);
                painting.set(true);
                ws.correction.begin(ws, x, y);
            }
            return;
        }
        if ev.button() == 0 {
            drag.set(Some((
                ev.client_x(),
                ev.client_y(),
                scan.window.get_untracked(),
            )));
        }
        if let Some(canvas) = axial.get() {
            crosshair.set(Some(canvas_point(&canvas, &ev)));
        }
    };
    let pick_slice = move |canvas: Option<HtmlCanvasElement>, ev: MouseEvent| {
        let Some(canvas) = canvas else { return };
        let (_, y) = canvas_point(&canvas, &ev);
        let slices = scan.slice_count_untracked();
        if y < slices {
            scan.slice.set(slices - 1 - y);
        }
    };
    let slice_label = move || {
        let z = scan.slice.get();
        scan.with_volume(|v| {
            let position = v
                .header
                .slice_positions_mm
                .get(z)
                .copied()
                .unwrap_or_default();
            format!(
                "Slice {} / {} (from the most inferior) — {:.1} mm",
                z, v.header.slices, position
            )
        })
        .unwrap_or_else(|| "No series loaded".into())
    };
    view! {
        <section class="viewer">
            <div class="toolbar">
                {PRESETS
                    .iter()
                    .map(|(name, w)| {
                        let w = *w;
                        view! { <button class="preset" on:click=move |_| scan.window.set(w)>{*name}</button> }
                    })
                    .collect_view()}
                <span class="window" id="window-readout">
                    {move || {
                        let w = scan.window.get();
                        format!("W {:.0} / L {:.0}", w.width, w.level)
                    }}
                </span>
            </div>
            <div class="planes" class:empty=move || scan.loaded.with(Option::is_none) node_ref=planes>
                <figure class="axial">
                    <div class="frame"><canvas
                        id="axial"
                        tabindex="0"
                        node_ref=axial
                        on:wheel=on_wheel
                        on:keydown=on_key
                        on:mousemove=on_move
                        on:mousedown=on_down
                        on:mouseup=move |_| { drag.set(None); if painting.get_untracked() { painting.set(false); ws.correction.end(); } }
                        on:mouseleave=move |_| { drag.set(None); if painting.get_untracked() { painting.set(false); ws.correction.end(); } }
                    ></canvas></div>
                    <figcaption id="slice-label">{slice_label}</figcaption>
                    <p class="readout" id="hu-readout">{readout}</p>
                    <p class="hint">"Wheel or ↑/↓: change slice · Shift+↑/↓: move the L3 slice · drag: window/level · click: move the sagittal and coronal planes"</p>
                </figure>
                <figure class="reformat">
                    <div class="frame"><canvas id="sagittal" node_ref=sagittal on:click=move |ev| pick_slice(sagittal.get(), ev)></canvas></div>
                    <figcaption>"Sagittal — yellow: slice shown; blue edge marks: L3"</figcaption>
                    <div class="frame"><canvas id="coronal" node_ref=coronal on:click=move |ev| pick_slice(coronal.get(), ev)></canvas></div>
                    <figcaption>"Coronal"</figcaption>
                </figure>
            </div>
        </section>
    }
}

/// Sizes each canvas to fill its frame with one millimetre as long across as down (CT
/// pixels and slices are seldom square). A hidden frame (another view is shown) has no
/// size: the canvas keeps the one it had until its frame is seen again. Every frame is
/// measured before any canvas is resized: a size read after a style was written makes
/// the browser lay the page out again then and there (a CPU profile of a first load of
/// the 112-slice series found 4.4 ms in these reads, three layouts where one does).
fn set_physical_size(
    axial: &HtmlCanvasElement,
    sagittal: &HtmlCanvasElement,
    coronal: &HtmlCanvasElement,
    h: &VolumeHeader,
) {
    let [row_mm, col_mm] = h.geometry.pixel_spacing.unwrap_or([1.0, 1.0]);
    let slice_mm = h.geometry.slice_spacing.unwrap_or(col_mm);
    let frame = |canvas: &HtmlCanvasElement| {
        let frame = canvas.parent_element()?;
        Some((
            f64::from(frame.client_width()),
            f64::from(frame.client_height()),
        ))
    };
    let sized = [
        (axial, h.columns as f64 * col_mm, h.rows as f64 * row_mm),
        (sagittal, h.rows as f64 * row_mm, h.slices as f64 * slice_mm),
        (
            coronal,
            h.columns as f64 * col_mm,
            h.slices as f64 * slice_mm,
        ),
    ]
    .map(|(canvas, width_mm, height_mm)| (canvas, frame(canvas), width_mm, height_mm));
    for (canvas, frame, width_mm, height_mm) in sized {
        let Some((w, h)) = frame else { continue };
        if w < 1.0 || h < 1.0 || width_mm <= 0.0 || height_mm <= 0.0 {
            continue;
        }
        let scale = (w / width_mm).min(h / height_mm);
        // Through the CSS object model: the page's CSP forbids inline style attributes.
        let style = web_sys::HtmlElement::style(canvas);
        let _ = style.set_property("width", &format!("{:.1}px", width_mm * scale));
        let _ = style.set_property("height", &format!("{:.1}px", height_mm * scale));
    }
}
