//! A downsampled axial plane in millimetres: the detector looks at anatomy tens of
//! millimetres across, so sampling every [`SAMPLE_MM`] instead of every pixel keeps a
//! 300-slice 512² series well under a second in the browser, and the same thresholds
//! hold whatever the pixel size.

use crate::volume::{Volume, VolumeHeader, Voxels};

/// Target distance between samples in the plane (mm). Vertebral bodies are 30–50 mm,
/// discs 8–12 mm tall and ribs 8–10 mm thick, so 2 mm still resolves all of them.
pub const SAMPLE_MM: f64 = 2.0;

/// How a volume's pixels map onto the downsampled grid.
#[derive(Debug, Clone, Copy)]
pub struct Sampling {
    /// Pixels averaged along a row (x) and down a column (y) for one sample.
    pub stride_x: usize,
    pub stride_y: usize,
    /// Size of one sample (mm) along x (left–right) and y (anterior–posterior).
    pub mm_x: f64,
    pub mm_y: f64,
    pub columns: usize,
    pub rows: usize,
    /// Whether image rows run from posterior to anterior (then they are flipped so that
    /// y always grows towards the back).
    pub flip_y: bool,
}

impl Sampling {
    /// The sampling for a volume with header `h`; pixel spacing defaults to 1 mm when
    /// the header lacks it (the detector still runs, with millimetres off by that
    /// factor).
    pub fn of(h: &VolumeHeader) -> Sampling {
        let [row_mm, col_mm] = h.geometry.pixel_spacing.unwrap_or([1.0, 1.0]);
        let sane = |v: f64| if v.is_finite() && v > 0.0 { v } else { 1.0 };
        let (row_mm, col_mm) = (sane(row_mm), sane(col_mm));
        let stride = |mm: f64| ((SAMPLE_MM / mm).round() as usize).clamp(1, 64);
        let stride_x = stride(col_mm);
        let stride_y = stride(row_mm);
        // The second direction cosine is the direction of increasing row index; in
        // patient LPS coordinates +y is posterior.
        let flip_y = h.geometry.orientation.get(4).is_some_and(|&c| c < 0.0);
        Sampling {
            stride_x,
            stride_y,
            mm_x: col_mm * stride_x as f64,
            mm_y: row_mm * stride_y as f64,
            columns: h.columns / stride_x,
            rows: h.rows / stride_y,
            flip_y,
        }
    }
}

/// One downsampled slice: block means of HU, `NaN` where no pixel had data.
pub struct Plane {
    pub columns: usize,
    pub rows: usize,
    pub values: Vec<f32>,
}

impl Plane {
    /// Slice `slice` of `volume`, averaged over blocks of `s`; an empty plane when the
    /// slice is absent.
    pub fn read<V: Voxels>(volume: &Volume<V>, slice: usize, s: &Sampling) -> Plane {
        let width = volume.header.columns;
        let read = volume.with_axial(slice, |axial| Plane::of_axial(axial, width, s));
        read.unwrap_or(Plane {
            columns: 0,
            rows: 0,
            values: Vec::new(),
        })
    }

    pub fn of_axial(axial: &[i16], width: usize, s: &Sampling) -> Plane {
        let mut values = vec![f32::NAN; s.columns * s.rows];
        // Summed image row by image row (sequential and branch-free, so the compiler
        // vectorises it, WebAssembly SIMD included), then block by block.
        let used = s.columns * s.stride_x;
        let (mut sums, mut counts) = (vec![0i32; used], vec![0i32; used]);
        for r in 0..s.rows {
            sums.fill(0);
            counts.fill(0);
            for dy in 0..s.stride_y {
                let start = (r * s.stride_y + dy) * width;
                let Some(line) = axial.get(start..start + used) else {
                    continue;
                };
                for ((sum, count), &v) in sums.iter_mut().zip(counts.iter_mut()).zip(line) {
                    let has_data = i32::from(v != Volume::NO_DATA);
                    *sum += i32::from(v) * has_data;
                    *count += has_data;
                }
            }
            let target_row = if s.flip_y { s.rows - 1 - r } else { r };
            let blocks = sums
                .chunks_exact(s.stride_x)
                .zip(counts.chunks_exact(s.stride_x));
            for (c, (sum, count)) in blocks.enumerate() {
                let n: i32 = count.iter().sum();
                if n > 0 {
                    if let Some(slot) = values.get_mut(target_row * s.columns + c) {
                        *slot = sum.iter().sum::<i32>() as f32 / n as f32;
                    }
                }
            }
        }
        Plane {
            columns: s.columns,
            rows: s.rows,
            values,
        }
    }

    /// The sample at (column, row), `NaN` outside the plane or where there is no data.
    pub fn at(&self, column: isize, row: isize) -> f32 {
        if column < 0 || row < 0 || column as usize >= self.columns || row as usize >= self.rows {
            return f32::NAN;
        }
        self.values
            .get(row as usize * self.columns + column as usize)
            .copied()
            .unwrap_or(f32::NAN)
    }
}
