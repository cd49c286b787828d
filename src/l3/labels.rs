//! Naming the vertebrae by counting: up from the sacrum (the lowest vertebra fused to
//! the iliac bones) and, as a check or a fallback, from the last ribs.

use super::bones::Lateral;
use super::{Evidence, L3Result, L3Status, Trace, VertebraFound};

/// Bone connected to the spine reaching this far sideways (mm) at the level of the
/// vertebral body marks the sacrum: the sacral alae and the ilium behind the sacroiliac
/// joints reach 60–100 mm. A lumbar body is at most ~25 mm wide either side of the
/// midline, but the large transverse processes of L5 reach ~45 mm and partly overlap
/// the body level, so the threshold stays well above them.
pub const SACRAL_REACH_MM: f64 = 55.0;
/// Least height (mm) over which sacral reach must be seen for the sacrum to count (the
/// slices of the block times the slice spacing), so that a transverse process or an
/// osteophyte on one slice does not; two 4 mm or three 3 mm slices are enough (a scan
/// that stops just below the L5–S1 disc shows only the top of the alae).
pub const MIN_SACRAL_HEIGHT_MM: f64 = 6.0;
/// Slices of sacral reach closer than this (mm) belong to one block.
pub const SACRAL_BLOCK_GAP_MM: f64 = 10.0;
/// Unconnected bone beside the spine that counts as a rib or an iliac wing (mm²) and
/// how far out it must lie on average (mm): beyond transverse processes.
pub const FREE_BONE_MIN_MM2: f64 = 100.0;
pub const FREE_BONE_MIN_MEAN_X_MM: f64 = 60.0;
/// The rib block and the iliac block are separated by at least this much bone-free
/// abdomen (mm); without such a gap the two cannot be told apart.
pub const RIB_GAP_MM: f64 = 15.0;
/// Rib bone must be seen over at least this height (mm) to count: the tip of a rib
/// cut by the top of the scan, or a calcified cartilage, is not enough to count from.
pub const RIB_MIN_EXTENT_MM: f64 = 15.0;
/// Vertebral period (body plus disc, mm) used when too few discs are found to measure
/// it, and the range accepted from the discs.
pub const DEFAULT_PERIOD_MM: f64 = 33.0;
pub const PERIOD_RANGE_MM: (f64, f64) = (20.0, 45.0);
/// Two discs closer than this fraction of the period: the shallower is a false one.
pub const MERGE_FRACTION: f64 = 0.6;
/// The next disc up is looked for within this fraction of the period either side of
/// where the regular spacing puts it: lumbar and lower thoracic bodies differ from
/// their neighbours by less than a quarter of their height, and the middle of a body
/// (where the basivertebral veins make a false dip) is half a period away.
pub const GUIDE_FRACTION: f64 = 0.25;
/// Least depth (HU) of a dip accepted in that window on the lightly smoothed profile:
/// the mean of one slice's body box varies by ~5 HU with noise, and a window where a
/// disc is expected needs less evidence than a free search ([`MIN_DISC_DEPTH_HU`] on
/// the smoothed profile).
///
/// [`MIN_DISC_DEPTH_HU`]: super::profile::MIN_DISC_DEPTH_HU
pub const MIN_GUIDED_DEPTH_HU: f64 = 10.0;
/// Least part of a vertebra (fraction of the period) the series must hold for a
/// vertebra cut by the top or the bottom of the series to be named: a third of a body
/// is recognisable as one, an endplate is not.
pub const MIN_PARTIAL_FRACTION: f64 = 1.0 / 3.0;
/// The L5–S1 disc lies within this distance above the top of the sacroiliac fusion
/// (mm); further, it was missed and is put there.
pub const L5_S1_REACH_MM: f64 = 15.0;

const NAMES_UP: [&str; 6] = ["L5", "L4", "L3", "L2", "L1", "T12"];

