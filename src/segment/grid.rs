//! Resampling between a slice's own pixel grid and the network's fixed grid.
//!
//! The network sees every slice at the same physical scale (its model card names the
//! spacing), whatever the scanner's field of view: muscles are then the same size in
//! pixels for a 350 mm and a 500 mm field. The body, not the image, is centred, so a
//! patient lying off-centre on the table is not cut at the edge of the model grid.

use serde::{Deserialize, Serialize};

use super::AxialSlice;

/// How the network wants its input, as stored in the model card.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct InputSpec {
    /// Width and height of the square model grid (pixels).
    pub size: usize,
    /// Pixel spacing of the model grid (mm).
    pub spacing_mm: f64,
    /// HU are clipped to this range…
    pub hu_low: f64,
    pub hu_high: f64,
    /// …then mapped to `(hu − centre) / scale`.
    pub centre: f64,
    pub scale: f64,
}

impl InputSpec {
    /// The grid the shipped model was trained on: 256 pixels of 2 mm (a 512 mm field,
    /// wider than nearly every abdomen), HU −400..600 (air, fat, soft tissue, and bone up
    /// to where its exact value stops mattering).
    pub const DEFAULT: InputSpec = InputSpec {
        size: 256,
        spacing_mm: 2.0,
        hu_low: -400.0,
        hu_high: 600.0,
        centre: 100.0,
        scale: 250.0,
    };

    pub fn normalise(&self, hu: f32) -> f32 {
        ((hu.clamp(self.hu_low as f32, self.hu_high as f32)) - self.centre as f32)
            / self.scale as f32
    }

    pub fn len(&self) -> usize {
        self.size * self.size
    }

    pub fn is_empty(&self) -> bool {
        self.size == 0
    }
}

/// Where the model grid lies on a slice: the slice position (in fractional pixels) of
/// the model grid's centre, and how many slice pixels one model pixel spans.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placement {
    pub centre_column: f64,
    pub centre_row: f64,
    /// Slice pixels per model pixel, along columns then rows.
    pub step: [f64; 2],
    pub size: usize,
}

impl Placement {
    /// Centres the model grid on the body: the middle of the span of columns and rows
    /// that hold tissue (above −300 HU) in at least 2 % of their pixels. The 2 % keep the
    /// scanner table and stray noise from pulling the centre.
    pub fn on_body(slice: &AxialSlice, spec: &InputSpec) -> Placement {
        let mut per_column = vec![0usize; slice.columns];
        let mut per_row = vec![0usize; slice.rows];
        for (row, in_row) in per_row.iter_mut().enumerate() {
            for (column, in_column) in per_column.iter_mut().enumerate() {
                if slice.value(column, row) > -300.0 {
                    *in_column += 1;
                    *in_row += 1;
                }
            }
        }
        let middle = |counts: &[usize], length: usize| {
            let needed = (length as f64 * 0.02).max(1.0) as usize;
            let first = counts.iter().position(|&c| c >= needed);
            let last = counts.iter().rposition(|&c| c >= needed);
            match (first, last) {
                (Some(a), Some(b)) => (a + b) as f64 / 2.0,
                _ => (counts.len() as f64 - 1.0) / 2.0,
            }
        };
        Placement {
            centre_column: middle(&per_column, slice.rows),
            centre_row: middle(&per_row, slice.columns),
            step: [
                spec.spacing_mm / slice.pixel_spacing[1].0,
                spec.spacing_mm / slice.pixel_spacing[0].0,
            ],
            size: spec.size,
        }
    }

    /// The slice position (fractional column, row) of a model pixel's centre.
    pub fn to_slice(&self, x: usize, y: usize) -> (f64, f64) {
        let half = (self.size as f64 - 1.0) / 2.0;
        (
            self.centre_column + (x as f64 - half) * self.step[0],
            self.centre_row + (y as f64 - half) * self.step[1],
        )
    }

    /// The model position (fractional x, y) of a slice pixel's centre.
    pub fn to_model(&self, column: usize, row: usize) -> (f64, f64) {
        let half = (self.size as f64 - 1.0) / 2.0;
        (
            (column as f64 - self.centre_column) / self.step[0] + half,
            (row as f64 - self.centre_row) / self.step[1] + half,
        )
    }
}

/// The network's input: the slice resampled onto the model grid and normalised,
/// row-major. Where a model pixel covers several slice pixels they are averaged (a box
/// filter over up to 4×4 bilinear samples), so thin fat planes are not aliased away.
pub fn to_model_grid(slice: &AxialSlice, spec: &InputSpec, placement: &Placement) -> Vec<f32> {
    let taps = |step: f64| (step.ceil() as usize).clamp(1, 4);
    let (tx, ty) = (taps(placement.step[0]), taps(placement.step[1]));
    let mut out = Vec::with_capacity(spec.len());
    for y in 0..spec.size {
        for x in 0..spec.size {
            let (c, r) = placement.to_slice(x, y);
            let mut sum = 0.0f32;
            for j in 0..ty {
                for i in 0..tx {
                    let dc = ((i as f64 + 0.5) / tx as f64 - 0.5) * placement.step[0];
                    let dr = ((j as f64 + 0.5) / ty as f64 - 0.5) * placement.step[1];
                    sum += bilinear(slice, c + dc, r + dr);
                }
            }
            out.push(spec.normalise(sum / (tx * ty) as f32));
        }
    }
    out
}

