//! The trunk, and nothing beside it: L3 skeletal muscle area counts the muscles of the
//! trunk only (Mourtzakis et al., Appl Physiol Nutr Metab 2008; Shen et al., J Appl
//! Physiol 2004), so arms lying beside the trunk, the scanner table and positioning aids
//! are left out before the network sees the slice and again after it has answered.
//!
//! The body is every pixel above −500 HU (air is −1000, fat −100). Arms that touch the
//! trunk do so over a narrow neck of skin, so the body is first eroded by
//! [`Trunk::NECK_MM`]: what stays of the largest eroded part is the trunk's core, and
//! the trunk is every body pixel within that same distance of the core (an opening that
//! keeps only the largest part). A trunk's own outline is only changed where it is
//! narrower than twice that distance or more sharply curved, which at L3 an adult's never
//! is. The distance is this project's choice, not a published value: an arm resting on
//! the flank whose contact is up to 30 mm wide is split off; a wider contact is not (the
//! panel then says nothing, and the reader sees the arm in the mask).

use serde::{Deserialize, Serialize};

use super::cleanup::neighbours4;
use super::AxialSlice;
use crate::volume::Volume;

/// Which pixels of a slice belong to the trunk, and what was left out.
#[derive(Debug, Clone, PartialEq)]
pub struct Trunk {
    inside: Vec<bool>,
    pub left_out: LeftOut,
}

/// What lay outside the trunk, in words a reader can check on the image.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LeftOut {
    /// Areas (cm²) of the body parts beside the trunk, largest first: arms, as a rule.
    pub body_parts_cm2: Vec<f64>,
    /// Area (cm²) of smaller objects left out: the table, pads, cables.
    pub small_objects_cm2: f64,
}

impl LeftOut {
    /// Parts at least this large and this thick are body parts (an adult forearm is
    /// over 20 cm² in cross-section and over 40 mm across); the table's shell, pads and
    /// cables are thinner, however long.
    pub const BODY_PART_CM2: f64 = 10.0;
    pub const BODY_PART_DEPTH_MM: f64 = 10.0;

    /// The sentence the segmentation panel shows, when anything was left out.
    pub fn describe(&self) -> Option<String> {
        let parts = self.body_parts_cm2.len();
        let total: f64 = self.body_parts_cm2.iter().sum();
        match parts {
            0 => None,
            1 => Some(format!(
                "A body part beside the trunk ({total:.0} cm², usually an arm) was found and left out: L3 muscle area counts the trunk only."
            )),
            n => Some(format!(
                "{n} body parts beside the trunk ({total:.0} cm² together, usually the arms) were found and left out: L3 muscle area counts the trunk only."
            )),
        }
    }
}

impl Trunk {
    /// Half the width of the widest neck that still separates two parts.
    pub const NECK_MM: f64 = 15.0;
    const BODY_HU: i16 = -500;

    pub fn find(slice: &AxialSlice) -> Trunk {
        let (columns, rows) = (slice.columns, slice.rows);
        let tissue: Vec<bool> = slice
            .hu
            .iter()
            .map(|&v| v != Volume::NO_DATA && v > Trunk::BODY_HU)
            .collect();
        // Gas in the bowel and the lung bases is inside the body: without it a wall
        // between a gas-filled loop and the outside would look like a thin neck.
        let body = fill_holes(&tissue, columns, rows);
        let spacing = [slice.pixel_spacing[1].0, slice.pixel_spacing[0].0];
        let depth = distance(&body, columns, rows, spacing, false);
        let core: Vec<bool> = depth.iter().map(|&d| d > Trunk::NECK_MM).collect();
        let largest = components(&core, columns, rows)
            .into_iter()
            .max_by_key(Vec::len)
            .unwrap_or_default();
        let mut kept_core = vec![false; body.len()];
        for i in largest {
            kept_core[i] = true;
        }
        let reach = distance(&kept_core, columns, rows, spacing, true);
        // The diagonal step of the chamfer overshoots a true disc by up to 8 %: a pixel's
        // diagonal more keeps the trunk's own edge whole.
        let margin = Trunk::NECK_MM + spacing[0].hypot(spacing[1]);
        let inside: Vec<bool> = body
            .iter()
            .zip(&reach)
            .map(|(&b, &r)| b && r <= margin)
            .collect();
        let outside: Vec<bool> = tissue.iter().zip(&inside).map(|(&b, &i)| b && !i).collect();
        let pixel_cm2 = slice.pixel_area_cm2();
        let mut left_out = LeftOut::default();
        for part in components(&outside, columns, rows) {
            let area = part.len() as f64 * pixel_cm2;
            let thickest = part.iter().map(|&i| depth[i]).fold(0.0, f64::max);
            if area >= LeftOut::BODY_PART_CM2 && thickest >= LeftOut::BODY_PART_DEPTH_MM {
                left_out.body_parts_cm2.push(area);
            } else {
                left_out.small_objects_cm2 += area;
            }
        }
        left_out.body_parts_cm2.sort_by(|a, b| b.total_cmp(a));
        Trunk { inside, left_out }
    }

