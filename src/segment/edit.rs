//! Correcting a mask by hand: a round brush in millimetres that paints or erases one
//! tissue, optionally only where the HU fall in that tissue's window, with undo and redo.
//!
//! Every stroke records what it changed, so undo restores exactly what was there and the
//! number of hand-corrected pixels can be reported.

use serde::{Deserialize, Serialize};

use super::{AxialSlice, HuWindows, TissueClass, TissueMask};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tool {
    /// Sets pixels to the tissue.
    Paint,
    /// Returns pixels of the tissue to background; other tissues are left alone.
    Erase,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Brush {
    pub tool: Tool,
    pub tissue: TissueClass,
    /// Radius in millimetres, so the brush covers the same anatomy at any pixel size.
    pub radius_mm: f64,
    /// Paint only pixels whose HU fall in the tissue's window (Alberta protocol), so a
    /// rough stroke along an edge does not take in fat as muscle.
    pub hu_constrained: bool,
}

/// One pixel's change: where, from which label, to which.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub index: u32,
    pub before: u8,
    pub after: u8,
}

/// What a stroke (press, drag, release) changed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stroke {
    pub changes: Vec<Change>,
}

/// Paints one dab of `brush` centred on pixel (`column`, `row`), adding its changes to
/// `stroke`. Pixels outside the slice are ignored.
pub fn dab(
    mask: &mut TissueMask,
    slice: &AxialSlice,
    column: f64,
    row: f64,
    brush: &Brush,
    stroke: &mut Stroke,
) {
    let [row_mm, column_mm] = [slice.pixel_spacing[0].0, slice.pixel_spacing[1].0];
    let r_cols = brush.radius_mm / column_mm;
    let r_rows = brush.radius_mm / row_mm;
    let window = HuWindows::ALBERTA.of(brush.tissue);
    let c0 = (column - r_cols).floor().max(0.0) as usize;
    let c1 = ((column + r_cols).ceil() as usize).min(slice.columns.saturating_sub(1));
    let r0 = (row - r_rows).floor().max(0.0) as usize;
    let r1 = ((row + r_rows).ceil() as usize).min(slice.rows.saturating_sub(1));
    if column < -r_cols || row < -r_rows {
        return;
    }
    for r in r0..=r1 {
        for c in c0..=c1 {
            let dx = (c as f64 - column) * column_mm;
            let dy = (r as f64 - row) * row_mm;
            if dx * dx + dy * dy > brush.radius_mm * brush.radius_mm {
                continue;
            }
            let index = r * slice.columns + c;
            let before = mask.get(c, r);
            let after = match brush.tool {
                Tool::Erase if before == brush.tissue => TissueClass::Background,
                Tool::Erase => continue,
                Tool::Paint => {
                    let hu = f64::from(slice.value(c, r));
                    if brush.hu_constrained && !window.is_some_and(|w| w.contains(hu)) {
                        continue;
                    }
                    brush.tissue
                }
            };
            if after != before {
                mask.set(index, after);
                stroke.changes.push(Change {
                    index: index as u32,
                    before: before.label(),
                    after: after.label(),
                });
            }
        }
    }
}

/// Undo and redo over whole strokes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    done: Vec<Stroke>,
    undone: Vec<Stroke>,
}

impl History {
    /// Records a finished stroke; a new stroke clears what could be redone.
    pub fn record(&mut self, stroke: Stroke) {
        if !stroke.changes.is_empty() {
            self.done.push(stroke);
            self.undone.clear();
        }
    }

    pub fn can_undo(&self) -> bool {
        !self.done.is_empty()
    }

    pub fn can_redo(&self) -> bool {
        !self.undone.is_empty()
    }

    pub fn undo(&mut self, mask: &mut TissueMask) -> bool {
        let Some(stroke) = self.done.pop() else {
            return false;
        };
        for c in stroke.changes.iter().rev() {
            restore(mask, c.index, c.before);
        }
        self.undone.push(stroke);
        true
    }

    pub fn redo(&mut self, mask: &mut TissueMask) -> bool {
        let Some(stroke) = self.undone.pop() else {
            return false;
        };
        for c in &stroke.changes {
            restore(mask, c.index, c.after);
        }
        self.done.push(stroke);
        true
    }
}

