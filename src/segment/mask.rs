//! A label map on one slice's own pixel grid.

use super::TissueClass;

/// One [`TissueClass`] label per pixel of an axial slice, row-major, in the slice's own
/// grid (so areas follow from the slice's pixel spacing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TissueMask {
    pub columns: usize,
    pub rows: usize,
    labels: Vec<u8>,
}

impl TissueMask {
    pub fn empty(columns: usize, rows: usize) -> TissueMask {
        TissueMask {
            columns,
            rows,
            labels: vec![0; columns * rows],
        }
    }

    /// A mask from raw labels; `None` when the length does not match or a label is not
    /// a [`TissueClass`].
    pub fn from_labels(columns: usize, rows: usize, labels: Vec<u8>) -> Option<TissueMask> {
        let valid = labels.len() == columns * rows
            && labels.iter().all(|&l| TissueClass::from_label(l).is_some());
        valid.then_some(TissueMask {
            columns,
            rows,
            labels,
        })
    }

    pub fn labels(&self) -> &[u8] {
        &self.labels
    }

    pub fn get(&self, column: usize, row: usize) -> TissueClass {
        if column >= self.columns || row >= self.rows {
            return TissueClass::Background;
        }
        TissueClass::from_label(self.labels[row * self.columns + column])
            .unwrap_or(TissueClass::Background)
    }

    pub fn set(&mut self, index: usize, class: TissueClass) {
        if let Some(label) = self.labels.get_mut(index) {
            *label = class.label();
        }
    }

    pub fn count(&self, class: TissueClass) -> usize {
        self.labels.iter().filter(|&&l| l == class.label()).count()
    }

    /// The pixels that hold `class`, as a boolean map.
    pub fn of(&self, class: TissueClass) -> Vec<bool> {
        self.labels.iter().map(|&l| l == class.label()).collect()
    }
}