    pub fn contains(&self, index: usize) -> bool {
        self.inside.get(index).copied().unwrap_or(false)
    }

    /// The slice's HU with everything outside the trunk made air.
    pub fn only_trunk(&self, hu: &[i16]) -> Vec<i16> {
        hu.iter()
            .zip(&self.inside)
            .map(|(&v, &i)| if i { v } else { -1000 })
            .collect()
    }
}

/// Chamfer distance (mm) of every pixel to the nearest pixel where `map` is `from`
/// (`from = false`: depth inside the map; `true`: distance to the map). The map is taken
/// to go on beyond the image edge: a trunk wider than the field of view, cut by its edge,
/// is not thin there.
fn distance(map: &[bool], columns: usize, rows: usize, spacing: [f64; 2], from: bool) -> Vec<f64> {
    let [dx, dy] = spacing;
    let dd = dx.hypot(dy);
    let far = f64::INFINITY;
    let mut d: Vec<f64> = map
        .iter()
        .map(|&m| if m == from { 0.0 } else { far })
        .collect();
    for r in 0..rows {
        for c in 0..columns {
            let i = r * columns + c;
            let mut best = d[i];
            if c > 0 {
                best = best.min(d[i - 1] + dx);
            }
            if r > 0 {
                best = best.min(d[i - columns] + dy);
                if c > 0 {
                    best = best.min(d[i - columns - 1] + dd);
                }
                if c + 1 < columns {
                    best = best.min(d[i - columns + 1] + dd);
                }
            }
            d[i] = best;
        }
    }
    for r in (0..rows).rev() {
        for c in (0..columns).rev() {
            let i = r * columns + c;
            let mut best = d[i];
            if c + 1 < columns {
                best = best.min(d[i + 1] + dx);
            }
            if r + 1 < rows {
                best = best.min(d[i + columns] + dy);
                if c + 1 < columns {
                    best = best.min(d[i + columns + 1] + dd);
                }
                if c > 0 {
                    best = best.min(d[i + columns - 1] + dd);
                }
            }
            d[i] = best;
        }
    }
    d
}

/// The map with every hole filled: what cannot be reached from the image edge through
/// pixels outside the map (4-connected) is inside it.
fn fill_holes(map: &[bool], columns: usize, rows: usize) -> Vec<bool> {
    let mut outside = vec![false; map.len()];
    let mut stack: Vec<usize> = (0..map.len())
        .filter(|&i| {
            let (c, r) = (i % columns, i / columns);
            (c == 0 || r == 0 || c + 1 == columns || r + 1 == rows) && !map[i]
        })
        .collect();
    for &i in &stack {
        outside[i] = true;
    }
    while let Some(i) = stack.pop() {
        for j in neighbours4(i, columns, rows).into_iter().flatten() {
            if !map[j] && !outside[j] {
                outside[j] = true;
                stack.push(j);
            }
        }
    }
    outside.iter().map(|&o| !o).collect()
}

