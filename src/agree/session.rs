//! One agreement run over a folder of CT images and a folder of readers' masks, whatever
//! holds the files: the disk for `sarcoscope agree`, the browser's `File`s in the
//! decoding worker. Each mask is read ([`reference`]), placed on its CT slice — by the
//! image it is named after, the image its DICOM SEG names, or its position in the
//! folder's series — checked to fit that slice, and handed on with the slice's HU, the
//! patient facts the calls need and how far it lies from the series' automatic L3. The
//! automatic mask is then made (or read) by the caller, which runs the network where it
//! runs.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use super::case::LevelDistance;
use super::reference::{self, Format, Numbering, Placement, ReferenceError, ReferenceMask};
use super::seg::SegError;
use crate::body::Anthropometry;
use crate::dicom::{self, DicomError, Instance};
use crate::ingest::{Catalogue, SeriesFiles};
use crate::segment::site::SiteCase;
use crate::segment::{AxialSlice, TissueMask};
use crate::units::Millimetres;
use crate::volume::{self, Volume};

/// The files of one chosen folder, by index.
pub trait Files {
    fn count(&self) -> usize;
    /// The file's path under the folder chosen, `/`-separated.
    fn name(&self, index: usize) -> &str;
    /// The whole file, or why it cannot be read.
    fn read(&self, index: usize) -> Result<Vec<u8>, String>;
    /// Its first `bytes` bytes (all of a smaller file): where a header is.
    fn read_prefix(&self, index: usize, _bytes: usize) -> Result<Vec<u8>, String> {
        self.read(index)
    }
}

/// A mask file: its name under the folder and its masks, or why it gave none.
pub struct MaskFile {
    pub index: usize,
    pub name: String,
    pub masks: Result<Vec<ReferenceMask>, String>,
    /// The labels of DICOM SEG segments that said no tissue (the file is refused until
    /// the user names them).
    pub unnamed_segments: Vec<String>,
}

/// Every mask file of `files` (files of no mask format are passed over), read.
pub fn read_masks(files: &dyn Files, numbering: &Numbering) -> Vec<MaskFile> {
    let mut read = Vec::new();
    for index in 0..files.count() {
        let name = files.name(index).to_owned();
        let bytes = match files.read(index) {
            Ok(bytes) => bytes,
            Err(e) => {
                if Format::of(Path::new(&name), &[]).is_some() {
                    let masks = Err(format!("cannot read it: {e}"));
                    let unnamed_segments = Vec::new();
                    read.push(MaskFile {
                        index,
                        name,
                        masks,
                        unnamed_segments,
                    });
                }
                continue;
            }
        };
        let Some(format) = Format::of(Path::new(&name), &bytes) else {
            continue;
        };
        let (masks, unnamed_segments) = match reference::read(format, &bytes, numbering) {
            Ok(masks) => (Ok(masks), Vec::new()),
            Err(ReferenceError::Seg(SegError::Unnamed(labels))) => {
                let e = SegError::Unnamed(labels.clone());
                (Err(e.to_string()), labels)
            }
            Err(e) => (Err(e.to_string()), Vec::new()),
        };
        read.push(MaskFile {
            index,
            name,
            masks,
            unnamed_segments,
        });
    }
    read
}

/// The name a mask is reported under: its file, and the slice of a label map or SEG.
pub fn case_name(file: &str, mask: &ReferenceMask) -> String {
    match mask.slice {
        Some(k) => format!("{file} slice {k}"),
        None => file.to_owned(),
    }
}

/// A comparison that could not be made, and why.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Failed {
    pub case: String,
    pub reason: String,
    /// The DICOM SEG segments the user must name before the file can be read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unnamed_segments: Vec<String>,
}

impl Failed {
    pub fn new(case: impl Into<String>, reason: impl Into<String>) -> Failed {
        Failed {
            case: case.into(),
            reason: reason.into(),
            unnamed_segments: Vec::new(),
        }
    }
}

/// The CT slice a mask belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A CT image file, as a one-slice volume.
    Image(usize),
    /// Slice `k` (most inferior first) of the CT folder's series.
    SeriesSlice(usize),
}

/// A CT slice (its HU copied out of the volume), with what the comparison needs. The HU
/// travel beside a worker's message, not in it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CtSlice {
    #[serde(skip)]
    pub hu: Vec<i16>,
    pub columns: usize,
    pub rows: usize,
    pub pixel_spacing: [Millimetres; 2],
    pub body: Anthropometry,
    /// ImagePositionPatient of the slice.
    pub position: Option<[f64; 3]>,
    /// Which image it is however a mask found it: (SOP Instance UID, frame).
    pub key: (String, u32),
    /// Its Series Instance UID: which patient's images (cross-validation keeps them
    /// together).
    #[serde(default)]
    pub series: String,
}

