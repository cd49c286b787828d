//! One tissue on one slice: how much the automatic mask and the reader's overlap, how far
//! their outlines stray from each other, and what each makes of the area.

use serde::{Deserialize, Serialize};

use crate::segment::eval::dice;
use crate::stats::quantile;
use crate::units::Millimetres;

/// The overlap of a test mask (usually automatic) with a reference (usually a reader's),
/// both on the same slice grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Overlap {
    /// 2|A∩B| / (|A|+|B|) (Dice, Ecology 1945); `None` when both masks are empty.
    pub dice: Option<f64>,
    /// |A∩B| / |A∪B| (Jaccard 1912); `None` when both are empty.
    pub jaccard: Option<f64>,
    /// The 95th percentile of the distances from each outline pixel of one mask to the
    /// nearest outline pixel of the other, both directions pooled (the definition of
    /// MedPy's `hd95`, used by most segmentation challenges); `None` when either is empty.
    pub hd95_mm: Option<f64>,
    pub area_test_cm2: f64,
    pub area_reference_cm2: f64,
}

impl Overlap {
    /// `test` and `reference` are row-major masks of `columns` × rows pixels;
    /// `pixel_spacing` is (between rows, between columns) as in DICOM.
    pub fn of(
        test: &[bool],
        reference: &[bool],
        columns: usize,
        pixel_spacing: [Millimetres; 2],
    ) -> Overlap {
        let both = test.iter().zip(reference).filter(|(&a, &b)| a && b).count();
        let either = test.iter().zip(reference).filter(|(&a, &b)| a || b).count();
        let pixel_cm2 = pixel_spacing[0].0 * pixel_spacing[1].0 / 100.0;
        let area = |m: &[bool]| m.iter().filter(|&&x| x).count() as f64 * pixel_cm2;
        Overlap {
            dice: dice(test, reference),
            jaccard: (either > 0).then(|| both as f64 / either as f64),
            hd95_mm: hd95(test, reference, columns, pixel_spacing),
            area_test_cm2: area(test),
            area_reference_cm2: area(reference),
        }
    }

    /// Test minus reference, cm².
    pub fn area_difference_cm2(&self) -> f64 {
        self.area_test_cm2 - self.area_reference_cm2
    }

    /// Test minus reference as a percentage of the reference; `None` when the reference
    /// is empty.
    pub fn area_difference_percent(&self) -> Option<f64> {
        (self.area_reference_cm2 > 0.0)
            .then(|| self.area_difference_cm2() / self.area_reference_cm2 * 100.0)
    }
}

/// The outline of a mask: its pixels with a 4-neighbour outside it or beyond the image
/// edge (a mask minus its erosion by a cross, as MedPy takes it).
fn outline(mask: &[bool], columns: usize) -> Vec<bool> {
    let rows = mask.len() / columns;
    let at = |r: usize, c: usize| mask[r * columns + c];
    (0..mask.len())
        .map(|i| {
            let (r, c) = (i / columns, i % columns);
            mask[i]
                && (r == 0
                    || c == 0
                    || r + 1 == rows
                    || c + 1 == columns
                    || !at(r - 1, c)
                    || !at(r + 1, c)
                    || !at(r, c - 1)
                    || !at(r, c + 1))
        })
        .collect()
}

fn hd95(
    test: &[bool],
    reference: &[bool],
    columns: usize,
    spacing: [Millimetres; 2],
) -> Option<f64> {
    if columns == 0 || test.len() != reference.len() {
        return None;
    }
    let (a, b) = (outline(test, columns), outline(reference, columns));
    let to_a = distance_to(&a, columns, spacing)?;
    let to_b = distance_to(&b, columns, spacing)?;
    let mut distances: Vec<f64> = a
        .iter()
        .zip(&to_b)
        .filter(|(&on, _)| on)
        .map(|(_, &d)| d)
        .chain(b.iter().zip(&to_a).filter(|(&on, _)| on).map(|(_, &d)| d))
        .collect();
    distances.sort_by(f64::total_cmp);
    Some(quantile(&distances, 0.95))
}

/// The exact Euclidean distance (mm) from every pixel to the nearest `true` pixel of
/// `target`, by two passes of the lower envelope of parabolas (Felzenszwalb &
/// Huttenlocher, Theory of Computing 2012) — columns with the row spacing, then rows with
/// the column spacing; `None` when `target` is empty.
fn distance_to(target: &[bool], columns: usize, spacing: [Millimetres; 2]) -> Option<Vec<f64>> {
    if !target.contains(&true) {
        return None;
    }
    let rows = target.len() / columns;
    let mut squared: Vec<f64> = target
        .iter()
        .map(|&t| if t { 0.0 } else { f64::INFINITY })
        .collect();
    let mut line = Vec::new();
    for c in 0..columns {
        line.clear();
        line.extend((0..rows).map(|r| squared[r * columns + c]));
        let out = envelope(&line, spacing[0].0);
        for (r, v) in out.into_iter().enumerate() {
            squared[r * columns + c] = v;
        }
    }
    for r in 0..rows {
        let out = envelope(&squared[r * columns..(r + 1) * columns], spacing[1].0);
        squared[r * columns..(r + 1) * columns].copy_from_slice(&out);
    }
    Some(squared.into_iter().map(f64::sqrt).collect())
}

