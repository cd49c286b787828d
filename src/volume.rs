//! A CT series as one volume of Hounsfield units with its geometry, built by decoding
//! each file of the chosen series once.

mod early;
mod window;

use serde::{Deserialize, Serialize};

use crate::dicom::pixels::{self, NativeImages, StoredFrames};
use crate::dicom::series::{Series, SeriesGeometry};
use crate::dicom::{self, DicomError, Instance, ParsedFile};
use crate::units::{Hu, Rescale, SliceIndex};

pub use early::{Early, Placed};
pub use window::Window;

/// Everything about a volume except its voxels (small, sent as JSON to the page).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VolumeHeader {
    pub columns: usize,
    pub rows: usize,
    pub slices: usize,
    pub geometry: SeriesGeometry,
    /// Position of each slice along the normal (mm), most inferior first.
    pub slice_positions_mm: Vec<f64>,
    /// Slices whose file failed to decode; they stay [`Volume::NO_DATA`].
    pub missing_slices: Vec<SliceIndex>,
}

/// Voxels are whole HU in 16 bits: CT values are integers for slope 1 (nearly all
/// scanners), and 16 bits keep a 1,000-slice 512² study at 0.5 GB rather than 1 GB.
/// Where they are kept is `V`: in this program's memory (a `Vec`, natively), or, in the
/// browser, outside WebAssembly's memory (see [`Voxels`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Volume<V = Vec<i16>> {
    pub header: VolumeHeader,
    /// Slice-major, then row, then column.
    pub hu: V,
}

/// Storage for a volume's voxels, slice-major. A browser keeps a large series in one
/// buffer outside WebAssembly's memory, which the decoding worker fills and hands to
/// the page without a copy; a `Vec` anywhere else. Each access names a run of voxels
/// and lends it to a closure: a `Vec` lends its own memory, other storage a copy.
pub trait Voxels {
    /// How many voxels are kept.
    fn len(&self) -> usize;

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `f` of the `len` voxels from `start`; `None` when they are not all kept.
    fn read<R>(&self, start: usize, len: usize, f: impl FnOnce(&[i16]) -> R) -> Option<R>;

    /// `f` changes the `len` voxels from `start`; nothing happens when they are not all
    /// kept.
    fn write(&mut self, start: usize, len: usize, f: impl FnOnce(&mut [i16]));

    /// Copies the `len` voxels from `from` to `to` (runs that do not overlap); nothing
    /// happens when either is not all kept.
    fn copy_within(&mut self, from: usize, to: usize, len: usize) {
        if let Some(run) = self.read(from, len, <[i16]>::to_vec) {
            self.write(to, len, |target| {
                if target.len() == run.len() {
                    target.copy_from_slice(&run);
                }
            });
        }
    }

    /// Every `step`-th voxel from `start`, `count` of them ([`Volume::NO_DATA`] past
    /// the end): reformats read columns through every slice.
    fn gather(&self, start: usize, step: usize, count: usize) -> Vec<i16> {
        (0..count)
            .map(|k| {
                let at = start.saturating_add(k.saturating_mul(step));
                self.read(at, 1, |v| v[0])
                    .unwrap_or(Volume::<Vec<i16>>::NO_DATA)
            })
            .collect()
    }
}

impl Voxels for Vec<i16> {
    fn len(&self) -> usize {
        self.as_slice().len()
    }

    fn read<R>(&self, start: usize, len: usize, f: impl FnOnce(&[i16]) -> R) -> Option<R> {
        self.get(start..start.checked_add(len)?).map(f)
    }

    fn write(&mut self, start: usize, len: usize, f: impl FnOnce(&mut [i16])) {
        if let Some(run) = start
            .checked_add(len)
            .and_then(|end| self.get_mut(start..end))
        {
            f(run);
        }
    }

    fn copy_within(&mut self, from: usize, to: usize, len: usize) {
        let fits = |at: usize| at.checked_add(len).is_some_and(|end| end <= self.len());
        if fits(from) && fits(to) {
            <[i16]>::copy_within(self, from..from + len, to);
        }
    }

