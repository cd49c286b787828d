//! Automatic L3 slice detection: which axial slice cuts the middle of the third lumbar
//! vertebra, where skeletal muscle is measured.
//!
//! The method works in millimetres on a downsampled copy of each slice ([`plane`]):
//! 1. [`spine`]: the vertebral body on a mid-sagittal strip, smoothed along z;
//! 2. [`profile`]: the HU inside the bodies along z, whose minima are the discs (the
//!    discs above the clear ones are then followed by their regular spacing, which finds
//!    the thin, tilted discs of the thoracolumbar junction);
//! 3. [`bones`]: bone beside the spine (sacrum fused to the ilium, ribs, iliac wings);
//! 4. [`labels`]: vertebrae named by counting up from the sacrum and down from the last
//!    rib, and L3 taken from the count; disagreement lowers the confidence.
//!
//! It never panics and reads each slice twice, so a 300-slice 512² series takes well
//! under a second.

mod bones;
mod choice;
mod labels;
mod plane;
mod profile;
mod spine;

use serde::{Deserialize, Serialize};

use crate::dicom::Instance;
use crate::volume::{Volume, VolumeHeader, Voxels};

pub use choice::{L3Choice, L3Method};

/// Whether L3 was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum L3Status {
    Found,
    Uncertain,
    NotInScan,
}

/// One vertebra as counted: `name` is "T12", "L1" to "L5" or "S1".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VertebraFound {
    pub name: String,
    pub slice_first: usize,
    pub slice_last: usize,
    pub z_mm_centre: f64,
}

/// Why the answer is what it is, in plain language.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub sacrum_seen: bool,
    pub last_rib_seen: bool,
    pub vertebrae_counted: usize,
    pub notes: Vec<String>,
}

/// The L3 slice (indexed from the most inferior slice) and how sure the count is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct L3Result {
    pub slice_index: Option<usize>,
    pub z_mm: Option<f64>,
    /// 0 to 1.
    pub confidence: f64,
    pub status: L3Status,
    pub vertebrae: Vec<VertebraFound>,
    pub evidence: Evidence,
}

/// Fewest slices worth looking at: a vertebra and its discs need about five slices even
/// at 5 mm.
pub const MIN_SLICES: usize = 5;

/// Per-slice measurements the labelling works from.
#[derive(Debug, Clone)]
pub(crate) struct Trace {
    pub z_mm: Vec<f64>,
    /// The profile lightly smoothed, for the guided search of discs the smoothing hides.
    pub light: Vec<f64>,
    pub lateral: Vec<bones::Lateral>,
    pub discs: Vec<profile::Disc>,
}

/// Pixel spacings outside this range (mm) are not a CT of a person; refusing them keeps
/// every per-pixel reach below finite, small bounds.
const PLAUSIBLE_PIXEL_MM: std::ops::RangeInclusive<f64> = 0.05..=20.0;

/// Memory the level search may spend keeping its downsampled planes between its two
/// passes (a 300-slice 512² series at 0.7 mm needs 35 MB; a 1,000-slice one, 115 MB,
/// reads its planes twice instead, keeping the worker's memory near the volume's own).
const KEPT_PLANES_BYTES: usize = 64 << 20;

/// Finds the L3 slice of `volume`.
pub fn locate<V: Voxels>(volume: &Volume<V>) -> L3Result {
    let mut search = Search::new(&volume.header);
    for k in 0..volume.header.slices {
        volume.with_axial(k, |hu| search.add(k, hu));
    }
    search.finish(volume)
}

/// The search for L3 fed a slice at a time, in any order — as a volume is decoded, so
/// that each slice is looked at while it is at hand: a browser keeps its volume outside
/// WebAssembly's memory, and reading every slice back costs a copy of each. Its first
/// pass (the vertebral body on each downsampled plane) is done as slices come; the rest
/// at [`Search::finish`]. The result is [`locate`]'s whatever the order.
pub struct Search {
    examiner: Examiner,
    /// Each slice's plane, kept for the second pass when they fit in
    /// [`KEPT_PLANES_BYTES`] (else read again from the volume).
    planes: Option<Vec<Option<plane::Plane>>>,
    found: Vec<Option<spine::SliceSpine>>,
}

impl Search {
    pub fn new(header: &VolumeHeader) -> Search {
        let examiner = Examiner::new(plane::Sampling::of(header), header.columns, header.slices);
        Search {
            planes: examiner
                .keep_planes
                .then(|| (0..header.slices).map(|_| None).collect()),
            examiner,
            found: vec![None; header.slices],
        }
    }