/// Names the vertebrae on the measurements and picks L3.
pub fn label(t: &Trace) -> L3Result {
    let z = &t.z_mm;
    let mut notes = Vec::new();
    let rib_low = lowest_rib(&t.lateral, z);
    let sacral_top = sacrum_top(&t.lateral, z, rib_low);
    let all: Vec<f64> = t.discs.iter().map(|d| d.z_mm).collect();
    let mut period = period_mm(&all).unwrap_or(DEFAULT_PERIOD_MM);
    let mut discs = merge_discs(t, period);
    let reference_disc = match sacral_top {
        Some(top) => {
            discs.retain(|&d| d >= top - L5_S1_REACH_MM);
            match discs.first() {
                Some(&d) if d - top <= L5_S1_REACH_MM => Some(d),
                _ => {
                    notes.push(
                        "the disc between L5 and the sacrum was not seen; it was placed at the top of the sacrum"
                            .to_owned(),
                    );
                    discs.insert(0, top);
                    Some(top)
                }
            }
        }
        None => None,
    };
    // Minima inside the sacrum (its fused segments, the foramina) are not discs: the
    // period is measured again above it.
    if reference_disc.is_some() {
        period = period_mm(&discs).unwrap_or(period);
    }
    let (discs, guided) = follow_discs(&discs, period, t);
    if guided > 0 {
        notes.push(format!(
            "{guided} disc{} found as a shallow dip where the regular spacing of the discs below puts {}",
            if guided == 1 { "" } else { "s" },
            if guided == 1 { "it" } else { "them" }
        ));
    }
    // Segments between consecutive discs, inferior first, with the last one open (and,
    // when the sacrum is not the reference, the first one too: a vertebra cut by the
    // bottom of the series).
    let mut segments: Vec<(f64, f64)> = Vec::new();
    if let (None, Some(&first)) = (reference_disc, discs.first()) {
        segments.push((first - period, first));
    }
    segments.extend(discs.windows(2).map(|w| (w[0], w[1])));
    if let Some(&last) = discs.last() {
        segments.push((last, last + period));
    }
    let evidence_base = |notes: Vec<String>, counted: usize| Evidence {
        sacrum_seen: sacral_top.is_some(),
        last_rib_seen: rib_low.is_some(),
        vertebrae_counted: counted,
        notes,
    };
    // Index in `segments` of L5, by the sacrum or by the rib.
    let from_sacrum = reference_disc.map(|_| 0isize);
    let rib_segment = rib_low.and_then(|r| segments.iter().position(|s| r >= s.0 && r < s.1));
    // The lowest rib tip projects onto L1 or L2; taking L2 puts L5 three segments below
    // (possibly below the scan: L5's index may be negative).
    let from_rib = rib_segment.map(|i| i as isize - 3);
    let (l5, status, confidence) = match (from_sacrum, from_rib, rib_segment) {
        (Some(s), _, Some(ri)) => {
            let tip_name = usize::try_from(ri as isize - s)
                .ok()
                .and_then(|k| NAMES_UP.get(k))
                .copied();
            if matches!(tip_name, Some("L1") | Some("L2")) {
                notes.push("the count from the sacrum and from the last rib agree".to_owned());
                (s, L3Status::Found, 0.85)
            } else {
                notes.push(format!(
                    "the count from the sacrum and from the last rib disagree (the lowest rib ends at {}): possible transitional anatomy (a lumbarised S1, a sacralised L5, or 11 or 13 pairs of ribs); the count from the sacrum is shown",
                    tip_name.unwrap_or("an unexpected level")
                ));
                (s, L3Status::Uncertain, 0.45)
            }
        }
        (Some(s), _, None) => {
            notes.push(
                "counted up from the sacrum; the last ribs are not in the scan to check the count"
                    .to_owned(),
            );
            (s, L3Status::Found, 0.65)
        }
        (None, Some(r), _) => {
            notes.push("the sacrum is not in the scan; counted down from the lowest rib, which is less certain (the last rib's length varies)".to_owned());
            (r, L3Status::Uncertain, 0.4)
        }
        _ => {
            let why = if rib_low.is_some() {
                "the lowest rib is seen but too few discs below it to count down to L3"
            } else {
                "neither the sacrum nor the last ribs were found, so the vertebrae cannot be counted"
            };
            notes.push(why.to_owned());
            return L3Result {
                slice_index: None,
                z_mm: None,
                confidence: 0.0,
                status: L3Status::NotInScan,
                vertebrae: Vec::new(),
                evidence: evidence_base(notes, segments.len()),
            };
        }
    };
    let (z_lo, z_hi) = (
        z.iter().copied().fold(f64::INFINITY, f64::min),
        z.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    );
    let mut vertebrae = Vec::new();
    let mut clipped: Vec<&str> = Vec::new();
    let mut l3_z = None;
    for (k, name) in NAMES_UP.iter().enumerate() {
        let Some(&(lo, hi)) = usize::try_from(l5 + k as isize)
            .ok()
            .and_then(|i| segments.get(i))
        else {
            continue;
        };
        let centre = (lo + hi) / 2.0;
        if *name == "L3" {
            l3_z = Some(centre);
        }
        // The part in the series: a vertebra cut by its top or bottom is named when
        // enough of it is seen, with its slices and centre clipped to the series.
        let (seen_lo, seen_hi) = (lo.max(z_lo), hi.min(z_hi));
        if seen_hi - seen_lo < MIN_PARTIAL_FRACTION * (hi - lo) {
            continue;
        }
        if seen_lo > lo || seen_hi < hi {
            clipped.push(*name);
        }
        let first = z.iter().position(|&v| v >= seen_lo).unwrap_or(0);
        let last = z.iter().rposition(|&v| v <= seen_hi).unwrap_or(0);
        // With thick slices none may fall inside a thin visible part: then the slice
        // nearest its centre stands for it.
        let (first, last) = if first <= last {
            (first, last)
        } else {
            let centre = (seen_lo + seen_hi) / 2.0;
            let nearest = z
                .iter()
                .enumerate()
                .min_by(|a, b| (a.1 - centre).abs().total_cmp(&(b.1 - centre).abs()))
                .map_or(0, |(k, _)| k);
            (nearest, nearest)
        };
        vertebrae.push(VertebraFound {
            name: (*name).to_owned(),
            slice_first: first,
            slice_last: last,
            z_mm_centre: (seen_lo + seen_hi) / 2.0,
        });
    }
    if !clipped.is_empty() {
        notes.push(format!(
            "{} cut by the edge of the series: only the part in it is shown",
            clipped.join(" and ")
        ));
    }
    vertebrae.sort_by(|a, b| a.z_mm_centre.total_cmp(&b.z_mm_centre));
    let counted = vertebrae.len();
    match l3_z.filter(|c| *c >= z_lo && *c <= z_hi) {
        Some(c) => {
            let slice = nearest(z, c);
            L3Result {
                slice_index: slice,
                z_mm: slice.and_then(|k| z.get(k).copied()),
                confidence,
                status,
                vertebrae,
                evidence: evidence_base(notes, counted),
            }
        }
        None => {
            notes.push("the middle of L3 lies outside this series".to_owned());
            L3Result {
                slice_index: None,
                z_mm: None,
                confidence: 0.0,
                status: L3Status::NotInScan,
                vertebrae,
                evidence: evidence_base(notes, counted),
            }
        }
    }
}