    fn gather(&self, start: usize, step: usize, count: usize) -> Vec<i16> {
        (0..count)
            .map(|k| {
                let at = start.saturating_add(k.saturating_mul(step));
                self.get(at).copied().unwrap_or(Volume::<Vec<i16>>::NO_DATA)
            })
            .collect()
    }
}

/// Why a series cannot become a volume, in words for the person looking at it.
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize, Deserialize)]
pub enum VolumeError {
    #[error("this series has no image stack with a known geometry")]
    NoImageStack,
    #[error("this series is too large to view in a browser tab: {slices} slices of {columns}×{rows} would need {gigabytes:.1} GB (at most {limit:.1} GB); open a thinner reconstruction or a shorter range")]
    TooLarge {
        slices: usize,
        rows: usize,
        columns: usize,
        gigabytes: f64,
        limit: f64,
    },
    #[error("this browser could not set aside the {} that {slices} slices of {columns}×{rows} need; close other tabs, or open a thinner reconstruction or a shorter range", amount(*gigabytes))]
    NoMemory {
        slices: usize,
        rows: usize,
        columns: usize,
        gigabytes: f64,
    },
}

/// `gigabytes` as people read an amount of memory: "0.52 GB", or "2.9 MB" below 0.1 GB.
fn amount(gigabytes: f64) -> String {
    if gigabytes >= 0.1 {
        format!("{gigabytes:.2} GB")
    } else {
        format!("{:.1} MB", gigabytes * 1e3)
    }
}

/// The most voxels a volume may hold: 1.5 GB of 16-bit voxels (about 2,900 slices of
/// 512²). Natively a `Vec` this size must fit in a 32-bit WebAssembly memory beside the
/// rest (the tests and CLI share the browser's limits); in the browser the voxels live
/// outside it, once, and a tab with more than this is at risk of being ended by the
/// browser.
pub const MAX_VOXELS: usize = 750 * 1024 * 1024;

/// A file of the series that could not be decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct FileFailure {
    pub file: usize,
    pub error: DicomError,
}

impl Volume {
    /// Marks voxels with no data: padding outside the scanned field, or a slice whose
    /// file could not be decoded.
    pub const NO_DATA: i16 = i16::MIN;

    /// A volume shaped like `series` in this program's memory, every voxel 0 until a
    /// slice is stored (see [`Volume::zeroed_in`]). Zeroed rather than filled with
    /// [`Volume::NO_DATA`]: fresh memory comes zeroed at no cost, and a fill would write
    /// a 1,000-slice volume once more only to overwrite it; [`Loader::finish`] marks what
    /// no file filled.
    pub fn zeroed(series: &Series) -> Result<Volume, VolumeError> {
        Volume::zeroed_in(series, |len| Some(vec![0; len]))
    }

    /// The slice's HU, `None` for a slice not in the volume (any index: a user's).
    pub fn axial(&self, slice: usize) -> Option<&[i16]> {
        if slice >= self.header.slices {
            return None;
        }
        let len = self.slice_len();
        self.hu.get(slice * len..(slice + 1) * len)
    }
}

impl<V: Voxels> Volume<V> {
    /// A volume shaped like `series`, its voxels (all 0) made by `make` from their
    /// count, refused when there is no image stack, when it would not fit in a browser
    /// tab (see [`MAX_VOXELS`]), and when `make` cannot have the memory.
    pub fn zeroed_in(
        series: &Series,
        make: impl FnOnce(usize) -> Option<V>,
    ) -> Result<Volume<V>, VolumeError> {
        let geometry = series.geometry.clone().ok_or(VolumeError::NoImageStack)?;
        let slices = series.slices.len();
        let (rows, columns) = (series.rows as usize, series.columns as usize);
        let len = slices.saturating_mul(rows).saturating_mul(columns);
        if len == 0 {
            return Err(VolumeError::NoImageStack);
        }
        let gigabytes = |voxels: usize| voxels as f64 * 2.0 / 1e9;
        if len > MAX_VOXELS {
            return Err(VolumeError::TooLarge {
                slices,
                rows,
                columns,
                gigabytes: gigabytes(len),
                limit: gigabytes(MAX_VOXELS),
            });
        }
        let hu = make(len).ok_or(VolumeError::NoMemory {
            slices,
            rows,
            columns,
            gigabytes: gigabytes(len),
        })?;
        Ok(Volume {
            header: VolumeHeader {
                columns,
                rows,
                slices,
                geometry,
                slice_positions_mm: series.slices.iter().map(|s| s.along_normal.0).collect(),
                missing_slices: Vec::new(),
            },
            hu,
        })
    }

