//! Removing specks and filling holes in the network's compartments, before the HU
//! windows decide pixel by pixel.
//!
//! A network's mistakes at L3 are mostly small islands: a few "muscle" pixels inside a
//! bowel loop, a pinhole in the psoas. Thresholds are in mm², not pixels, so they mean
//! the same on every scanner. They are this project's choice (no published protocol
//! fixes them): small enough that no real muscle or fat depot is touched at L3.

use serde::{Deserialize, Serialize};

use super::{TissueClass, TissueMask};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Cleanup {
    /// Islands of one tissue smaller than this become background.
    pub min_island_mm2: f64,
    /// Background holes smaller than this, surrounded by one tissue, take that tissue.
    pub max_hole_mm2: f64,
}

impl Default for Cleanup {
    fn default() -> Cleanup {
        Cleanup {
            min_island_mm2: 10.0,
            max_hole_mm2: 10.0,
        }
    }
}

impl Cleanup {
    pub fn apply(&self, mask: &mut TissueMask, pixel_area_mm2: f64) {
        if pixel_area_mm2 <= 0.0 {
            return;
        }
        let min_island = (self.min_island_mm2 / pixel_area_mm2).ceil() as usize;
        let max_hole = (self.max_hole_mm2 / pixel_area_mm2).floor() as usize;
        for component in components(mask) {
            let class = component.class;
            if class != TissueClass::Background && component.pixels.len() < min_island {
                for &i in &component.pixels {
                    mask.set(i, TissueClass::Background);
                }
            }
        }
        for component in components(mask) {
            if component.class != TissueClass::Background
                || component.pixels.len() > max_hole
                || component.touches_edge
            {
                continue;
            }
            if let Some(surround) = component.single_neighbour {
                for &i in &component.pixels {
                    mask.set(i, surround);
                }
            }
        }
    }
}

/// A 4-connected region of one class.
struct Component {
    class: TissueClass,
    pixels: Vec<usize>,
    touches_edge: bool,
    /// The class of every neighbouring pixel outside the region, when they all agree.
    single_neighbour: Option<TissueClass>,
}

/// The pixels left, right, above and below pixel `i` of a row-major image, where there
/// are such pixels.
pub(super) fn neighbours4(i: usize, columns: usize, rows: usize) -> [Option<usize>; 4] {
    let (c, r) = (i % columns, i / columns);
    [
        (c > 0).then(|| i - 1),
        (c + 1 < columns).then(|| i + 1),
        (r > 0).then(|| i - columns),
        (r + 1 < rows).then(|| i + columns),
    ]
}

fn components(mask: &TissueMask) -> Vec<Component> {
    let (columns, rows) = (mask.columns, mask.rows);
    let labels = mask.labels();
    let mut seen = vec![false; labels.len()];
    let mut out = Vec::new();
    let mut stack = Vec::new();
    for start in 0..labels.len() {
        if seen[start] {
            continue;
        }
        let label = labels[start];
        let mut component = Component {
            class: TissueClass::from_label(label).unwrap_or_default(),
            pixels: Vec::new(),
            touches_edge: false,
            single_neighbour: None,
        };
        let mut neighbours: Option<Option<u8>> = None;
        seen[start] = true;
        stack.push(start);
        while let Some(i) = stack.pop() {
            component.pixels.push(i);
            let (c, r) = (i % columns, i / columns);
            if c == 0 || r == 0 || c + 1 == columns || r + 1 == rows {
                component.touches_edge = true;
            }
            for j in neighbours4(i, columns, rows).into_iter().flatten() {
                if labels[j] == label {
                    if !seen[j] {
                        seen[j] = true;
                        stack.push(j);
                    }
                } else {
                    neighbours = match neighbours {
                        None => Some(Some(labels[j])),
                        Some(Some(l)) if l == labels[j] => Some(Some(l)),
                        _ => Some(None),
                    };
                }
            }
        }
        component.single_neighbour = neighbours.flatten().and_then(TissueClass::from_label);
        out.push(component);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn islands_go_and_pinholes_fill() {
        let (columns, rows) = (20, 20);
        let mut labels = vec![0u8; columns * rows];
        // A 10×10 block of muscle with a one-pixel hole, and a lone VAT pixel.
        for r in 5..15 {
            for c in 5..15 {
                labels[r * columns + c] = 1;
            }
        }
        labels[10 * columns + 10] = 0;
        labels[2 * columns + 2] = 3;
        let mut mask = TissueMask::from_labels(columns, rows, labels).unwrap();
        Cleanup::default().apply(&mut mask, 4.0);
        assert_eq!(mask.get(10, 10), TissueClass::SkeletalMuscle);
        assert_eq!(mask.get(2, 2), TissueClass::Background);
        assert_eq!(mask.count(TissueClass::SkeletalMuscle), 100);
    }
}