fn nearest(z: &[f64], target: f64) -> Option<usize> {
    (0..z.len()).min_by(|&a, &b| (z[a] - target).abs().total_cmp(&(z[b] - target).abs()))
}

/// The top (mm) of the highest block of slices where bone connected to the spine
/// reaches the iliac bones, among the blocks at least [`MIN_SACRAL_HEIGHT_MM`] high that
/// lie below `below_mm` (the lowest rib, when ribs were seen): a rib head joined to its
/// vertebra by partial volume gives the same reach, and rib heads lie above the lowest
/// rib, which descends from its head. The highest, because the alae and the sacroiliac
/// joints are widest at S1 and S2, and the reach below them (lower sacrum, coccyx) is
/// patchy.
fn sacrum_top(lateral: &[Lateral], z: &[f64], below_mm: Option<f64>) -> Option<f64> {
    let spacing = slice_spacing_mm(z);
    let mut blocks: Vec<(f64, usize)> = Vec::new(); // (top, slices)
    for (l, &zk) in lateral.iter().zip(z) {
        if l.reach_mm < SACRAL_REACH_MM || below_mm.is_some_and(|b| zk >= b) {
            continue;
        }
        match blocks.last_mut() {
            Some((top, n)) if zk - *top <= SACRAL_BLOCK_GAP_MM => {
                *top = zk;
                *n += 1;
            }
            _ => blocks.push((zk, 1)),
        }
    }
    blocks
        .iter()
        .rev()
        .find(|&&(_, n)| n as f64 * spacing >= MIN_SACRAL_HEIGHT_MM)
        .map(|&(top, _)| top)
}

/// The median distance between consecutive slices (mm), 1 when there is no pair.
fn slice_spacing_mm(z: &[f64]) -> f64 {
    let mut d: Vec<f64> = z.windows(2).map(|w| (w[1] - w[0]).abs()).collect();
    if d.is_empty() {
        return 1.0;
    }
    d.sort_by(f64::total_cmp);
    d[d.len() / 2]
}