    pub fn slice_len(&self) -> usize {
        self.header.rows * self.header.columns
    }

    /// Stores one decoded frame; stored values equal to the padding value become
    /// [`Volume::NO_DATA`].
    pub fn set_slice(
        &mut self,
        index: usize,
        stored: &[i32],
        rescale: Rescale,
        padding: Option<i32>,
    ) {
        let len = self.slice_len();
        self.hu.write(index * len, len, |target| {
            to_hu(
                beyond_no_data(target, stored.len()),
                stored,
                rescale,
                padding,
            )
        });
    }

    /// `f` of the slice's HU, `None` for a slice not in the volume (any index: a
    /// user's).
    pub fn with_axial<R>(&self, slice: usize, f: impl FnOnce(&[i16]) -> R) -> Option<R> {
        if slice >= self.header.slices {
            return None;
        }
        let len = self.slice_len();
        self.hu.read(slice * len, len, f)
    }

    /// A copy of the slice's HU, `None` for a slice not in the volume.
    pub fn axial_copy(&self, slice: usize) -> Option<Vec<i16>> {
        self.with_axial(slice, <[i16]>::to_vec)
    }

    /// HU at (column, row, slice), `None` outside the volume or where there is no data.
    pub fn hu_at(&self, column: usize, row: usize, slice: usize) -> Option<Hu> {
        let h = &self.header;
        if column >= h.columns || row >= h.rows || slice >= h.slices {
            return None;
        }
        let at = slice * self.slice_len() + row * h.columns + column;
        let v = self.hu.read(at, 1, |v| v[0])?;
        (v != Volume::NO_DATA).then_some(Hu(f64::from(v)))
    }

    /// The plane through `column`: one image row per slice, the most superior slice on
    /// top (as radiologists view sagittal images), `rows` pixels wide.
    pub fn sagittal(&self, column: usize) -> Vec<i16> {
        let h = &self.header;
        let mut out = Vec::with_capacity(h.slices * h.rows);
        for slice in (0..h.slices).rev() {
            let start = slice * self.slice_len() + column;
            out.extend(self.hu.gather(start, h.columns, h.rows));
        }
        out
    }

    /// The plane through `row`: one image row per slice, most superior on top,
    /// `columns` pixels wide.
    pub fn coronal(&self, row: usize) -> Vec<i16> {
        let h = &self.header;
        let mut out = Vec::with_capacity(h.slices * h.columns);
        for slice in (0..h.slices).rev() {
            let start = slice * self.slice_len() + row * h.columns;
            let line = self
                .hu
                .read(start, h.columns, |line| out.extend_from_slice(line));
            if line.is_none() {
                out.extend(std::iter::repeat_n(Volume::NO_DATA, h.columns));
            }
        }
        out
    }
}

/// `target`'s voxels past `len` set to [`Volume::NO_DATA`] (a frame shorter than the
/// slice), and the voxels before, for [`to_hu`].
fn beyond_no_data(target: &mut [i16], len: usize) -> &mut [i16] {
    let (frame, beyond) = target.split_at_mut(len.min(target.len()));
    beyond.fill(Volume::NO_DATA);
    frame
}

/// Where a frame's stored values come from, for [`to_hu`]: each voxel is set to `hu` of
/// its stored value. Each source has its own plain loop, which the compiler vectorises
/// (one loop over pairs of voxel and value for both ran 2× slower in V8).
trait StoredValues {
    fn each(self, voxels: &mut [i16], hu: impl Fn(i32) -> i16);
}

impl StoredValues for &[i32] {
    fn each(self, voxels: &mut [i16], hu: impl Fn(i32) -> i16) {
        for (voxel, &value) in voxels.iter_mut().zip(self) {
            *voxel = hu(value);
        }
    }
}

