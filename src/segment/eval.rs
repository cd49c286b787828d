//! Agreement between a segmentation and a reference: Dice and area error.

use serde::{Deserialize, Serialize};

use crate::volume::Window;

/// Dice similarity coefficient 2|A∩B| / (|A|+|B|) (Dice, Ecology 1945); `None` when
/// both are empty.
pub fn dice(a: &[bool], b: &[bool]) -> Option<f64> {
    let (mut both, mut na, mut nb) = (0usize, 0usize, 0usize);
    for (&x, &y) in a.iter().zip(b) {
        both += usize::from(x && y);
        na += usize::from(x);
        nb += usize::from(y);
    }
    (na + nb > 0).then(|| 2.0 * both as f64 / (na + nb) as f64)
}

/// Pooled agreement over several slices, and per slice.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Agreement {
    pub slices: usize,
    /// Dice over all pixels of all slices together.
    pub dice: Option<f64>,
    /// Mean and worst per-slice Dice.
    pub dice_mean: Option<f64>,
    pub dice_min: Option<f64>,
    /// The slice with the worst Dice, by name: the first to look at.
    #[serde(default)]
    pub worst_slice: Option<String>,
    /// Predicted minus reference area, as a percentage of the reference, all slices
    /// together.
    pub area_error_percent: Option<f64>,
    /// Mean of the per-slice absolute area errors (%).
    pub area_error_abs_mean_percent: Option<f64>,
    pub reference_area_cm2: f64,
    pub predicted_area_cm2: f64,
}

/// Accumulates one tissue's agreement slice by slice.
#[derive(Debug, Default, Clone)]
pub struct AgreementBuilder {
    both: usize,
    predicted: usize,
    reference: usize,
    predicted_cm2: f64,
    reference_cm2: f64,
    dices: Vec<(f64, String)>,
    area_errors: Vec<f64>,
    slices: usize,
}

impl AgreementBuilder {
    /// Adds slice `name`.
    pub fn add(&mut self, name: &str, predicted: &[bool], reference: &[bool], pixel_area_cm2: f64) {
        let p = predicted.iter().filter(|&&x| x).count();
        let r = reference.iter().filter(|&&x| x).count();
        self.both += predicted
            .iter()
            .zip(reference)
            .filter(|(&a, &b)| a && b)
            .count();
        self.predicted += p;
        self.reference += r;
        self.predicted_cm2 += p as f64 * pixel_area_cm2;
        self.reference_cm2 += r as f64 * pixel_area_cm2;
        if let Some(d) = dice(predicted, reference) {
            self.dices.push((d, name.to_owned()));
        }
        if r > 0 {
            self.area_errors
                .push(((p as f64 - r as f64) / r as f64 * 100.0).abs());
        }
        self.slices += 1;
    }

    /// Adds every slice `other` holds (pooling folds of a cross-validation).
    pub fn merge(&mut self, other: &AgreementBuilder) {
        self.both += other.both;
        self.predicted += other.predicted;
        self.reference += other.reference;
        self.predicted_cm2 += other.predicted_cm2;
        self.reference_cm2 += other.reference_cm2;
        self.dices.extend(other.dices.iter().cloned());
        self.area_errors.extend(&other.area_errors);
        self.slices += other.slices;
    }

