//! Bone beside the spine on one slice: how far bone connected to the spine reaches
//! sideways (the sacrum is fused to the iliac bones through the sacroiliac joints), and
//! how much bone lies to the side unconnected to it (ribs above, iliac wings below).

use super::plane::{Plane, Sampling};
use super::spine::TrackPoint;

/// Bone for connectivity and lateral bone (HU): cortex and cancellous bone of the
/// sacrum, ilium and ribs at 2–3 mm sampling; muscle and unenhanced organs stay below.
pub const BONE_HU: f32 = 180.0;
/// Half-width of the window searched beside the spine (mm): reaches the iliac wings and
/// the posterior ribs of an adult.
pub const WINDOW_HALF_X_MM: f64 = 150.0;
/// The window's extent in front of and behind the vertebral body centre (mm).
pub const WINDOW_FRONT_MM: f64 = 40.0;
pub const WINDOW_BACK_MM: f64 = 90.0;
/// Lateral distance beyond which unconnected bone counts (mm): past the vertebral body
/// and the facets, where only ribs and iliac bones lie.
pub const FREE_BONE_MIN_X_MM: f64 = 35.0;

/// What one slice shows beside the spine.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Lateral {
    /// How far (mm, left or right) bone connected to the vertebra reaches, at the level
    /// of the vertebral body front to back.
    pub reach_mm: f64,
    /// Area of bone beside the spine that is not connected to it (mm²).
    pub free_mm2: f64,
    /// Mean lateral distance of that bone (mm).
    pub free_x_mm: f64,
}

/// Measures [`Lateral`] on one plane around the track point.
pub fn lateral(plane: &Plane, s: &Sampling, t: &TrackPoint) -> Lateral {
    let hx = (WINDOW_HALF_X_MM / s.mm_x).round() as isize;
    let front = (WINDOW_FRONT_MM / s.mm_y).round() as isize;
    let back = (WINDOW_BACK_MM / s.mm_y).round() as isize;
    let (cx, cy) = (t.x.round() as isize, t.y.round() as isize);
    let w = (2 * hx + 1) as usize;
    let h = (front + back + 1) as usize;
    let bone: Vec<bool> = (0..h * w)
        .map(|i| {
            let (r, c) = ((i / w) as isize, (i % w) as isize);
            plane.at(cx - hx + c, cy - front + r) >= BONE_HU
        })
        .collect();
    // Seed: bone samples in the middle of the vertebral body (or its posterior
    // elements on a disc slice).
    let mut connected = vec![false; h * w];
    let mut stack: Vec<usize> = Vec::new();
    let half_depth = (t.depth / 2.0).round() as isize;
    let seed_x = (6.0 / s.mm_x).round() as isize;
    for r in
        (front - half_depth).max(0)..(front + half_depth + (20.0 / s.mm_y) as isize).min(h as isize)
    {
        for c in (hx - seed_x).max(0)..=(hx + seed_x).min(w as isize - 1) {
            let i = r as usize * w + c as usize;
            if bone.get(i) == Some(&true) {
                connected[i] = true;
                stack.push(i);
            }
        }
    }
    while let Some(i) = stack.pop() {
        let (r, c) = (i / w, i % w);
        let mut visit = |rr: usize, cc: usize| {
            let j = rr * w + cc;
            if bone.get(j) == Some(&true) && !connected[j] {
                connected[j] = true;
                stack.push(j);
            }
        };
        if r > 0 {
            visit(r - 1, c);
        }
        if r + 1 < h {
            visit(r + 1, c);
        }
        if c > 0 {
            visit(r, c - 1);
        }
        if c + 1 < w {
            visit(r, c + 1);
        }
    }
    let mut out = Lateral::default();
    let (mut free_n, mut free_x) = (0usize, 0.0f64);
    for r in 0..h {
        for c in 0..w {
            let i = r * w + c;
            let dx = (c as isize - hx).unsigned_abs() as f64 * s.mm_x;
            let dy = (r as isize - front) as f64;
            if connected[i] && dy.abs() <= t.depth / 2.0 + 1.0 {
                out.reach_mm = out.reach_mm.max(dx);
            } else if bone[i] && !connected[i] && dx >= FREE_BONE_MIN_X_MM {
                free_n += 1;
                free_x += dx;
            }
        }
    }
    if free_n > 0 {
        out.free_mm2 = free_n as f64 * s.mm_x * s.mm_y;
        out.free_x_mm = free_x / free_n as f64;
    }
    out
}