/// The samples of a native frame, copied into the voxels already
/// ([`NativeImages::frame_samples`]), and how each gives its stored value.
struct InPlace<F>(F);

impl<F: Fn(i16) -> i32> StoredValues for InPlace<F> {
    fn each(self, voxels: &mut [i16], hu: impl Fn(i32) -> i16) {
        for voxel in voxels {
            *voxel = hu((self.0)(*voxel));
        }
    }
}

/// The voxels as HU of their stored values; stored values equal to the padding value
/// become [`Volume::NO_DATA`].
fn to_hu(voxels: &mut [i16], stored: impl StoredValues, rescale: Rescale, padding: Option<i32>) {
    let (lowest, highest) = (i16::MIN + 1, i16::MAX);
    // CT's usual rescale (slope 1, a whole intercept) in integers: the same values,
    // in a loop the compiler vectorises, without rounding floats per voxel (a library
    // call in WebAssembly). The stored value is clamped to what lands in the HU range
    // before the intercept is added, so that the sum cannot overflow (and no
    // saturating add, which WebAssembly's SIMD lacks for 32 bits).
    let whole_shift = (rescale.slope == 1.0
        && rescale.intercept.fract() == 0.0
        && rescale.intercept.abs() <= f64::from(i32::MAX))
    .then_some(rescale.intercept as i32);
    if let Some(shift) = whole_shift {
        let stored_for = |hu: i16| {
            let at = i64::from(hu) - i64::from(shift);
            at.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
        };
        let (low, high) = (stored_for(lowest), stored_for(highest));
        let to_hu = move |value: i32| (value.clamp(low, high) + shift) as i16;
        match padding {
            Some(padding) => stored.each(voxels, |value| {
                if value == padding {
                    Volume::NO_DATA
                } else {
                    to_hu(value)
                }
            }),
            None => stored.each(voxels, to_hu),
        }
        return;
    }
    stored.each(voxels, |value| {
        if Some(value) == padding {
            Volume::NO_DATA
        } else {
            let hu = rescale.apply(value).0.round();
            hu.clamp(f64::from(lowest), f64::from(highest)) as i16
        }
    });
}

/// [`to_hu`] for samples in the voxels whose stored values (`value` of each) all fit in
/// 16 bits, when the rescale is a whole intercept that does too (CT's usual): in 16-bit
/// lanes, twice as many at a time as 32-bit ones, and adding with the saturation those
/// lanes have (measured in V8: 0.05 against 0.19 ms for a 512² frame with the copy).
/// False, the voxels untouched, for any other rescale.
fn narrow_to_hu(
    voxels: &mut [i16],
    value: impl Fn(i16) -> i16,
    rescale: Rescale,
    padding: Option<i32>,
) -> bool {
    let whole = rescale.slope == 1.0
        && rescale.intercept.fract() == 0.0
        && (f64::from(i16::MIN)..=f64::from(i16::MAX)).contains(&rescale.intercept);
    if !whole {
        return false;
    }
    let (shift, lowest) = (rescale.intercept as i16, i16::MIN + 1);
    // Clamped to lowest..=i16::MAX as `to_hu` clamps.
    let hu = move |stored: i16| stored.saturating_add(shift).max(lowest);
    // A padding value beyond 16 bits is no stored value here.
    match padding.and_then(|p| i16::try_from(p).ok()) {
        Some(padding) => {
            for voxel in voxels {
                let stored = value(*voxel);
                *voxel = if stored == padding {
                    Volume::NO_DATA
                } else {
                    hu(stored)
                };
            }
        }
        None => {
            for voxel in voxels {
                *voxel = hu(value(*voxel));
            }
        }
    }
    true
}

