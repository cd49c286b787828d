//! Where the vertebral body lies on each slice: a left–right centre from the body
//! outline, then the vertebral body on a thin mid-sagittal strip, smoothed along z so
//! that a disc slice (no bony body) or a contrast-filled aorta on one slice cannot pull
//! the track away.

use super::plane::{Plane, Sampling};
use super::zmedian;

/// Soft tissue and fat are above this, air (and the outside) below (HU).
pub const BODY_HU: f32 = -300.0;
/// Cancellous bone of a vertebral body averaged over the strip (HU). Osteoporotic
/// bodies of older patients with cirrhosis drop to 100–150 HU, discs stay below ~100.
pub const BODY_BONE_HU: f32 = 100.0;
/// Half-width of the mid-sagittal strip (mm): narrower than any vertebral body (≥ 35 mm
/// wide) so the strip stays within bone, wide enough to average noise.
pub const STRIP_HALF_MM: f64 = 8.0;
/// Shortest front-to-back bone run taken for a vertebral body (mm); a spinous process
/// or an aorta seen obliquely can be longer, which the smoothing along z handles.
pub const MIN_BODY_DEPTH_MM: f64 = 15.0;
/// Narrowest left–right extent of bone taken for a vertebral body (mm): lumbar and
/// lower thoracic bodies are 35–50 mm wide, a spinous process or a lamina cut along
/// the midline at most ~15 mm (with partial volume), and it can be longer front to
/// back than the body (in the phantom it is), so depth alone cannot tell them apart.
pub const MIN_BODY_WIDTH_MM: f64 = 26.0;
/// Fewest body samples for a slice to count (mm² of body): less is an empty slice.
pub const MIN_BODY_AREA_MM2: f64 = 5000.0;
/// Window of the median along z (mm either side): more than a disc, less than the
/// change of lordosis that matters.
pub const TRACK_HALF_WINDOW_MM: f64 = 24.0;
/// A slice whose candidate lies further than this from the smoothed track (mm, front
/// to back) is taken as a mistake (aorta, spinous process) and ignored.
pub const TRACK_OUTLIER_MM: f64 = 12.0;

/// The spine on one slice, in downsampled-plane samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrackPoint {
    /// Left–right centre (column).
    pub x: f64,
    /// Front–back centre of the vertebral body (row, growing posteriorly).
    pub y: f64,
    /// Front-to-back depth of the vertebral body (rows).
    pub depth: f64,
}

/// What one slice shows, before smoothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct SliceSpine {
    pub centre_x: Option<f64>,
    /// (front row, back row) of the chosen bone run.
    pub body: Option<(usize, usize)>,
}

/// Finds the body centre and a vertebral body candidate on one plane.
pub fn find(plane: &Plane, s: &Sampling) -> SliceSpine {
    let (mut sum, mut n) = (0.0f64, 0usize);
    for r in 0..plane.rows {
        for c in 0..plane.columns {
            if plane.at(c as isize, r as isize) > BODY_HU {
                sum += c as f64;
                n += 1;
            }
        }
    }
    if (n as f64) * s.mm_x * s.mm_y < MIN_BODY_AREA_MM2 {
        return SliceSpine::default();
    }
    let cx = sum / n as f64;
    let half = (STRIP_HALF_MM / s.mm_x).round().max(1.0) as isize;
    let strip: Vec<f32> = (0..plane.rows)
        .map(|r| {
            let (mut t, mut k) = (0.0f32, 0u32);
            for dc in -half..=half {
                let v = plane.at(cx.round() as isize + dc, r as isize);
                if v.is_finite() {
                    t += v;
                    k += 1;
                }
            }
            if k == 0 {
                f32::NAN
            } else {
                t / k as f32
            }
        })
        .collect();
    SliceSpine {
        centre_x: Some(cx),
        body: pick_body(&strip, s, |r| bone_width_mm(plane, s, cx, r)),
    }
}

