//! A downsampled axial plane in millimetres: the detector looks at anatomy tens of
//! millimetres across, so sampling every [`SAMPLE_MM`] instead of every pixel keeps a
//! 300-slice 512² series well under a second in the browser, and the same thresholds
//! hold whatever the pixel size.

use crate::volume::{Volume, VolumeHeader, Voxels};

/// Target distance between samples in the plane (mm). Vertebral bodies are 30–50 mm,
/// discs 8–12 mm tall and ribs 8–10 mm thick, so 2 mm still resolves all of them.
pub const SAMPLE_MM: f64 = 2.0;

/// How a volume's pixels map onto the downsampled grid.
#[derive(Debug, Clone, Copy, PartialEq)]
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
        let g = &h.geometry;
        Sampling::new(
            g.pixel_spacing,
            g.orientation.get(4).copied(),
            h.rows,
            h.columns,
        )
    }

    /// [`Sampling::of`] for images of `rows` × `columns` pixels of `pixel_spacing`, whose
    /// row index runs along `row_direction_y` (the y component of the column direction
    /// cosine).
    pub fn new(
        pixel_spacing: Option<[f64; 2]>,
        row_direction_y: Option<f64>,
        rows: usize,
        columns: usize,
    ) -> Sampling {
        let [row_mm, col_mm] = pixel_spacing.unwrap_or([1.0, 1.0]);
        let sane = |v: f64| if v.is_finite() && v > 0.0 { v } else { 1.0 };
        let (row_mm, col_mm) = (sane(row_mm), sane(col_mm));
        let stride = |mm: f64| ((SAMPLE_MM / mm).round() as usize).clamp(1, 64);
        let stride_x = stride(col_mm);
        let stride_y = stride(row_mm);
        // The second direction cosine is the direction of increasing row index; in
        // patient LPS coordinates +y is posterior.
        let flip_y = row_direction_y.is_some_and(|c| c < 0.0);
        Sampling {
            stride_x,
            stride_y,
            mm_x: col_mm * stride_x as f64,
            mm_y: row_mm * stride_y as f64,
            columns: columns / stride_x,
            rows: rows / stride_y,
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
        let used = s.columns * s.stride_x;
        let mut fast = vec![0i16; used];
        let (mut sums, mut counts) = (vec![0i32; used], vec![0i32; used]);
        let whole_block = (s.stride_x * s.stride_y) as f32;
        for r in 0..s.rows {
            let target_row = if s.flip_y { s.rows - 1 - r } else { r };
            let Some(row) = values.get_mut(target_row * s.columns..(target_row + 1) * s.columns)
            else {
                continue;
            };
            let lines: Vec<&[i16]> = (0..s.stride_y)
                .filter_map(|dy| {
                    let start = (r * s.stride_y + dy) * width;
                    axial.get(start..start + used)
                })
                .collect();
            // Most rows of blocks have data everywhere (no data is padding outside the
            // scanned field, or a slice missing) and HU far from the 16-bit limits: their
            // image rows are summed in 16-bit lanes, twice as many at a time as 32-bit
            // ones, with saturation, and a row is summed again in 32 bits if a sum came
            // near the limits or a pixel had no data (measured in V8: 0.07 against 0.12
            // ms for a 512² slice summed in 32 bits only).
            if lines.len() == s.stride_y && sum_narrow(&lines, &mut fast) {
                for (value, block) in row.iter_mut().zip(fast.chunks_exact(s.stride_x)) {
                    *value = block.iter().map(|&v| i32::from(v)).sum::<i32>() as f32 / whole_block;
                }
                continue;
            }
            // Line by line (sequential and branch-free, so the compiler vectorises it),
            // then block by block.
            sums.fill(0);
            counts.fill(0);
            for line in &lines {
                for ((sum, count), &v) in sums.iter_mut().zip(counts.iter_mut()).zip(*line) {
                    let has_data = i32::from(v != Volume::NO_DATA);
                    *sum += i32::from(v) * has_data;
                    *count += has_data;
                }
            }
            let blocks = sums
                .chunks_exact(s.stride_x)
                .zip(counts.chunks_exact(s.stride_x));
            for (value, (sum, count)) in row.iter_mut().zip(blocks) {
                let n: i32 = count.iter().sum();
                if n > 0 {
                    *value = sum.iter().sum::<i32>() as f32 / n as f32;
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

/// `lines` summed pixel by pixel into `sums` in 16 bits; false when that may not be
/// their exact sum, or a pixel had no data (then `sums` is to be ignored).
///
/// Exactness is decided from the inputs, not the sums: with every value within
/// ±`i16::MAX / lines`, no partial sum of up to `lines` values can leave 16 bits, whatever
/// their signs (a sum that wrapped or saturated on the way and came back would look
/// exact at the end).
fn sum_narrow(lines: &[&[i16]], sums: &mut [i16]) -> bool {
    let Some((first, rest)) = lines.split_first() else {
        return false;
    };
    if first.len() != sums.len() {
        return false;
    }
    let bound = i16::MAX / lines.len().min(i16::MAX as usize) as i16;
    let range = |(low, high): (i16, i16), line: &[i16]| {
        line.iter()
            .fold((low, high), |(low, high), &v| (low.min(v), high.max(v)))
    };
    let (low, high) = lines
        .iter()
        .fold((i16::MAX, i16::MIN), |r, line| range(r, line));
    // NO_DATA is the lowest value there is, far below -bound.
    if low < -bound || high > bound {
        return false;
    }
    sums.copy_from_slice(first);
    for line in rest {
        for (sum, &v) in sums.iter_mut().zip(*line) {
            *sum += v;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    /// Block means as the definition says them, one block at a time.
    fn block_means(axial: &[i16], width: usize, s: &Sampling) -> Vec<f32> {
        let mut values = vec![f32::NAN; s.columns * s.rows];
        for r in 0..s.rows {
            for c in 0..s.columns {
                let (mut sum, mut n) = (0i64, 0i64);
                for y in r * s.stride_y..(r + 1) * s.stride_y {
                    for x in c * s.stride_x..(c + 1) * s.stride_x {
                        let v = axial[y * width + x];
                        if v != Volume::NO_DATA {
                            sum += i64::from(v);
                            n += 1;
                        }
                    }
                }
                let row = if s.flip_y { s.rows - 1 - r } else { r };
                if n > 0 {
                    values[row * s.columns + c] = sum as f32 / n as f32;
                }
            }
        }
        values
    }

    #[test]
    fn block_means_skip_no_data_in_rows_with_and_without_it() {
        let (rows, columns) = (61, 47);
        let mut rng = Rng::stream(11, 0);
        let mut axial: Vec<i16> = (0..rows * columns)
            .map(|_| rng.below(4000) as i16 - 1024)
            .collect();
        // Padding in the corners of some rows, and one whole image row of it.
        for y in 0..20 {
            for x in 0..(20 - y) {
                axial[y * columns + x] = Volume::NO_DATA;
            }
        }
        axial[40 * columns..41 * columns].fill(Volume::NO_DATA);
        // Metal-like values whose sums pass the 16-bit limits, in rows with data
        // everywhere; and a column whose running sum passes a limit and comes back
        // (30,000 + 30,000 − 30,000 ends in range), which only a check of the inputs
        // catches.
        for y in 50..56 {
            axial[y * columns + 30] = 30_000;
            axial[y * columns + 31] = -30_000;
        }
        for (y, v) in (0..rows).zip([30_000, 30_000, -30_000].into_iter().cycle()) {
            axial[y * columns + 40] = v;
        }
        for (spacing, flip) in [(0.7, false), (0.9, true), (2.5, false)] {
            let s = Sampling::new(
                Some([spacing, spacing]),
                Some(if flip { -1.0 } else { 1.0 }),
                rows,
                columns,
            );
            let plane = Plane::of_axial(&axial, columns, &s);
            let expected = block_means(&axial, columns, &s);
            assert_eq!(plane.values.len(), expected.len());
            for (k, (got, want)) in plane.values.iter().zip(&expected).enumerate() {
                let same = (got.is_nan() && want.is_nan()) || (got - want).abs() < 1e-3;
                assert!(same, "sample {k} at {spacing} mm: {got} against {want}");
            }
        }
    }
}
