//! The HU profile along z inside the vertebral bodies, and the discs found on it:
//! cancellous bone is denser than disc, so discs are the regular minima of the profile.

use super::plane::{Plane, Sampling};
use super::spine::TrackPoint;

/// Half-width of the box sampled inside the body (mm): the central third of a body.
pub const BOX_HALF_X_MM: f64 = 8.0;
/// How far inside the body's front and back the box stops (mm), so that the cortex and
/// the partial volume with fat or the canal do not dilute the contrast.
pub const BOX_MARGIN_MM: f64 = 3.0;
/// Values are clamped to this range (HU) so that a calcified plaque or a
/// surgical clip cannot make a false maximum.
pub const CLAMP_HU: (f32, f32) = (-200.0, 700.0);
/// Two discs are at least this far apart (mm): the shortest adult lumbar or lower
/// thoracic body plus its disc (~20 mm).
pub const MIN_DISC_SPACING_MM: f64 = 18.0;
/// Smoothing of the profile before looking for minima (mm, half window of a mean):
/// enough to remove noise, less than half a disc.
pub const SMOOTH_HALF_MM: f64 = 3.0;
/// How much lower a disc must be than the bodies around it (HU): below this the minimum
/// is noise or a Schmorl's node.
pub const MIN_DISC_DEPTH_HU: f64 = 15.0;
/// How far either side of a minimum the neighbouring bodies are looked for (mm): about
/// half a vertebral period.
pub const DEPTH_REACH_MM: f64 = 15.0;
/// Light smoothing for the guided search (mm, half window of a mean): a single 3 mm
/// slice is kept as it is, because a thin or tilted disc (L1–L2, T12–L1) shows on one
/// slice only and the [`SMOOTH_HALF_MM`] mean wipes it out; thinner slices are averaged
/// over about a disc's half-height.
pub const LIGHT_SMOOTH_HALF_MM: f64 = 1.5;
/// How far above and below a candidate disc its flanking endplates are looked for by
/// the guided search (mm): half a disc plus the partial volume of one slice, so the
/// bright endplates of an osteoporotic body count as the bone on either side, not the
/// darker middle of the body.
pub const DIP_FLANK_MM: f64 = 6.0;

/// The mean HU in the body box of one slice, `None` where nothing could be sampled.
pub fn body_mean(plane: &Plane, s: &Sampling, t: &TrackPoint) -> Option<f64> {
    let hx = (BOX_HALF_X_MM / s.mm_x).round().max(1.0) as isize;
    let hy = ((t.depth / 2.0) - BOX_MARGIN_MM / s.mm_y).max(1.0);
    let (y0, y1) = ((t.y - hy).round() as isize, (t.y + hy).round() as isize);
    let cx = t.x.round() as isize;
    let (mut sum, mut n) = (0.0f64, 0usize);
    for r in y0..=y1 {
        for c in cx - hx..=cx + hx {
            let v = plane.at(c, r);
            if v.is_finite() {
                sum += f64::from(v.clamp(CLAMP_HU.0, CLAMP_HU.1));
                n += 1;
            }
        }
    }
    (n > 0).then(|| sum / n as f64)
}

/// The profile smoothed by a running mean over ±[`SMOOTH_HALF_MM`], gaps filled from
/// the nearest value.
pub fn smooth(profile: &[Option<f64>], z_mm: &[f64]) -> Vec<f64> {
    smooth_over(profile, z_mm, SMOOTH_HALF_MM)
}

/// The profile smoothed over ±[`LIGHT_SMOOTH_HALF_MM`], for [`guided_dip`].
pub fn smooth_light(profile: &[Option<f64>], z_mm: &[f64]) -> Vec<f64> {
    smooth_over(profile, z_mm, LIGHT_SMOOTH_HALF_MM)
}

/// A running mean over ±`half_mm`, gaps filled from the nearest value.
fn smooth_over(profile: &[Option<f64>], z_mm: &[f64], half_mm: f64) -> Vec<f64> {
    (0..profile.len())
        .map(|k| {
            let zk = z_mm.get(k).copied().unwrap_or(0.0);
            let (mut sum, mut n) = (0.0, 0);
            for (j, v) in profile.iter().enumerate() {
                if let (Some(v), Some(zj)) = (v, z_mm.get(j)) {
                    if (zj - zk).abs() <= half_mm + 1e-6 {
                        sum += v;
                        n += 1;
                    }
                }
            }
            if n > 0 {
                sum / n as f64
            } else {
                nearest(profile, z_mm, zk).unwrap_or(0.0)
            }
        })
        .collect()
}

fn nearest(profile: &[Option<f64>], z_mm: &[f64], z: f64) -> Option<f64> {
    profile
        .iter()
        .zip(z_mm)
        .filter_map(|(v, zj)| v.map(|v| (v, (zj - z).abs())))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(v, _)| v)
}

/// A disc on the profile.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Disc {
    /// Fractional slice index of the minimum (refined with a parabola).
    pub slice: f64,
    pub z_mm: f64,
    /// How much lower than the bodies on either side (HU, the smaller side).
    pub depth_hu: f64,
}