impl CtSlice {
    fn of(
        volume: &Volume,
        k: usize,
        instance: &Instance,
        frame: u32,
        position: Option<[f64; 3]>,
    ) -> Result<CtSlice, String> {
        let slice = AxialSlice::of_volume(volume, k).map_err(|e| e.to_string())?;
        Ok(CtSlice {
            hu: slice.hu.to_vec(),
            columns: slice.columns,
            rows: slice.rows,
            pixel_spacing: slice.pixel_spacing,
            body: crate::batch::anthropometry(&instance.patient),
            position,
            key: (instance.sop_instance_uid.clone(), frame),
            series: instance.series_uid.clone(),
        })
    }

    pub fn axial(&self) -> AxialSlice<'_> {
        AxialSlice {
            hu: &self.hu,
            columns: self.columns,
            rows: self.rows,
            pixel_spacing: self.pixel_spacing,
        }
    }

    /// Whether a reader's mask fits this slice: the same grid, the same pixel size and
    /// (when the file says where it lies) the same place, within half a pixel.
    pub fn check_fit(&self, reference: &ReferenceMask) -> Result<(), String> {
        let mask = &reference.mask;
        if (self.columns, self.rows) != (mask.columns, mask.rows) {
            return Err(format!(
                "the mask is {}×{} pixels but its CT image is {}×{}",
                mask.columns, mask.rows, self.columns, self.rows
            ));
        }
        let [row_mm, column_mm] = self.pixel_spacing.map(|s| s.0);
        // A mask traced on another image (or resampled) says so by its pixel size.
        if let Some([mask_row, mask_column]) = reference.pixel_spacing {
            let differs = (mask_row.0 - row_mm).abs() > 0.01 * row_mm
                || (mask_column.0 - column_mm).abs() > 0.01 * column_mm;
            if differs {
                return Err(format!(
                    "the mask's pixels are {:.3} × {:.3} mm but its CT image's {row_mm:.3} × {column_mm:.3} mm: it was traced on another image",
                    mask_row.0, mask_column.0
                ));
            }
        }
        if let (Some([x, y]), Some([cx, cy, _])) = (reference.origin_mm, self.position) {
            if (x - cx).abs() > column_mm / 2.0 || (y - cy).abs() > row_mm / 2.0 {
                return Err(format!(
                    "the mask's first pixel lies at ({x:.1}, {y:.1}) mm but its CT image's at ({cx:.1}, {cy:.1}) mm: it is shifted or was cut from another field of view"
                ));
            }
        }
        Ok(())
    }
}

/// The folder's CT series with its headers, read once.
struct LoadedSeries {
    volume: Volume,
    files: SeriesFiles,
}

/// The CT folder: its images found by name or UID, its series read once when needed.
pub struct CtFolder<'a> {
    files: &'a dyn Files,
    /// File name (without folders) → files of that name.
    by_name: BTreeMap<String, Vec<usize>>,
    /// Headers, read on first use (a SEG's UIDs, a label map's series).
    headers: Option<Vec<Option<Instance>>>,
    by_uid: Option<HashMap<String, usize>>,
    series: Option<Result<LoadedSeries, String>>,
    /// The series' automatic L3 slice, searched on first use (`None`: not found).
    l3: Option<Option<usize>>,
}