/// The left–right extent (mm) of bone around column `cx` at row `row`: samples at or
/// above [`BODY_BONE_HU`], walking outwards from the centre and allowing one-sample
/// gaps (trabecular bone of an osteoporotic body is patchy at 2 mm).
fn bone_width_mm(plane: &Plane, s: &Sampling, cx: f64, row: usize) -> f64 {
    let c0 = cx.round() as isize;
    let r = row as isize;
    let limit = (60.0 / s.mm_x).round() as isize;
    // Not bone, or no data (NaN): either way the walk stops at a gap wider than one.
    let bone = |c: isize| plane.at(c, r) >= BODY_BONE_HU;
    let walk = |step: isize| {
        let mut last = 0isize;
        let mut k = 0isize;
        while k.abs() < limit {
            k += step;
            if bone(c0 + k) {
                last = k;
            } else if !bone(c0 + k + step) {
                break;
            }
        }
        last.abs()
    };
    if !bone(c0) && !bone(c0 - 1) && !bone(c0 + 1) {
        return 0.0;
    }
    (walk(-1) + walk(1) + 1) as f64 * s.mm_x
}

/// The vertebral body among the bone runs of the strip (front to back): the longest
/// run that is as wide as a body ([`MIN_BODY_WIDTH_MM`], measured by `width_mm` at the
/// run's middle and quarter rows, the median of the three). At the midline a lumbar or lower thoracic body is 30–45 mm deep, longer than
/// the lamina and spinous process behind it (the canal separates them) and than an
/// aorta in front; a stray choice (on a disc slice) is removed by the smoothing along z.
fn pick_body(
    strip: &[f32],
    s: &Sampling,
    width_mm: impl Fn(usize) -> f64,
) -> Option<(usize, usize)> {
    let mut runs: Vec<(usize, usize)> = Vec::new();
    let mut start = None;
    for (r, &v) in strip.iter().enumerate() {
        match (v >= BODY_BONE_HU, start) {
            (true, None) => start = Some(r),
            (false, Some(a)) => {
                runs.push((a, r - 1));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(a) = start {
        runs.push((a, strip.len().saturating_sub(1)));
    }
    let long = |run: &(usize, usize)| (run.1 + 1 - run.0) as f64 * s.mm_y >= MIN_BODY_DEPTH_MM;
    let wide = |run: &(usize, usize)| {
        let quarter = (run.1 - run.0) / 4;
        let mut w = [
            width_mm(run.0 + quarter),
            width_mm((run.0 + run.1) / 2),
            width_mm(run.1 - quarter),
        ];
        w.sort_by(f64::total_cmp);
        w[1] >= MIN_BODY_WIDTH_MM
    };
    runs.into_iter()
        .filter(long)
        .filter(wide)
        .max_by_key(|(a, b)| b - a)
}

/// Smooths the per-slice candidates into one track (one point per slice), or `None`
/// when too few slices show a vertebral body.
pub fn track(slices: &[SliceSpine], z_mm: &[f64], s: &Sampling) -> Option<Vec<TrackPoint>> {
    let xs: Vec<Option<f64>> = slices.iter().map(|p| p.centre_x).collect();
    let ys: Vec<Option<f64>> = slices
        .iter()
        .map(|p| p.body.map(|(a, b)| (a + b) as f64 / 2.0))
        .collect();
    let depths: Vec<Option<f64>> = slices
        .iter()
        .map(|p| p.body.map(|(a, b)| (b + 1 - a) as f64))
        .collect();
    let x = zmedian(&xs, z_mm, TRACK_HALF_WINDOW_MM)?;
    let y0 = zmedian(&ys, z_mm, TRACK_HALF_WINDOW_MM)?;
    // Second pass without the candidates far from the first track.
    let outlier = TRACK_OUTLIER_MM / s.mm_y;
    let keep = |k: usize, v: Option<f64>| {
        v.filter(|v| y0.get(k).is_some_and(|m| (v - m).abs() <= outlier))
    };
    let ys2: Vec<Option<f64>> = ys.iter().enumerate().map(|(k, &v)| keep(k, v)).collect();
    let depths2: Vec<Option<f64>> = depths
        .iter()
        .enumerate()
        .map(|(k, &d)| d.filter(|_| ys2.get(k).copied().flatten().is_some()))
        .collect();
    let y = zmedian(&ys2, z_mm, TRACK_HALF_WINDOW_MM).unwrap_or(y0);
    let depth = zmedian(&depths2, z_mm, TRACK_HALF_WINDOW_MM)?;
    Some(
        x.iter()
            .zip(&y)
            .zip(&depth)
            .map(|((&x, &y), &depth)| TrackPoint { x, y, depth })
            .collect(),
    )
}