/// The discs: local minima at least [`MIN_DISC_DEPTH_HU`] deep, the deepest kept when
/// two are closer than [`MIN_DISC_SPACING_MM`]; inferior first.
pub fn discs(smoothed: &[f64], z_mm: &[f64]) -> Vec<Disc> {
    let n = smoothed.len().min(z_mm.len());
    let mut found: Vec<Disc> = Vec::new();
    for k in 1..n.saturating_sub(1) {
        let (a, b, c) = (smoothed[k - 1], smoothed[k], smoothed[k + 1]);
        if !(b < a && b <= c) {
            continue;
        }
        let zk = z_mm[k];
        let side_max = |range: &mut dyn Iterator<Item = usize>| {
            range
                .take_while(|&j| (z_mm[j] - zk).abs() <= DEPTH_REACH_MM + 1e-6)
                .map(|j| smoothed[j])
                .fold(f64::NEG_INFINITY, f64::max)
        };
        let below = side_max(&mut (0..k).rev());
        let above = side_max(&mut (k + 1..n));
        // At the ends of the series only one side exists; the disc must then be deep on
        // that side alone.
        let depth = match (below.is_finite(), above.is_finite()) {
            (true, true) => (below - b).min(above - b),
            _ => return_depth(below, above, b),
        };
        if depth < MIN_DISC_DEPTH_HU {
            continue;
        }
        let slice = k as f64 + parabolic_offset(a, b, c);
        found.push(Disc {
            slice,
            z_mm: interpolate(z_mm, slice),
            depth_hu: depth,
        });
    }
    // Non-maximum suppression: deepest first.
    let mut order: Vec<usize> = (0..found.len()).collect();
    order.sort_by(|&i, &j| found[j].depth_hu.total_cmp(&found[i].depth_hu));
    let mut kept: Vec<Disc> = Vec::new();
    for i in order {
        let d = found[i];
        if kept
            .iter()
            .all(|k| (k.z_mm - d.z_mm).abs() >= MIN_DISC_SPACING_MM)
        {
            kept.push(d);
        }
    }
    kept.sort_by(|a, b| a.slice.total_cmp(&b.slice));
    kept
}

/// The disc expected between `lo_mm` and `hi_mm` (a window the regular spacing of the
/// discs below predicts), on the lightly smoothed profile: the slice most below the
/// brightest values within [`DIP_FLANK_MM`] on both sides (the smaller side), refined
/// with a parabola. A slice at the edge of the series, without values on both sides,
/// cannot be one. `None` when no slice in the window is lower than both flanks.
pub fn guided_dip(light: &[f64], z_mm: &[f64], lo_mm: f64, hi_mm: f64) -> Option<Disc> {
    let n = light.len().min(z_mm.len());
    let flank = |k: usize, range: &mut dyn Iterator<Item = usize>| {
        range
            .take_while(|&j| (z_mm[j] - z_mm[k]).abs() <= DIP_FLANK_MM + 1e-6)
            .map(|j| light[j])
            .fold(f64::NEG_INFINITY, f64::max)
    };
    let best = (1..n.saturating_sub(1))
        .filter(|&k| z_mm[k] >= lo_mm && z_mm[k] <= hi_mm)
        .map(|k| {
            let below = flank(k, &mut (0..k).rev());
            let above = flank(k, &mut (k + 1..n));
            (k, below.min(above) - light[k])
        })
        .filter(|(_, depth)| depth.is_finite() && *depth > 0.0)
        .max_by(|a, b| a.1.total_cmp(&b.1))?;
    let (k, depth) = best;
    let (a, b, c) = (light[k - 1], light[k], light[k + 1]);
    let slice = k as f64 + parabolic_offset(a, b, c);
    Some(Disc {
        slice,
        z_mm: interpolate(z_mm, slice),
        depth_hu: depth,
    })
}

fn return_depth(below: f64, above: f64, b: f64) -> f64 {
    below.max(above) - b
}

/// z at a fractional slice index, linear between slices.
pub fn interpolate(z_mm: &[f64], slice: f64) -> f64 {
    let last = z_mm.len().saturating_sub(1);
    let lo = (slice.floor().max(0.0) as usize).min(last);
    let hi = (lo + 1).min(last);
    let t = (slice - lo as f64).clamp(0.0, 1.0);
    match (z_mm.get(lo), z_mm.get(hi)) {
        (Some(a), Some(b)) => a + (b - a) * t,
        _ => 0.0,
    }
}

/// Where the minimum of the parabola through three neighbouring samples lies, in
/// slices from the middle one (within ±½): discs fall between slices.
fn parabolic_offset(a: f64, b: f64, c: f64) -> f64 {
    let curvature = a - 2.0 * b + c;
    if curvature > 0.0 {
        (0.5 * (a - c) / curvature).clamp(-0.5, 0.5)
    } else {
        0.0
    }
}