/// The 8-connected parts of a map, each as its pixel indices.
fn components(map: &[bool], columns: usize, rows: usize) -> Vec<Vec<usize>> {
    let mut seen = vec![false; map.len()];
    let mut parts = Vec::new();
    let mut stack = Vec::new();
    for start in 0..map.len() {
        if !map[start] || seen[start] {
            continue;
        }
        let mut part = Vec::new();
        seen[start] = true;
        stack.push(start);
        while let Some(i) = stack.pop() {
            part.push(i);
            let (c, r) = (i % columns, i / columns);
            for rr in r.saturating_sub(1)..=(r + 1).min(rows - 1) {
                for cc in c.saturating_sub(1)..=(c + 1).min(columns - 1) {
                    let j = rr * columns + cc;
                    if map[j] && !seen[j] {
                        seen[j] = true;
                        stack.push(j);
                    }
                }
            }
        }
        parts.push(part);
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::Millimetres;

    /// A 1 mm slice with an elliptical trunk, two round arms and a thin table.
    fn scene(arm_gap_mm: f64) -> (Vec<i16>, usize, usize) {
        let (columns, rows) = (500usize, 300usize);
        let mut hu = vec![-1000i16; columns * rows];
        for r in 0..rows {
            for c in 0..columns {
                let (x, y) = (c as f64 - 250.0, r as f64 - 140.0);
                let trunk = (x / 150.0).powi(2) + (y / 100.0).powi(2) <= 1.0;
                let arm = |cx: f64| (x - cx).powi(2) + (y - 20.0).powi(2) <= 40.0f64.powi(2);
                let offset = 150.0 + 40.0 + arm_gap_mm;
                let table = (250..256).contains(&r) && (30..470).contains(&c);
                if trunk {
                    hu[r * columns + c] = 40;
                } else if arm(-offset) || arm(offset) {
                    hu[r * columns + c] = 45;
                } else if table {
                    hu[r * columns + c] = 100;
                }
            }
        }
        (hu, columns, rows)
    }

    fn trunk_of(hu: &[i16], columns: usize, rows: usize) -> Trunk {
        let slice = AxialSlice::new(hu, columns, rows, [Millimetres(1.0); 2]).expect("slice");
        Trunk::find(&slice)
    }

    #[test]
    fn arms_apart_and_touching_are_left_out_and_the_trunk_is_whole() {
        for gap in [10.0, 0.0, -2.0] {
            let (hu, columns, rows) = scene(gap);
            let trunk = trunk_of(&hu, columns, rows);
            let parts = &trunk.left_out.body_parts_cm2;
            assert_eq!(parts.len(), 2, "gap {gap}: {:?}", trunk.left_out);
            // Each arm is π·4² ≈ 50 cm²; where it overlapped the trunk that part is trunk.
            for &a in parts {
                assert!((40.0..=51.0).contains(&a), "gap {gap}: arm {a} cm²");
            }
            assert!(
                trunk.left_out.small_objects_cm2 > 20.0,
                "the table is left out"
            );
            let trunk_area = (0..hu.len()).filter(|&i| trunk.contains(i)).count() as f64 / 100.0;
            let ellipse = std::f64::consts::PI * 15.0 * 10.0;
            assert!(
                (trunk_area - ellipse).abs() / ellipse < 0.01,
                "gap {gap}: trunk {trunk_area} cm² vs {ellipse}"
            );
            let only = trunk.only_trunk(&hu);
            assert_eq!(only[140 * columns + 250], 40);
            assert_eq!(only[160 * columns + 10], -1000, "arm made air");
            assert!(trunk
                .left_out
                .describe()
                .is_some_and(|s| s.contains("2 body parts")));
        }
    }

    #[test]
    fn a_trunk_alone_loses_nothing() {
        let (mut hu, columns, rows) = scene(10.0);
        for (i, v) in hu.iter_mut().enumerate() {
            let (c, r) = (i % columns, i / columns);
            if !(100..=400).contains(&c) || r >= 250 {
                *v = -1000;
            }
        }
        let trunk = trunk_of(&hu, columns, rows);
        assert_eq!(trunk.left_out, LeftOut::default());
        assert_eq!(trunk.left_out.describe(), None);
        let body = hu.iter().filter(|&&v| v > -500).count();
        let kept = (0..hu.len()).filter(|&i| trunk.contains(i)).count();
        assert_eq!(kept, body);
    }

    #[test]
    fn gas_in_the_bowel_does_not_cut_off_the_wall_beside_it() {
        let (mut hu, columns, rows) = scene(10.0);
        // A gas-filled loop 10 mm under the anterior wall, 120 mm wide.
        for r in 50..90 {
            for c in 190..310 {
                hu[r * columns + c] = -1000;
            }
        }
        let trunk = trunk_of(&hu, columns, rows);
        assert_eq!(
            trunk.left_out.body_parts_cm2.len(),
            2,
            "{:?}",
            trunk.left_out
        );
        assert!(trunk.contains(45 * columns + 250), "the wall over the loop");
        assert!(
            trunk.contains(70 * columns + 250),
            "the gas is inside the trunk"
        );
    }

    #[test]
    fn an_empty_slice_has_no_trunk() {
        let hu = vec![-1000i16; 64 * 64];
        let trunk = trunk_of(&hu, 64, 64);
        assert!(!(0..hu.len()).any(|i| trunk.contains(i)));
        assert_eq!(trunk.left_out, LeftOut::default());
    }
}