/// HU at a fractional position; air outside the slice.
fn bilinear(slice: &AxialSlice, column: f64, row: f64) -> f32 {
    if !(column > -1.0 && row > -1.0) {
        return -1024.0;
    }
    let c0 = column.floor();
    let r0 = row.floor();
    let fc = (column - c0) as f32;
    let fr = (row - r0) as f32;
    let at = |c: f64, r: f64| {
        if c < 0.0 || r < 0.0 || c >= slice.columns as f64 || r >= slice.rows as f64 {
            -1024.0
        } else {
            slice.value(c as usize, r as usize)
        }
    };
    let top = at(c0, r0) * (1.0 - fc) + at(c0 + 1.0, r0) * fc;
    let bottom = at(c0, r0 + 1.0) * (1.0 - fc) + at(c0 + 1.0, r0 + 1.0) * fc;
    top * (1.0 - fr) + bottom * fr
}

/// Labels on the slice's grid carried to the model grid by nearest neighbour; model
/// pixels outside the slice get `outside`.
pub fn labels_to_model_grid(
    labels: &[u8],
    columns: usize,
    rows: usize,
    placement: &Placement,
    outside: u8,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(placement.size * placement.size);
    for y in 0..placement.size {
        for x in 0..placement.size {
            let (c, r) = placement.to_slice(x, y);
            let (c, r) = (c.round(), r.round());
            let inside = c >= 0.0 && r >= 0.0 && c < columns as f64 && r < rows as f64;
            out.push(if inside {
                labels
                    .get(r as usize * columns + c as usize)
                    .copied()
                    .unwrap_or(outside)
            } else {
                outside
            });
        }
    }
    out
}

/// Per-class scores on the model grid (`classes` planes of `size²`, as the network
/// writes them), taken back to the slice's own grid by bilinear interpolation of each
/// class's score and the best class chosen per pixel. Slice pixels outside the model
/// grid are background (class 0).
pub fn to_slice_labels(
    scores: &[f32],
    classes: usize,
    placement: &Placement,
    columns: usize,
    rows: usize,
) -> Vec<u8> {
    let size = placement.size;
    let plane = size * size;
    let mut labels = vec![0u8; columns * rows];
    if scores.len() < classes * plane || size == 0 {
        return labels;
    }
    let limit = size as f64 - 1.0;
    for row in 0..rows {
        for column in 0..columns {
            let (x, y) = placement.to_model(column, row);
            if !(-0.5..=limit + 0.5).contains(&x) || !(-0.5..=limit + 0.5).contains(&y) {
                continue;
            }
            let (x, y) = (x.clamp(0.0, limit), y.clamp(0.0, limit));
            let (x0, y0) = (x.floor() as usize, y.floor() as usize);
            let (x1, y1) = ((x0 + 1).min(size - 1), (y0 + 1).min(size - 1));
            let (fx, fy) = ((x - x0 as f64) as f32, (y - y0 as f64) as f32);
            let mut best = (0u8, f32::NEG_INFINITY);
            for class in 0..classes {
                let s = &scores[class * plane..(class + 1) * plane];
                let top = s[y0 * size + x0] * (1.0 - fx) + s[y0 * size + x1] * fx;
                let bottom = s[y1 * size + x0] * (1.0 - fx) + s[y1 * size + x1] * fx;
                let v = top * (1.0 - fy) + bottom * fy;
                if v > best.1 {
                    best = (class as u8, v);
                }
            }
            labels[row * columns + column] = best.0;
        }
    }
    labels
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::Millimetres;

    fn disc(columns: usize, rows: usize, cx: f64, cy: f64, radius: f64) -> Vec<i16> {
        // Background within the clipped HU range, so that the edge's partial volume
        // is not clipped away and the midpoint threshold below means "half covered".
        let mut hu = vec![-300i16; columns * rows];
        for r in 0..rows {
            for c in 0..columns {
                if (c as f64 - cx).hypot(r as f64 - cy) < radius {
                    hu[r * columns + c] = 40;
                }
            }
        }
        hu
    }

    #[test]
    fn the_body_is_centred_and_a_round_trip_keeps_its_area() {
        // A 100 mm disc off-centre on a 0.5 mm grid.
        let (columns, rows) = (400, 300);
        let hu = disc(columns, rows, 250.0, 120.0, 100.0);
        let slice = AxialSlice::new(&hu, columns, rows, [Millimetres(0.5); 2]).unwrap();
        let spec = InputSpec::DEFAULT;
        let placement = Placement::on_body(&slice, &spec);
        assert!(
            (placement.centre_column - 249.5).abs() <= 1.0,
            "{placement:?}"
        );
        assert!((placement.centre_row - 119.5).abs() <= 1.0, "{placement:?}");
        assert_eq!(placement.step, [4.0, 4.0]);
        let input = to_model_grid(&slice, &spec, &placement);
        // Treat the input as two scores: tissue where the input is above the midpoint
        // between the disc (40 HU) and the background (−300 HU).
        let midpoint = spec.normalise(-130.0);
        let tissue: Vec<f32> = input.iter().map(|&v| v - midpoint).collect();
        let mut scores = vec![0.0f32; spec.len()];
        scores.extend(tissue);
        let labels = to_slice_labels(&scores, 2, &placement, columns, rows);
        let truth = hu.iter().filter(|&&v| v > 0).count() as f64;
        let back = labels.iter().filter(|&&l| l == 1).count() as f64;
        assert!((back / truth - 1.0).abs() < 0.02, "{back} vs {truth}");
    }
}