impl<'a> CtFolder<'a> {
    pub fn new(files: &'a dyn Files) -> CtFolder<'a> {
        let mut by_name: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for index in 0..files.count() {
            let name = files.name(index);
            let base = name.rsplit('/').next().unwrap_or(name);
            by_name.entry(base.to_owned()).or_default().push(index);
        }
        CtFolder {
            files,
            by_name,
            headers: None,
            by_uid: None,
            series: None,
            l3: None,
        }
    }

    fn headers(&mut self) -> &[Option<Instance>] {
        let files = self.files;
        self.headers.get_or_insert_with(|| {
            (0..files.count())
                .map(|i| read_header(files, i).ok())
                .collect()
        })
    }

    /// The CT slice a mask read from the file named `mask_file` belongs to.
    pub fn locate(&mut self, mask_file: &str, placement: &Placement) -> Result<Target, String> {
        match placement {
            Placement::Named => self.named(mask_file).map(Target::Image),
            Placement::Source { sop_instance_uid } => {
                if self.by_uid.is_none() {
                    let by_uid = self
                        .headers()
                        .iter()
                        .enumerate()
                        .filter_map(|(i, h)| Some((h.as_ref()?.sop_instance_uid.clone(), i)))
                        .collect();
                    self.by_uid = Some(by_uid);
                }
                self.by_uid
                    .as_ref()
                    .and_then(|by_uid| by_uid.get(sop_instance_uid))
                    .map(|&i| Target::Image(i))
                    .ok_or_else(|| {
                        format!("the CT image it was drawn on (SOP Instance UID {sop_instance_uid}) is not in the CT folder")
                    })
            }
            Placement::At {
                z_mm,
                slice_spacing,
            } => {
                let series = self.series()?;
                slice_at(&series.volume, *z_mm, *slice_spacing).map(Target::SeriesSlice)
            }
        }
    }

    /// The CT image a mask file was traced on: `NAME.dcm.tag` → `NAME.dcm`, `NAME.tag` or
    /// `NAME.png` → `NAME`, `NAME.dcm` or `NAME.DCM`; the one in the same folder when
    /// several share the name.
    fn named(&self, mask_file: &str) -> Result<usize, String> {
        let path = Path::new(mask_file);
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let candidates = [stem.clone(), format!("{stem}.dcm"), format!("{stem}.DCM")];
        let found = candidates
            .iter()
            .find_map(|name| self.by_name.get(name))
            .ok_or_else(|| format!("no CT image named {stem} (or {stem}.dcm) in the CT folder"))?;
        let parent = |name: &str| {
            Path::new(name)
                .parent()
                .and_then(Path::file_name)
                .map(ToOwned::to_owned)
        };
        match found.as_slice() {
            [one] => Ok(*one),
            several => several
                .iter()
                .copied()
                .find(|&i| parent(self.files.name(i)) == parent(mask_file))
                .ok_or_else(|| {
                    format!(
                        "{} CT images are named {stem}: put each mask in a folder named as its image's",
                        several.len()
                    )
                }),
        }
    }

    /// The folder's chosen CT series, read on first use.
    fn series(&mut self) -> Result<&LoadedSeries, String> {
        if self.series.is_none() {
            let loaded = self.load_series();
            self.series = Some(loaded);
        }
        match &self.series {
            Some(Ok(series)) => Ok(series),
            Some(Err(e)) => Err(e.clone()),
            None => Err("the CT series was not read".into()),
        }
    }

    fn load_series(&mut self) -> Result<LoadedSeries, String> {
        let files = self.files;
        let headers = self.headers();
        let catalogue = Catalogue::build(headers);
        let no_ct = || "the CT folder holds no CT image series".to_owned();
        let chosen = catalogue
            .chosen
            .and_then(|at| catalogue.series(at))
            .ok_or_else(no_ct)?;
        let series_files = SeriesFiles::of(chosen, headers).ok_or_else(no_ct)?;
        let (volume, _) = volume::load(
            &series_files.series,
            &series_files.instances,
            |local| {
                let index = series_files.files.get(local).map_or(usize::MAX, |f| f.0);
                files.read(index).map_err(DicomError::Unreadable)
            },
            |_, _| {},
        )
        .map_err(|e| format!("the CT folder cannot be read as one series: {e}"))?;
        Ok(LoadedSeries {
            volume,
            files: series_files,
        })
    }

    /// The CT slice `target` names.
    pub fn slice(&mut self, target: Target) -> Result<CtSlice, String> {
        match target {
            Target::Image(index) => {
                let bytes = self
                    .files
                    .read(index)
                    .map_err(|e| format!("its CT image cannot be read: {e}"))?;
                let instance = dicom::read_instance(&bytes)
                    .map_err(|e| format!("its CT image cannot be used: {e}"))?;
                let single = [Some(instance)];
                let catalogue = Catalogue::build(&single);
                let image = catalogue
                    .chosen
                    .and_then(|at| catalogue.series(at))
                    .and_then(|s| SeriesFiles::of(s, &single))
                    .ok_or_else(|| {
                        format!("{} is not an axial CT image", self.files.name(index))
                    })?;
                let (volume, failures) = volume::load(
                    &image.series,
                    &image.instances,
                    |_| Ok(bytes.clone()),
                    |_, _| {},
                )
                .map_err(|e| format!("its CT image cannot be used: {e}"))?;
                if let Some(f) = failures.first() {
                    return Err(format!("its CT image cannot be decoded: {}", f.error));
                }
                let (instance, frame, position) =
                    image.slice_source(0).ok_or("its CT image has no slice")?;
                CtSlice::of(&volume, 0, instance, frame, position)
            }
            Target::SeriesSlice(k) => {
                let series = self.series()?;
                let (instance, frame, position) = series
                    .files
                    .slice_source(k)
                    .ok_or("the CT series has no such slice")?;
                CtSlice::of(&series.volume, k, instance, frame, position)
            }
        }
    }

    /// How far the image `key` names lies from the automatic L3 of the folder's series;
    /// `None` when it is not in that series or no L3 was found there.
    pub fn level(&mut self, key: &(String, u32)) -> Option<LevelDistance> {
        self.series().ok()?;
        let Some(Ok(series)) = &self.series else {
            return None;
        };
        let slices = series.volume.header.slices;
        let traced = (0..slices).find(|&k| {
            series
                .files
                .slice_source(k)
                .is_some_and(|(inst, frame, _)| inst.sop_instance_uid == key.0 && frame == key.1)
        })?;
        let auto = (*self.l3.get_or_insert_with(|| {
            let found =
                (slices >= crate::l3::MIN_SLICES).then(|| crate::l3::locate(&series.volume))?;
            crate::batch::measured_level(&series.volume.header, Some(&found))
                .ok()
                .map(|level| level.slice)
        }))?;
        LevelDistance::of(&series.volume.header.slice_positions_mm, traced, auto)
    }
}

/// A file's header ([`dicom::read_header`]).
fn read_header(files: &dyn Files, index: usize) -> Result<Instance, String> {
    dicom::read_header(
        |bytes| {
            files
                .read_prefix(index, bytes)
                .map_err(DicomError::Unreadable)
        },
        || files.read(index).map_err(DicomError::Unreadable),
    )
    .map_err(|e| e.to_string())
}

/// The slice of `volume` at `z_mm`, within half of the mask's slice spacing.
fn slice_at(volume: &Volume, z_mm: f64, slice_spacing: f64) -> Result<usize, String> {
    let positions = &volume.header.slice_positions_mm;
    let reach = slice_spacing.abs() / 2.0 + 1e-3;
    positions
        .iter()
        .position(|&z| (z - z_mm).abs() <= reach)
        .ok_or_else(|| match (positions.first(), positions.last()) {
            (Some(low), Some(high)) => format!(
                "no CT slice at z = {z_mm:.1} mm (the series spans {low:.1} to {high:.1} mm)"
            ),
            _ => "the CT series has no slice positions".into(),
        })
}

/// A reader's mask ready to be compared: its CT slice, and how far that lies from the
/// automatic L3.
pub struct Prepared {
    pub case: String,
    pub reference: TissueMask,
    pub slice: CtSlice,
    pub level: Option<LevelDistance>,
}

impl Prepared {
    /// The case as training data for fine-tuning on the site's own masks.
    pub fn site_case(&self) -> SiteCase {
        SiteCase::new(
            self.case.clone(),
            self.slice.series.clone(),
            self.slice.position.map(|p| p[2]),
            &self.reference,
            &self.slice.axial(),
        )
    }
}

/// Each reader's mask of `masks`, placed on its slice of `ct` and checked: `each` gets
/// every case ready to compare, or why it cannot be.
pub fn prepare(
    ct: &mut CtFolder,
    masks: &[MaskFile],
    mut each: impl FnMut(Result<Prepared, Failed>),
) {
    for file in masks {
        let read = match &file.masks {
            Ok(read) => read,
            Err(reason) => {
                each(Err(Failed {
                    unnamed_segments: file.unnamed_segments.clone(),
                    ..Failed::new(&file.name, reason)
                }));
                continue;
            }
        };
        for mask in read {
            let case = case_name(&file.name, mask);
            let prepared = ct
                .locate(&file.name, &mask.placement)
                .and_then(|target| ct.slice(target))
                .and_then(|slice| {
                    slice.check_fit(mask)?;
                    Ok(slice)
                });
            each(match prepared {
                Ok(slice) => {
                    let level = ct.level(&slice.key);
                    Ok(Prepared {
                        case,
                        reference: mask.mask.clone(),
                        slice,
                        level,
                    })
                }
                Err(reason) => Err(Failed::new(case, reason)),
            });
        }
    }
}