/// A file as its reader has it.
#[derive(Clone, Copy)]
pub enum FileData<'a> {
    Bytes(&'a [u8]),
    /// Parsed whole already, with its header (see [`dicom::read_parsed`]).
    Parsed(&'a ParsedFile),
}

/// A file's images, decoded for a volume.
enum Images<'a> {
    Stored(StoredFrames),
    /// The usual uncompressed CT, read from its bytes as it becomes HU.
    Native(NativeImages<'a>),
}

impl<'a> Images<'a> {
    /// The images of the file whose header is `inst`: the usual uncompressed CT straight
    /// from its bytes ([`pixels::native_images`]), any other file parsed whole first.
    fn of(inst: &Instance, data: FileData<'a>) -> Result<Images<'a>, DicomError> {
        match data {
            FileData::Bytes(bytes) => match pixels::native_images(bytes, inst) {
                Some(native) => Ok(Images::Native(native)),
                None => Ok(Images::Stored(pixels::decode_stored(
                    &dicom::open(bytes)?,
                    inst,
                )?)),
            },
            FileData::Parsed(parsed) => Ok(Images::Stored(pixels::decode_stored(parsed, inst)?)),
        }
    }

    fn has(&self, frame: usize) -> bool {
        match self {
            Images::Stored(stored) => frame < stored.frames,
            Images::Native(native) => frame < native.frames(),
        }
    }

    /// Frame `frame` as HU into `target` (see [`to_hu`]) with the rescale and padding of
    /// `inst`, its file's header.
    fn to_hu(&self, frame: usize, inst: &Instance, target: &mut [i16]) {
        let (rescale, padding) = (inst.rescale_for(frame), inst.padding_value);
        match self {
            Images::Stored(stored) => {
                if let Some(values) = stored.frame(frame) {
                    let voxels = beyond_no_data(target, values.len());
                    to_hu(voxels, values, rescale, padding);
                }
            }
            Images::Native(native) => {
                if let Some(len) = native.frame_samples(frame, target) {
                    let voxels = beyond_no_data(target, len);
                    let narrow = native.narrow_stored_value();
                    if !narrow.is_some_and(|value| narrow_to_hu(voxels, value, rescale, padding)) {
                        to_hu(voxels, InPlace(native.stored_value()), rescale, padding);
                    }
                }
            }
        }
    }
}

/// The files of `series` in the order [`load`] reads them, each once — for a reader that
/// fetches several at a time.
pub fn file_order(series: &Series) -> Vec<usize> {
    let mut files: Vec<usize> = series.slices.iter().map(|s| s.file).collect();
    files.sort_unstable();
    files.dedup();
    files
}

/// A volume built file by file, in any order, as files arrive: from a reader that hands
/// them over one at a time ([`load`]) or from the browser's, which reads the next files
/// while these are decoded.
pub struct Loader<'a, V = Vec<i16>> {
    series: &'a Series,
    instances: &'a [Instance],
    volume: Volume<V>,
    /// Slices a frame was stored in.
    filled: Vec<bool>,
    failures: Vec<FileFailure>,
}

impl<'a> Loader<'a> {
    pub fn new(series: &'a Series, instances: &'a [Instance]) -> Result<Loader<'a>, VolumeError> {
        Loader::new_in(series, instances, |len| Some(vec![0; len]))
    }
}