/// The lowest slice (mm) of the block of rib bone that reaches the top of the scan,
/// separated from any iliac bone below by a bone-free gap.
fn lowest_rib(lateral: &[Lateral], z: &[f64]) -> Option<f64> {
    let free = |k: usize| {
        lateral.get(k).is_some_and(|l| {
            l.free_mm2 >= FREE_BONE_MIN_MM2 && l.free_x_mm >= FREE_BONE_MIN_MEAN_X_MM
        })
    };
    let top = lateral.len().checked_sub(1)?;
    // Walk down from the top while rib bone keeps appearing (gaps under RIB_GAP_MM).
    let highest = (0..=top).rev().find(|&k| free(k))?;
    let extent_ok = |low: usize| {
        z.get(highest)
            .zip(z.get(low))
            .is_some_and(|(h, l)| h - l >= RIB_MIN_EXTENT_MM)
    };
    let mut lowest = None;
    let mut k = top;
    loop {
        if free(k) {
            lowest = Some(k);
        } else if let Some(l) = lowest {
            if z.get(l)? - z.get(k)? > RIB_GAP_MM {
                return z.get(l).copied().filter(|_| extent_ok(l));
            }
        } else if z.get(top)? - z.get(k)? > RIB_GAP_MM {
            return None;
        }
        if k == 0 {
            // Bone all the way down: ribs and iliac bones cannot be told apart.
            return None;
        }
        k -= 1;
    }
}

/// The vertebral period (mm): the median spacing of consecutive discs (mm, inferior
/// first) within the plausible range; `None` without such a spacing.
fn period_mm(discs: &[f64]) -> Option<f64> {
    let mut spacings: Vec<f64> = discs
        .windows(2)
        .map(|w| w[1] - w[0])
        .filter(|d| *d >= PERIOD_RANGE_MM.0 && *d <= PERIOD_RANGE_MM.1)
        .collect();
    if spacings.is_empty() {
        return None;
    }
    spacings.sort_by(f64::total_cmp);
    Some(spacings[spacings.len() / 2])
}

/// Disc heights (mm), inferior first: a false disc closer than [`MERGE_FRACTION`] of a
/// period to a deeper one is dropped.
fn merge_discs(t: &Trace, period: f64) -> Vec<f64> {
    let mut discs = t.discs.clone();
    loop {
        let close = discs
            .windows(2)
            .position(|w| w[1].z_mm - w[0].z_mm < MERGE_FRACTION * period);
        let Some(i) = close else { break };
        let drop = if discs[i].depth_hu < discs[i + 1].depth_hu {
            i
        } else {
            i + 1
        };
        discs.remove(drop);
    }
    discs.iter().map(|d| d.z_mm).collect()
}

/// The discs followed up from the lowest one by their regular spacing, and how many
/// were found by the guided search. The next disc is expected one `period` above the
/// last, within [`GUIDE_FRACTION`] of a period: a disc found there is taken; else the
/// deepest dip there on the lightly smoothed profile, when at least
/// [`MIN_GUIDED_DEPTH_HU`] deep (a thin or tilted disc that the smoothing hid); else,
/// when discs were found further up, the gap is split evenly (the disc was missed).
/// Discs between the windows are false (a dip in the middle of an osteoporotic body)
/// and dropped. The search stops at the top of the series: no disc is made up there.
fn follow_discs(discs: &[f64], period: f64, t: &Trace) -> (Vec<f64>, usize) {
    let Some(&first) = discs.first() else {
        return (Vec::new(), 0);
    };
    let z_hi = t.z_mm.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut chain = vec![first];
    let mut guided = 0;
    let mut last = first;
    loop {
        let expected = last + period;
        let (lo, hi) = (
            expected - GUIDE_FRACTION * period,
            expected + GUIDE_FRACTION * period,
        );
        if lo > z_hi {
            break;
        }
        let next = if let Some(&d) = discs.iter().find(|&&d| d >= lo && d <= hi) {
            d
        } else if let Some(d) = super::profile::guided_dip(&t.light, &t.z_mm, lo, hi)
            .filter(|d| d.depth_hu >= MIN_GUIDED_DEPTH_HU)
        {
            guided += 1;
            d.z_mm
        } else if let Some(&beyond) = discs.iter().find(|&&d| d > hi) {
            let n = ((beyond - last) / period).round().max(1.0);
            last + (beyond - last) / n
        } else {
            break;
        };
        chain.push(next);
        last = next;
    }
    (chain, guided)
}