/// One pass: d(p) = min over q of (p·s − q·s)² + f(q), for samples `step` mm apart.
fn envelope(f: &[f64], step: f64) -> Vec<f64> {
    let n = f.len();
    let position = |q: usize| q as f64 * step;
    // The parabolas of the lower envelope and where each starts to be the lowest.
    let mut vertices: Vec<usize> = Vec::with_capacity(n);
    let mut starts: Vec<f64> = Vec::with_capacity(n + 1);
    let crossing = |q: usize, v: usize| {
        ((f[q] + position(q).powi(2)) - (f[v] + position(v).powi(2)))
            / (2.0 * (position(q) - position(v)))
    };
    for q in (0..n).filter(|&q| f[q].is_finite()) {
        while let Some(&v) = vertices.last() {
            if crossing(q, v) <= starts[starts.len() - 1] {
                vertices.pop();
                starts.pop();
            } else {
                break;
            }
        }
        let start = vertices
            .last()
            .map_or(f64::NEG_INFINITY, |&v| crossing(q, v));
        vertices.push(q);
        starts.push(start);
    }
    if vertices.is_empty() {
        return vec![f64::INFINITY; n];
    }
    let mut k = 0;
    (0..n)
        .map(|p| {
            let x = position(p);
            while k + 1 < vertices.len() && starts[k + 1] < x {
                k += 1;
            }
            let v = vertices[k];
            (x - position(v)).powi(2) + f[v]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn brute_force(target: &[bool], columns: usize, spacing: [f64; 2]) -> Vec<f64> {
        let rows = target.len() / columns;
        (0..target.len())
            .map(|i| {
                let (r, c) = ((i / columns) as f64, (i % columns) as f64);
                (0..target.len())
                    .filter(|&j| target[j])
                    .map(|j| {
                        let (rr, cc) = ((j / columns) as f64, (j % columns) as f64);
                        (((r - rr) * spacing[0]).powi(2) + ((c - cc) * spacing[1]).powi(2)).sqrt()
                    })
                    .fold(f64::INFINITY, f64::min)
            })
            .take(rows * columns)
            .collect()
    }

    /// HD95 by definition: every outline pixel's distance to the other outline, brute force.
    #[test]
    fn hd95_equals_its_definition_on_random_masks() {
        let mut rng = Rng::stream(11, 0);
        let (columns, rows, spacing) = (12, 10, [0.8, 0.6]);
        for _ in 0..20 {
            let a: Vec<bool> = (0..columns * rows).map(|_| rng.unit() < 0.3).collect();
            let b: Vec<bool> = (0..columns * rows).map(|_| rng.unit() < 0.3).collect();
            let (oa, ob) = (outline(&a, columns), outline(&b, columns));
            let (to_a, to_b) = (
                brute_force(&oa, columns, spacing),
                brute_force(&ob, columns, spacing),
            );
            let mut all: Vec<f64> = (0..a.len())
                .filter(|&i| oa[i])
                .map(|i| to_b[i])
                .chain((0..b.len()).filter(|&i| ob[i]).map(|i| to_a[i]))
                .collect();
            all.sort_by(f64::total_cmp);
            let expected = quantile(&all, 0.95);
            let got = hd95(&a, &b, columns, spacing.map(Millimetres)).unwrap();
            assert!((got - expected).abs() < 1e-9, "{got} vs {expected}");
        }
    }

    #[test]
    fn distance_transform_equals_brute_force_with_unequal_spacing() {
        let mut rng = Rng::stream(7, 0);
        for trial in 0..20 {
            let (columns, rows) = (9 + trial % 5, 7 + trial % 3);
            let target: Vec<bool> = (0..columns * rows).map(|_| rng.unit() < 0.08).collect();
            let spacing = [0.7, 1.3];
            let fast = distance_to(&target, columns, spacing.map(Millimetres));
            if !target.contains(&true) {
                assert!(fast.is_none());
                continue;
            }
            let fast = fast.unwrap();
            for (a, b) in fast.iter().zip(brute_force(&target, columns, spacing)) {
                assert!((a - b).abs() < 1e-9, "{a} vs {b}");
            }
        }
    }

    /// Two squares, one shifted by 3 columns: each outline pixel is 0 or 3 columns from
    /// the other's outline, or further along the shifted sides.
    #[test]
    fn overlap_of_shifted_squares() {
        let columns = 20;
        let square = |left: usize| -> Vec<bool> {
            (0..columns * columns)
                .map(|i| {
                    (5..15).contains(&(i / columns)) && (left..left + 10).contains(&(i % columns))
                })
                .collect()
        };
        let (a, b) = (square(4), square(7));
        let o = Overlap::of(&a, &b, columns, [Millimetres(1.0), Millimetres(0.5)]);
        // 10 × 7 shared of 10 × 10 each.
        assert_eq!(o.dice, Some(0.7));
        assert_eq!(o.jaccard, Some(70.0 / 130.0));
        assert_eq!(o.area_test_cm2, 100.0 * 0.005);
        assert_eq!(o.area_difference_percent(), Some(0.0));
        // Outline pixels are at most 3 columns (1.5 mm) from the other outline, and more
        // than 5 % of them that far (both left and both right sides).
        assert_eq!(o.hd95_mm, Some(1.5));
        let same = Overlap::of(&a, &a, columns, [Millimetres(1.0), Millimetres(1.0)]);
        assert_eq!((same.dice, same.hd95_mm), (Some(1.0), Some(0.0)));
        let empty = vec![false; a.len()];
        let none = Overlap::of(&a, &empty, columns, [Millimetres(1.0), Millimetres(1.0)]);
        assert_eq!((none.dice, none.hd95_mm), (Some(0.0), None));
    }
}
