//! Bowel and stomach: tubes through the abdomen, walled, holding fluid, faeces and gas.
//!
//! Loops are built in three dimensions (chains of straight pieces) rather than drawn as
//! circles slice by slice, so that they are continuous on sagittal and coronal views.
//! Gas sits on the anterior side of a lumen because the patient lies supine.

use super::palette::Material;
use super::shapes::Bounds;
use crate::rng::Rng;

/// What a tube's lumen holds, besides its gas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Content {
    Fluid,
    Stool,
}

/// One straight piece of a tube.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tube {
    pub a: [f64; 3],
    pub b: [f64; 3],
    pub radius: f64,
    pub wall: f64,
    /// Fraction of the lumen's depth (front to back) filled with gas.
    pub gas: f64,
    pub content: Content,
}

impl Tube {
    fn z_range(&self) -> (f64, f64) {
        (
            self.a[2].min(self.b[2]) - self.radius,
            self.a[2].max(self.b[2]) + self.radius,
        )
    }

    /// Distance from `p` to the axis, and the axis point's y (for the gas level).
    #[inline]
    fn axis_distance(&self, p: [f64; 3]) -> (f64, f64) {
        let d = [
            self.b[0] - self.a[0],
            self.b[1] - self.a[1],
            self.b[2] - self.a[2],
        ];
        let q = [p[0] - self.a[0], p[1] - self.a[1], p[2] - self.a[2]];
        let len2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
        let t = if len2 > 0.0 {
            ((q[0] * d[0] + q[1] * d[1] + q[2] * d[2]) / len2).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let e = [q[0] - t * d[0], q[1] - t * d[1], q[2] - t * d[2]];
        (
            (e[0] * e[0] + e[1] * e[1] + e[2] * e[2]).sqrt(),
            self.a[1] + t * d[1],
        )
    }

    /// Shortest distance between the axes of two pieces, estimated on a few points of
    /// each (enough to keep loops apart).
    pub fn clearance(&self, other: &Tube) -> f64 {
        let mut best = f64::INFINITY;
        for i in 0..=6 {
            let t = f64::from(i) / 6.0;
            let p = [
                self.a[0] + t * (self.b[0] - self.a[0]),
                self.a[1] + t * (self.b[1] - self.a[1]),
                self.a[2] + t * (self.b[2] - self.a[2]),
            ];
            best = best.min(other.axis_distance(p).0);
        }
        best - self.radius - other.radius
    }
}

/// The tubes that cross one axial plane, each with its box in that plane.
#[derive(Debug, Clone)]
pub(crate) struct TubesAt {
    z: f64,
    active: Vec<(Tube, Bounds)>,
}

impl TubesAt {
    pub fn new(tubes: &[Tube], z: f64) -> TubesAt {
        let active = tubes
            .iter()
            .filter(|t| {
                let (lo, hi) = t.z_range();
                z >= lo && z <= hi
            })
            .map(|t| {
                let r = t.radius;
                (
                    *t,
                    Bounds {
                        x0: t.a[0].min(t.b[0]) - r,
                        y0: t.a[1].min(t.b[1]) - r,
                        x1: t.a[0].max(t.b[0]) + r,
                        y1: t.a[1].max(t.b[1]) + r,
                    },
                )
            })
            .collect();
        TubesAt { z, active }
    }

    /// What a tube holds at (`x`, `y`), if any tube is there.
    #[inline]
    pub fn at(&self, x: f64, y: f64) -> Option<Material> {
        for (tube, bounds) in &self.active {
            if !bounds.contains(x, y) {
                continue;
            }
            let (d, axis_y) = tube.axis_distance([x, y, self.z]);
            if d >= tube.radius {
                continue;
            }
            if d > tube.radius - tube.wall {
                return Some(Material::BowelWall);
            }
            let lumen = tube.radius - tube.wall;
            // Supine: gas rises to the front (smaller y).
            let gas_level = axis_y - lumen + 2.0 * lumen * tube.gas;
            return Some(if y < gas_level {
                Material::Gas
            } else {
                match tube.content {
                    Content::Fluid => Material::Fluid,
                    Content::Stool => Material::Stool,
                }
            });
        }
        None
    }
}

/// Where small-bowel loops may lie.
pub(crate) struct Room<'a> {
    /// A box (mm) that holds every free point.
    pub lo: [f64; 3],
    pub hi: [f64; 3],
    /// Whether a ball of the given radius at the point lies inside the free abdomen.
    pub free: &'a dyn Fn([f64; 3], f64) -> bool,
}

/// Length of one straight piece of a small-bowel loop (mm): short, so that loops curve.
const STEP: f64 = 12.0;

/// Adds small-bowel loops to `tubes` (which already holds the colon and the stomach,
/// kept clear of). Each loop is a persistent random walk (it keeps roughly its heading
/// and turns gradually) that stops where it cannot go on without touching another
/// loop or leaving the room; new loops are started until `loops` have been tried.
pub(crate) fn small_bowel(tubes: &mut Vec<Tube>, room: &Room<'_>, loops: usize, rng: &mut Rng) {
    for _ in 0..loops {
        let radius = rng.range(8.0, 11.5);
        let gas = if rng.unit() < 0.3 {
            rng.range(0.15, 0.5)
        } else {
            0.0
        };
        let probe = |p: [f64; 3]| Tube {
            a: p,
            b: p,
            radius,
            wall: 2.0,
            gas,
            content: Content::Fluid,
        };
        let start = (0..30).find_map(|_| {
            let p = [0, 1, 2].map(|a| rng.range(room.lo[a], room.hi[a]));
            let clear =
                (room.free)(p, radius) && tubes.iter().all(|t| t.clearance(&probe(p)) > 1.0);
            clear.then_some(p)
        });
        let Some(mut at) = start else {
            continue;
        };
        let mut heading = random_direction(rng);
        let first_piece = tubes.len();
        for _ in 0..60 {
            let mut placed = false;
            for attempt in 0..16 {
                // Turn a little at first, more when blocked.
                let turn = 0.5 + 0.15 * f64::from(attempt);
                let r = random_direction(rng);
                let d = normalise([0, 1, 2].map(|a| heading[a] + turn * r[a]));
                let next = [0, 1, 2].map(|a| at[a] + STEP * d[a]);
                if !(room.free)(next, radius) {
                    continue;
                }
                let piece = Tube {
                    b: next,
                    ..probe(at)
                };
                // The last pieces of the same loop bend round from this joint.
                let recent = tubes.len().saturating_sub(3).max(first_piece);
                let clear = tubes[..recent].iter().all(|t| t.clearance(&piece) > 1.0);
                if clear {
                    tubes.push(piece);
                    at = next;
                    heading = d;
                    placed = true;
                    break;
                }
            }
            if !placed {
                break;
            }
        }
    }
}

fn random_direction(rng: &mut Rng) -> [f64; 3] {
    loop {
        let v = [
            rng.range(-1.0, 1.0),
            rng.range(-1.0, 1.0),
            rng.range(-1.0, 1.0),
        ];
        let n2 = v[0] * v[0] + v[1] * v[1] + v[2] * v[2];
        if n2 > 1e-4 && n2 <= 1.0 {
            return normalise(v);
        }
    }
}

fn normalise(v: [f64; 3]) -> [f64; 3] {
    let n = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt().max(1e-9);
    v.map(|c| c / n)
}