    /// Slice `slice`'s HU (a whole slice, as [`Volume::with_axial`] gives it).
    pub fn add(&mut self, slice: usize, hu: &[i16]) {
        if slice < self.found.len() {
            let examined = self.examiner.examine(hu);
            self.add_examined(slice, examined);
        }
    }

    /// Slice `slice` as an [`Examiner`] saw it before the volume was known. One seen with
    /// another sampling than this volume's (another image size, pixel spacing or
    /// orientation) is left out, and read from the volume at [`Search::finish`].
    pub fn add_examined(&mut self, slice: usize, examined: Examined) {
        let Examined {
            sampling,
            width,
            plane,
            found,
        } = examined;
        if (sampling, width) != (self.examiner.sampling, self.examiner.width) {
            return;
        }
        if let Some(slot) = self.found.get_mut(slice) {
            *slot = Some(found);
        }
        if let Some(kept) = self.planes.as_mut().and_then(|k| k.get_mut(slice)) {
            *kept = plane;
        }
    }

    /// The L3 slice of `volume`, the volume these slices were of; a slice not added is
    /// read from it now.
    pub fn finish<V: Voxels>(self, volume: &Volume<V>) -> L3Result {
        match measure(volume, self) {
            Ok(trace) => labels::label(&trace),
            Err(why) => not_found(L3Status::NotInScan, why.to_string()),
        }
    }
}

/// Looks at slices before the volume they belong to is known: the browser's decoding
/// worker decodes each file as the page reads it, before it can tell which series the
/// files make, and the first pass of the search (see [`Search`]) is most of its time.
pub struct Examiner {
    sampling: plane::Sampling,
    /// The image's width in pixels.
    width: usize,
    /// Whether the planes of as many slices as expected fit in [`KEPT_PLANES_BYTES`]:
    /// only then is a slice's plane kept for the second pass, before the volume is known
    /// as after.
    keep_planes: bool,
}

/// A slice as an [`Examiner`] saw it, for [`Search::add_examined`].
pub struct Examined {
    sampling: plane::Sampling,
    width: usize,
    /// `None` when the examiner keeps no planes.
    plane: Option<plane::Plane>,
    found: spine::SliceSpine,
}

impl Examiner {
    fn new(sampling: plane::Sampling, width: usize, slices: usize) -> Examiner {
        let bytes =
            slices.saturating_mul(sampling.columns * sampling.rows * std::mem::size_of::<f32>());
        Examiner {
            sampling,
            width,
            keep_planes: bytes <= KEPT_PLANES_BYTES,
        }
    }

    /// For `slices` slices shaped like `inst`'s images (an image without an orientation
    /// taken as axial, as its series would be).
    pub fn like(inst: &Instance, slices: usize) -> Examiner {
        let orientation = inst.frame_geometry.first().and_then(|g| g.orientation);
        let (rows, columns) = (inst.rows as usize, inst.columns as usize);
        let sampling = plane::Sampling::new(
            inst.pixel_spacing,
            Some(orientation.map_or(1.0, |o| o[4])),
            rows,
            columns,
        );
        Examiner::new(sampling, columns, slices)
    }

    /// One slice's HU, whole.
    pub fn examine(&self, hu: &[i16]) -> Examined {
        let plane = plane::Plane::of_axial(hu, self.width, &self.sampling);
        Examined {
            sampling: self.sampling,
            width: self.width,
            found: spine::find(&plane, &self.sampling),
            plane: self.keep_planes.then_some(plane),
        }
    }
}

/// Why a series cannot be measured for the level search, as the panel's note says it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
enum NotMeasured {
    #[error("a single slice: detection skipped")]
    SingleSlice,
    #[error("only {0} slices: detection skipped")]
    FewSlices(usize),
    #[error("the slices are not axial: detection skipped")]
    NotAxial,
    #[error("the pixel spacing is implausible for a CT: detection skipped")]
    ImplausibleSpacing,
    #[error("the images are too small: detection skipped")]
    TooSmall,
    #[error("the slices have no usable positions along the body: detection skipped")]
    NoPositions,
    #[error("no vertebral body was found on this series")]
    NoVertebra,
}