impl<'a, V: Voxels> Loader<'a, V> {
    /// A loader whose voxels are made by `make` (see [`Volume::zeroed_in`]).
    pub fn new_in(
        series: &'a Series,
        instances: &'a [Instance],
        make: impl FnOnce(usize) -> Option<V>,
    ) -> Result<Loader<'a, V>, VolumeError> {
        let volume = Volume::zeroed_in(series, make)?;
        Ok(Loader {
            series,
            instances,
            filled: vec![false; volume.header.slices],
            volume,
            failures: Vec::new(),
        })
    }

    /// The header of the volume being built.
    pub fn header(&self) -> &VolumeHeader {
        &self.volume.header
    }

    /// Decodes file `file` (its index in `instances`) from its bytes, or records why it
    /// could not be read, into the slices that refer to it.
    pub fn add(&mut self, file: usize, bytes: Result<&[u8], DicomError>) {
        self.add_file(file, bytes.map(FileData::Bytes), |_, _| {});
    }

    /// [`Loader::add`] for a file as its reader has it, showing `watch` each slice the
    /// file fills (its index and HU) while it is at hand — for work on every slice, such
    /// as the L3 search ([`crate::l3::Search`]), that would otherwise read each back from
    /// voxels kept elsewhere.
    pub fn add_file(
        &mut self,
        file: usize,
        data: Result<FileData, DicomError>,
        watch: impl FnMut(usize, &[i16]),
    ) {
        let decoded = self
            .instances
            .get(file)
            .ok_or_else(|| DicomError::Unreadable("internal error: no header for this file".into()))
            .and_then(|inst| Ok((inst, Images::of(inst, data?)?)));
        match decoded {
            Ok((inst, images)) => self.fill(file, inst, &images, watch),
            Err(error) => self.failures.push(FileFailure { file, error }),
        }
    }

    /// Stores file `file`'s decoded frames (`inst` its header) in the slices that refer
    /// to it.
    fn fill(
        &mut self,
        file: usize,
        inst: &Instance,
        images: &Images,
        mut watch: impl FnMut(usize, &[i16]),
    ) {
        let len = self.volume.slice_len();
        let slices = self.series.slices.iter().enumerate();
        for (index, slice) in slices.filter(|(_, s)| s.file == file) {
            let frame = slice.frame as usize;
            if images.has(frame) {
                self.volume.hu.write(index * len, len, |target| {
                    images.to_hu(frame, inst, target);
                    watch(index, target);
                });
                if let Some(filled) = self.filled.get_mut(index) {
                    *filled = true;
                }
            }
        }
    }

    /// The volume, with the files that failed; each slice no file filled (its file
    /// failed, or lacked the frame) is [`Volume::NO_DATA`] and listed as missing.
    pub fn finish(mut self) -> (Volume<V>, Vec<FileFailure>) {
        let len = self.volume.slice_len();
        for (index, _) in self.filled.iter().enumerate().filter(|(_, f)| !**f) {
            let no_data = |slice: &mut [i16]| slice.fill(Volume::NO_DATA);
            self.volume.hu.write(index * len, len, no_data);
            self.volume.header.missing_slices.push(SliceIndex(index));
        }
        (self.volume, self.failures)
    }
}

