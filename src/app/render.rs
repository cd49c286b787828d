//! Turning HU planes into canvas pixels.

use wasm_bindgen::{Clamped, JsCast};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, ImageData};

use sarcoscope::l3::VertebraFound;
use sarcoscope::volume::Volume;
pub use sarcoscope::volume::Window;

/// Display presets (display only; they change no measurement).
pub const PRESETS: [(&str, Window); 3] = [
    ("Soft tissue", Window::SOFT_TISSUE),
    // Centred on the skeletal muscle range −29..150 HU (Mitsiopoulos 1998; Alberta protocol).
    (
        "Muscle",
        Window {
            level: 60.0,
            width: 360.0,
        },
    ),
    (
        "Bone",
        Window {
            level: 400.0,
            width: 1800.0,
        },
    ),
];

/// RGBA bytes for a plane of HU values; no-data voxels are drawn dark blue so they are
/// never mistaken for air.
pub fn to_rgba(plane: &[i16], window: Window) -> Vec<u8> {
    let mut out = Vec::with_capacity(plane.len() * 4);
    for &v in plane {
        if v == Volume::NO_DATA {
            out.extend_from_slice(&[0, 0, 40, 255]);
        } else {
            let g = window.grey(v);
            out.extend_from_slice(&[g, g, g, 255]);
        }
    }
    out
}

/// Draws `plane` (`width` × `height`) onto `canvas` at its natural size; CSS scales it
/// to physical proportions.
pub fn draw(
    canvas: &HtmlCanvasElement,
    plane: &[i16],
    width: usize,
    height: usize,
    window: Window,
    overlay: Option<&[u8]>,
) {
    if plane.len() != width * height || width == 0 {
        return;
    }
    canvas.set_width(width as u32);
    canvas.set_height(height as u32);
    let Some(ctx) = context_2d(canvas) else {
        return;
    };
    let mut rgba = to_rgba(plane, window);
    if let Some(labels) = overlay.filter(|l| l.len() == plane.len()) {
        blend(&mut rgba, labels);
    }
    if let Ok(image) =
        ImageData::new_with_u8_clamped_array_and_sh(Clamped(&rgba), width as u32, height as u32)
    {
        let _ = ctx.put_image_data(&image, 0.0, 0.0);
    }
}

/// Tissue colours as most L3 analysis software shows them: muscle red, IMAT green,
/// VAT yellow, SAT cyan (index = TissueClass label; www/style.css repeats them for the
/// table's swatches).
const TISSUE_COLOURS: [[u8; 3]; 5] = [
    [0, 0, 0],
    [230, 40, 40],
    [40, 200, 60],
    [240, 210, 40],
    [40, 200, 230],
];

/// Mixes each labelled pixel with its tissue colour (45 % colour), leaving background.
fn blend(rgba: &mut [u8], labels: &[u8]) {
    for (pixel, &label) in rgba.chunks_exact_mut(4).zip(labels) {
        if label == 0 {
            continue;
        }
        if let Some(colour) = TISSUE_COLOURS.get(usize::from(label)) {
            for (channel, &c) in pixel.iter_mut().zip(colour) {
                *channel = ((u16::from(*channel) * 55 + u16::from(c) * 45) / 100) as u8;
            }
        }
    }
}

fn context_2d(canvas: &HtmlCanvasElement) -> Option<CanvasRenderingContext2d> {
    canvas.get_context("2d").ok().flatten()?.dyn_into().ok()
}

/// Draws a horizontal line across `canvas` at image row `row` (the current axial slice
/// on a sagittal or coronal view).
pub fn draw_row_marker(canvas: &HtmlCanvasElement, row: usize, colour: &str) {
    let width = f64::from(canvas.width());
    stroke_row(canvas, row, colour, &[(0.0, width)]);
}

/// Marks image row `row` at both edges only, so that a full-width line over it (the
/// current slice) leaves it visible: the L3 slice.
pub fn draw_row_ticks(canvas: &HtmlCanvasElement, row: usize, colour: &str) {
    let width = f64::from(canvas.width());
    let tick = (width * 0.12).max(3.0);
    stroke_row(canvas, row, colour, &[(0.0, tick), (width - tick, width)]);
}

fn stroke_row(canvas: &HtmlCanvasElement, row: usize, colour: &str, spans: &[(f64, f64)]) {
    let Some(ctx) = context_2d(canvas) else {
        return;
    };
    ctx.set_stroke_style_str(colour);
    ctx.set_line_width(2.0);
    for (from, to) in spans {
        ctx.begin_path();
        ctx.move_to(*from, row as f64 + 0.5);
        ctx.line_to(*to, row as f64 + 0.5);
        ctx.stroke();
    }
}

/// Colour of the current-slice line.
pub const CURRENT_SLICE: &str = "#ffcc00";
/// Colour of the chosen L3 slice line.
pub const L3_SLICE: &str = "#33ddff";

/// Writes each vertebra's name at its centre row along the left edge of a sagittal or
/// coronal view (`slices` rows, superior on top).
pub fn draw_vertebra_labels(
    canvas: &HtmlCanvasElement,
    vertebrae: &[VertebraFound],
    slices: usize,
) {
    let Some(ctx) = context_2d(canvas) else {
        return;
    };
    let size = (f64::from(canvas.height()) / 28.0).clamp(5.0, 14.0);
    ctx.set_font(&format!("bold {size:.0}px sans-serif"));
    ctx.set_fill_style_str("#33ddff");
    for v in vertebrae {
        let centre = (v.slice_first + v.slice_last) as f64 / 2.0;
        let row = slices as f64 - 1.0 - centre;
        let _ = ctx.fill_text(&v.name, 1.0, row + size / 2.5);
    }
}