/// The measurements [`locate`] labels, or the reason there are none.
fn measure<V: Voxels>(volume: &Volume<V>, search: Search) -> Result<Trace, NotMeasured> {
    let h = &volume.header;
    if h.slices < MIN_SLICES {
        return Err(if h.slices <= 1 {
            NotMeasured::SingleSlice
        } else {
            NotMeasured::FewSlices(h.slices)
        });
    }
    let normal = h.geometry.normal;
    if normal
        .get(2)
        .is_none_or(|c| !c.is_finite() || c.abs() < 0.8)
    {
        return Err(NotMeasured::NotAxial);
    }
    if let Some(spacing) = h.geometry.pixel_spacing {
        if !spacing.iter().all(|mm| PLAUSIBLE_PIXEL_MM.contains(mm)) {
            return Err(NotMeasured::ImplausibleSpacing);
        }
    }
    let Search {
        examiner: Examiner { sampling: s, .. },
        planes: mut kept,
        found,
    } = search;
    if s.columns < 8 || s.rows < 8 {
        return Err(NotMeasured::TooSmall);
    }
    // Positions must rise slice by slice; without them (a series with no positions)
    // distances along the spine are unknown and vertebrae cannot be measured.
    let z_mm = h.slice_positions_mm.clone();
    let rising = z_mm.len() == h.slices && z_mm.windows(2).all(|w| w[1] > w[0]);
    if !rising {
        return Err(NotMeasured::NoPositions);
    }
    // Both passes look at every plane; the second needs the spine tracked through all
    // of them. Reading a plane is most of the search's time, so the planes are kept for
    // the second pass when they fit in KEPT_PLANES_BYTES. A slice never added (its file
    // failed) is read from the volume, where it is no data.
    let found: Vec<spine::SliceSpine> = found
        .into_iter()
        .enumerate()
        .map(|(k, found)| {
            found.unwrap_or_else(|| spine::find(&plane::Plane::read(volume, k, &s), &s))
        })
        .collect();
    let track = spine::track(&found, &z_mm, &s).ok_or(NotMeasured::NoVertebra)?;
    let mut profile = Vec::with_capacity(h.slices);
    let mut lateral = Vec::with_capacity(h.slices);
    for (k, t) in track.iter().enumerate() {
        let read;
        let p = match kept.as_mut().and_then(|kept| kept.get_mut(k)?.take()) {
            Some(p) => {
                read = p;
                &read
            }
            None => {
                read = plane::Plane::read(volume, k, &s);
                &read
            }
        };
        profile.push(profile::body_mean(p, &s, t));
        lateral.push(bones::lateral(p, &s, t));
    }
    let smoothed = profile::smooth(&profile, &z_mm);
    let discs = profile::discs(&smoothed, &z_mm);
    let light = profile::smooth_light(&profile, &z_mm);
    Ok(Trace {
        z_mm,
        light,
        lateral,
        discs,
    })
}

/// A result with no slice, and why.
fn not_found(status: L3Status, note: String) -> L3Result {
    L3Result {
        slice_index: None,
        z_mm: None,
        confidence: 0.0,
        status,
        vertebrae: Vec::new(),
        evidence: Evidence {
            sacrum_seen: false,
            last_rib_seen: false,
            vertebrae_counted: 0,
            notes: vec![note],
        },
    }
}

/// For each slice, the median of the values within ±`half_mm` along z (the nearest
/// value where the window holds none); `None` when there are no values at all.
fn zmedian(values: &[Option<f64>], z_mm: &[f64], half_mm: f64) -> Option<Vec<f64>> {
    let known: Vec<(f64, f64)> = values
        .iter()
        .zip(z_mm)
        .filter_map(|(v, z)| v.filter(|v| v.is_finite()).map(|v| (*z, v)))
        .collect();
    if known.is_empty() {
        return None;
    }
    let mut window: Vec<f64> = Vec::new();
    Some(
        z_mm.iter()
            .map(|&z| {
                window.clear();
                window.extend(
                    known
                        .iter()
                        .filter(|(zj, _)| (zj - z).abs() <= half_mm + 1e-6)
                        .map(|(_, v)| *v),
                );
                if window.is_empty() {
                    return known
                        .iter()
                        .min_by(|a, b| (a.0 - z).abs().total_cmp(&(b.0 - z).abs()))
                        .map_or(0.0, |(_, v)| *v);
                }
                window.sort_by(f64::total_cmp);
                window[window.len() / 2]
            })
            .collect(),
    )
}