/// Decodes the chosen series into a volume. `read` returns a file's bytes by its index
/// in `instances`; each file is read and decoded once, whatever its frame count.
/// Files that fail are listed and leave their slices empty; the rest still load.
pub fn load(
    series: &Series,
    instances: &[Instance],
    mut read: impl FnMut(usize) -> Result<Vec<u8>, DicomError>,
    mut progress: impl FnMut(usize, usize),
) -> Result<(Volume, Vec<FileFailure>), VolumeError> {
    let mut loader = Loader::new(series, instances)?;
    let files = file_order(series);
    for (done, &file) in files.iter().enumerate() {
        progress(done, files.len());
        let bytes = read(file);
        loader.add(file, bytes.as_deref().map_err(Clone::clone));
    }
    progress(files.len(), files.len());
    Ok(loader.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dicom::instance::{AcquisitionFacts, PatientFacts};
    use crate::dicom::series::{SeriesKind, SliceRef};
    use crate::units::Millimetres;

    fn series(slices: usize, rows: u32, columns: u32) -> Series {
        Series {
            study_uid: "1".into(),
            series_uid: "2".into(),
            series_number: None,
            description: String::new(),
            modality: "CT".into(),
            kind: SeriesKind::CtAxial,
            files: vec![0],
            slices: (0..slices)
                .map(|k| SliceRef {
                    file: 0,
                    frame: k as u32,
                    along_normal: Millimetres(k as f64),
                })
                .collect(),
            rows,
            columns,
            geometry: Some(SeriesGeometry {
                orientation: [1.0, 0.0, 0.0, 0.0, 1.0, 0.0],
                normal: [0.0, 0.0, 1.0],
                pixel_spacing: Some([0.7, 0.7]),
                slice_spacing: Some(1.0),
                slice_thickness: Some(1.0),
            }),
            warnings: Vec::new(),
            patient: PatientFacts::default(),
            acquisition: AcquisitionFacts::default(),
        }
    }

    #[test]
    fn a_series_too_large_for_a_tab_is_refused_before_allocating() {
        let error = Volume::zeroed(&series(4000, 512, 512)).expect_err("too large");
        assert!(matches!(error, VolumeError::TooLarge { slices: 4000, .. }));
        assert!(
            error.to_string().contains("4000 slices of 512×512"),
            "{error}"
        );
        assert!(Volume::zeroed(&series(2, 512, 512)).is_ok());
    }

    #[test]
    fn a_series_without_geometry_or_slices_has_no_volume() {
        let mut s = series(2, 4, 4);
        s.geometry = None;
        assert_eq!(Volume::zeroed(&s).err(), Some(VolumeError::NoImageStack));
        assert_eq!(
            Volume::zeroed(&series(0, 4, 4)).err(),
            Some(VolumeError::NoImageStack)
        );
    }

    /// Native samples made HU in 16-bit lanes (`narrow_to_hu`) and in 32-bit ones
    /// (`to_hu`) give what the definition gives: the stored value (two's complement
    /// within the stored bits, or those bits alone), plus the intercept, clamped to the
    /// voxels' range; the padding value is no data.
    #[test]
    fn native_samples_become_the_same_hu_in_16_and_32_bit_lanes() {
        let mut rng = crate::rng::Rng::stream(3, 0);
        let samples: Vec<i16> = (0..4096).map(|_| rng.below(65536) as u16 as i16).collect();
        for (signed, bits) in [
            (true, 16),
            (true, 12),
            (false, 12),
            (false, 15),
            (false, 16),
        ] {
            let defined = |sample: i16| {
                let raw = i64::from(sample as u16) & ((1 << bits) - 1);
                if signed && raw >= 1 << (bits - 1) {
                    raw - (1 << bits)
                } else {
                    raw
                }
            };
            let shift = 32 - bits;
            let mask = if signed { -1 } else { (1i32 << bits) - 1 };
            let wide = move |s: i16| ((i32::from(s as u16) << shift) >> shift) & mask;
            let narrow_shift = 16 - bits.min(16);
            let narrow_mask = if signed {
                -1
            } else {
                ((1u32 << bits) - 1) as u16 as i16
            };
            let narrow = move |s: i16| ((s << narrow_shift) >> narrow_shift) & narrow_mask;
            let fits = signed || bits <= 15;
            for intercept in [-1024.0, 0.0, -32768.0, 32767.0, 1000.0] {
                for padding in [None, Some(-2000), Some(63536), Some(0), Some(-32768)] {
                    let rescale = Rescale {
                        slope: 1.0,
                        intercept,
                    };
                    let expected: Vec<i16> = samples
                        .iter()
                        .map(|&s| {
                            let stored = defined(s);
                            if Some(stored) == padding.map(i64::from) {
                                Volume::NO_DATA
                            } else {
                                (stored + intercept as i64).clamp(-32767, 32767) as i16
                            }
                        })
                        .collect();
                    let mut voxels = samples.clone();
                    to_hu(&mut voxels, InPlace(wide), rescale, padding);
                    assert_eq!(
                        voxels, expected,
                        "32 bits: {signed} {bits} {intercept} {padding:?}"
                    );
                    if fits {
                        let mut voxels = samples.clone();
                        assert!(narrow_to_hu(&mut voxels, narrow, rescale, padding));
                        assert_eq!(
                            voxels, expected,
                            "16 bits: {signed} {bits} {intercept} {padding:?}"
                        );
                    }
                }
            }
        }
        let fractional = Rescale {
            slope: 1.0,
            intercept: -1024.5,
        };
        let mut voxels = samples.clone();
        assert!(!narrow_to_hu(&mut voxels, |s| s, fractional, None));
        assert_eq!(voxels, samples, "untouched when it does not apply");
    }

    #[test]
    fn padding_becomes_no_data_and_reformats_put_superior_on_top() {
        let mut v = Volume::zeroed(&series(2, 1, 2)).expect("volume");
        v.set_slice(
            0,
            &[0, 5],
            Rescale {
                slope: 1.0,
                intercept: -1024.0,
            },
            Some(5),
        );
        v.set_slice(1, &[10, 20], Rescale::default(), None);
        assert_eq!(v.hu_at(0, 0, 0), Some(Hu(-1024.0)));
        assert_eq!(v.hu_at(1, 0, 0), None);
        assert_eq!(v.coronal(0), vec![10, 20, -1024, Volume::NO_DATA]);
        assert_eq!(v.sagittal(1), vec![20, Volume::NO_DATA]);
    }

    /// Storage that lends copies, as the browser's does, with the trait's own `gather`.
    #[derive(Debug)]
    struct Copied(Vec<i16>);

    impl Voxels for Copied {
        fn len(&self) -> usize {
            self.0.len()
        }

        fn read<R>(&self, start: usize, len: usize, f: impl FnOnce(&[i16]) -> R) -> Option<R> {
            let run = self.0.get(start..start.checked_add(len)?)?.to_vec();
            Some(f(&run))
        }

        fn write(&mut self, start: usize, len: usize, f: impl FnOnce(&mut [i16])) {
            let Some(end) = start.checked_add(len).filter(|&end| end <= self.0.len()) else {
                return;
            };
            let mut run = vec![0; len];
            f(&mut run);
            self.0[start..end].copy_from_slice(&run);
        }
    }

    #[test]
    fn storage_that_lends_copies_reads_and_writes_as_a_vec_does() {
        let s = series(3, 2, 3);
        let stored: Vec<i32> = (0..6).map(|v| v * 10).collect();
        let rescale = Rescale {
            slope: 1.0,
            intercept: -5.0,
        };
        let mut here = Loader::new(&s, &[]).expect("volume");
        let mut there = Loader::new_in(&s, &[], |len| Some(Copied(vec![0; len]))).expect("volume");
        here.volume.set_slice(0, &stored, rescale, Some(20));
        here.volume
            .set_slice(2, &stored[..4], Rescale::default(), None);
        there.volume.set_slice(0, &stored, rescale, Some(20));
        there
            .volume
            .set_slice(2, &stored[..4], Rescale::default(), None);
        for index in [0, 2] {
            here.filled[index] = true;
            there.filled[index] = true;
        }
        let (here, _) = here.finish();
        let (there, _) = there.finish();
        assert_eq!(there.hu.0, here.hu);
        assert_eq!(there.header.missing_slices, vec![SliceIndex(1)]);
        for k in 0..3 {
            assert_eq!(there.axial_copy(k).as_deref(), here.axial(k));
            assert_eq!(there.sagittal(k), here.sagittal(k));
        }
        assert_eq!(there.coronal(1), here.coronal(1));
        assert_eq!(there.hu_at(1, 0, 0), Some(Hu(5.0)));
        assert_eq!(there.hu_at(2, 0, 0), None, "padding");
        assert_eq!(there.hu_at(0, 0, 3), None, "past the last slice");
        assert_eq!(there.axial_copy(3), None);
        // Past the end of a partial frame is no data.
        assert_eq!(there.hu_at(1, 1, 2), None);
    }

    #[test]
    fn a_volume_the_storage_cannot_have_is_a_plain_error() {
        let error =
            Volume::<Copied>::zeroed_in(&series(1000, 512, 512), |_| None).expect_err("no memory");
        assert!(matches!(error, VolumeError::NoMemory { slices: 1000, .. }));
        assert!(
            error.to_string().contains("the 0.52 GB that 1000 slices"),
            "{error}"
        );
        let small = Volume::<Copied>::zeroed_in(&series(3, 512, 512), |_| None).expect_err("none");
        assert!(
            small.to_string().contains("the 1.6 MB that 3 slices"),
            "{small}"
        );
    }

    #[test]
    fn a_slice_no_file_filled_is_no_data_and_missing() {
        let s = series(3, 1, 2);
        let mut loader = Loader::new(&s, &[]).expect("volume");
        // A file without a header fails; no file fills any of the three slices.
        loader.add(0, Ok(&[]));
        let (volume, failures) = loader.finish();
        assert_eq!(failures.len(), 1);
        assert_eq!(
            volume.header.missing_slices,
            vec![SliceIndex(0), SliceIndex(1), SliceIndex(2)]
        );
        assert!(volume.hu.iter().all(|&v| v == Volume::NO_DATA));
    }
}