    pub fn finish(&self) -> Agreement {
        let mean = |v: &[f64]| (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
        let total = self.predicted + self.reference;
        let dices: Vec<f64> = self.dices.iter().map(|(d, _)| *d).collect();
        let worst = self.dices.iter().min_by(|a, b| a.0.total_cmp(&b.0));
        Agreement {
            slices: self.slices,
            dice: (total > 0).then(|| 2.0 * self.both as f64 / total as f64),
            dice_mean: mean(&dices),
            dice_min: worst.map(|(d, _)| *d),
            worst_slice: worst.map(|(_, name)| name.clone()),
            area_error_percent: (self.reference_cm2 > 0.0)
                .then(|| (self.predicted_cm2 - self.reference_cm2) / self.reference_cm2 * 100.0),
            area_error_abs_mean_percent: mean(&self.area_errors),
            reference_area_cm2: self.reference_cm2,
            predicted_area_cm2: self.predicted_cm2,
        }
    }
}

/// Colours of an agreement overlay (Okabe–Ito, told apart with every common colour-vision
/// deficiency): the tissue in both masks, in the prediction only, in the reference only.
pub const OVERLAY_BOTH: [u8; 3] = [0, 158, 115];
pub const OVERLAY_EXTRA: [u8; 3] = [230, 159, 0];
pub const OVERLAY_MISSED: [u8; 3] = [0, 114, 178];

/// A slice as an RGB picture of where a prediction and a reference agree on one tissue:
/// the CT in grey ([`Window::SOFT_TISSUE`]) under the three overlay
/// colours, each pixel drawn `zoom` × `zoom` so that a 3 mm slice can be read. Rows of
/// `columns × zoom` pixels, `rows × zoom` of them.
pub fn agreement_overlay(
    hu: &[i16],
    columns: usize,
    predicted: &[bool],
    reference: &[bool],
    zoom: usize,
) -> Vec<[u8; 3]> {
    let colour = |i: usize| match (predicted.get(i), reference.get(i)) {
        (Some(true), Some(true)) => OVERLAY_BOTH,
        (Some(true), _) => OVERLAY_EXTRA,
        (_, Some(true)) => OVERLAY_MISSED,
        _ => [Window::SOFT_TISSUE.grey(hu.get(i).copied().unwrap_or(i16::MIN)); 3],
    };
    let zoom = zoom.max(1);
    let rows = hu.len() / columns.max(1);
    let mut out = Vec::with_capacity(hu.len() * zoom * zoom);
    for row in 0..rows {
        let line: Vec<[u8; 3]> = (0..columns)
            .flat_map(|column| std::iter::repeat_n(colour(row * columns + column), zoom))
            .collect();
        for _ in 0..zoom {
            out.extend_from_slice(&line);
        }
    }
    out
}

/// `mask` grown by `radius` pixels (a square neighbourhood).
pub fn dilate(mask: &[bool], columns: usize, rows: usize, radius: usize) -> Vec<bool> {
    let mut out = vec![false; mask.len()];
    for r in 0..rows {
        for c in 0..columns {
            if !mask[r * columns + c] {
                continue;
            }
            for rr in r.saturating_sub(radius)..=(r + radius).min(rows - 1) {
                for cc in c.saturating_sub(radius)..=(c + radius).min(columns - 1) {
                    out[rr * columns + cc] = true;
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_overlay_colours_each_pixel_by_who_holds_it() {
        // 2 × 2 pixels: both, prediction only, reference only, neither (air).
        let picture = agreement_overlay(
            &[0, 0, 0, -1000],
            2,
            &[true, true, false, false],
            &[true, false, true, false],
            2,
        );
        assert_eq!(picture.len(), 16);
        let at = |row: usize, column: usize| picture[row * 4 + column];
        assert_eq!(at(0, 0), OVERLAY_BOTH);
        assert_eq!(at(1, 1), OVERLAY_BOTH);
        assert_eq!(at(0, 2), OVERLAY_EXTRA);
        assert_eq!(at(3, 1), OVERLAY_MISSED);
        assert_eq!(
            at(3, 3),
            [0, 0, 0],
            "air is black in the soft-tissue window"
        );
    }

    #[test]
    fn dice_of_halves() {
        let a = [true, true, false, false];
        let b = [true, false, true, false];
        assert_eq!(dice(&a, &b), Some(0.5));
        assert_eq!(dice(&[false; 3], &[false; 3]), None);
        let mut m = AgreementBuilder::default();
        m.add("first", &a, &b, 1.0);
        m.add("second", &a, &a, 1.0);
        let r = m.finish();
        assert_eq!(r.dice_min, Some(0.5));
        assert_eq!(r.worst_slice.as_deref(), Some("first"));
        assert_eq!(r.dice, Some(0.75));
        assert_eq!(r.area_error_percent, Some(0.0));
    }
}