/// Puts a recorded label back; a label that is not a tissue class (a record of another
/// mask) leaves the pixel as it is.
fn restore(mask: &mut TissueMask, index: u32, label: u8) {
    if let Some(class) = TissueClass::from_label(label) {
        mask.set(index as usize, class);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::Millimetres;

    fn slice(hu: &[i16]) -> AxialSlice<'_> {
        AxialSlice::new(hu, 20, 10, [Millimetres(1.0), Millimetres(0.5)]).unwrap()
    }

    #[test]
    fn a_dab_is_round_in_millimetres_and_respects_the_hu_window() {
        // Left half muscle-dense (40 HU), right half fat (−100 HU).
        let hu: Vec<i16> = (0..200)
            .map(|i| if i % 20 < 10 { 40 } else { -100 })
            .collect();
        let s = slice(&hu);
        let mut mask = TissueMask::empty(20, 10);
        let mut stroke = Stroke::default();
        let brush = Brush {
            tool: Tool::Paint,
            tissue: TissueClass::SkeletalMuscle,
            radius_mm: 2.0,
            hu_constrained: false,
        };
        dab(&mut mask, &s, 10.0, 5.0, &brush, &mut stroke);
        // 2 mm = 4 columns = 2 rows: the dab spans columns 6–14 on its centre row and
        // rows 3–7 on its centre column.
        assert_eq!(mask.get(6, 5), TissueClass::SkeletalMuscle);
        assert_eq!(mask.get(5, 5), TissueClass::Background);
        assert_eq!(mask.get(10, 3), TissueClass::SkeletalMuscle);
        assert_eq!(mask.get(10, 2), TissueClass::Background);
        let unconstrained = stroke.changes.len();
        let mut constrained_mask = TissueMask::empty(20, 10);
        let mut constrained = Stroke::default();
        dab(
            &mut constrained_mask,
            &s,
            10.0,
            5.0,
            &Brush {
                hu_constrained: true,
                ..brush
            },
            &mut constrained,
        );
        assert!(constrained.changes.len() < unconstrained);
        assert_eq!(
            constrained_mask.get(12, 5),
            TissueClass::Background,
            "fat painted as muscle"
        );
        assert_eq!(constrained_mask.get(8, 5), TissueClass::SkeletalMuscle);
        // Near the edge nothing panics and nothing outside is touched.
        dab(&mut mask, &s, -1.0, 0.0, &brush, &mut stroke);
        dab(&mut mask, &s, 19.5, 9.5, &brush, &mut stroke);
        dab(&mut mask, &s, 1e9, -1e9, &brush, &mut stroke);
    }

    #[test]
    fn erase_touches_only_its_tissue_and_undo_redo_restore_exactly() {
        let hu = vec![0i16; 200];
        let s = slice(&hu);
        let mut labels = vec![TissueClass::Vat.label(); 200];
        for l in labels.iter_mut().step_by(2) {
            *l = TissueClass::SkeletalMuscle.label();
        }
        let original = labels.clone();
        let mut mask = TissueMask::from_labels(20, 10, labels).unwrap();
        let mut history = History::default();
        let mut stroke = Stroke::default();
        let eraser = Brush {
            tool: Tool::Erase,
            tissue: TissueClass::SkeletalMuscle,
            radius_mm: 3.0,
            hu_constrained: false,
        };
        dab(&mut mask, &s, 10.0, 5.0, &eraser, &mut stroke);
        dab(&mut mask, &s, 11.0, 5.0, &eraser, &mut stroke);
        assert!(stroke
            .changes
            .iter()
            .all(|c| c.before == TissueClass::SkeletalMuscle.label() && c.after == 0));
        assert_eq!(mask.count(TissueClass::Vat), 100);
        history.record(stroke);
        let edited = mask.labels().to_vec();
        assert!(history.undo(&mut mask));
        assert_eq!(mask.labels(), original);
        assert!(!history.undo(&mut mask));
        assert!(history.redo(&mut mask));
        assert_eq!(mask.labels(), edited);
        history.record(Stroke::default());
        assert!(history.can_undo() && !history.can_redo());
    }
}
