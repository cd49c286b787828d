//! A CT series as one volume of Hounsfield units with its geometry, built by decoding
//! each file of the chosen series once.

use serde::{Deserialize, Serialize};

use crate::dicom::series::{Series, SeriesGeometry};
use crate::dicom::{self, pixels, DicomError, Instance};
use crate::units::{Hu, Rescale, SliceIndex};

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
#[derive(Debug, Clone, PartialEq)]
pub struct Volume {
    pub header: VolumeHeader,
    /// Slice-major, then row, then column.
    pub hu: Vec<i16>,
}

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

    /// An empty volume shaped like `series`; `None` if the series has no image stack.
    pub fn empty(series: &Series) -> Option<Volume> {
        let geometry = series.geometry.clone()?;
        let slices = series.slices.len();
        let len = slices
            .checked_mul(series.rows as usize)?
            .checked_mul(series.columns as usize)?;
        Some(Volume {
            header: VolumeHeader {
                columns: series.columns as usize,
                rows: series.rows as usize,
                slices,
                geometry,
                slice_positions_mm: series.slices.iter().map(|s| s.along_normal.0).collect(),
                missing_slices: Vec::new(),
            },
            hu: vec![Volume::NO_DATA; len],
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
        let Some(target) = self.hu.get_mut(index * len..(index + 1) * len) else {
            return;
        };
        for (voxel, &value) in target.iter_mut().zip(stored) {
            *voxel = if Some(value) == padding {
                Volume::NO_DATA
            } else {
                let hu = rescale.apply(value).0.round();
                hu.clamp(f64::from(i16::MIN + 1), f64::from(i16::MAX)) as i16
            };
        }
    }

    pub fn axial(&self, slice: usize) -> Option<&[i16]> {
        let len = self.slice_len();
        self.hu.get(slice * len..(slice + 1) * len)
    }

    /// HU at (column, row, slice), `None` outside the volume or where there is no data.
    pub fn hu_at(&self, column: usize, row: usize, slice: usize) -> Option<Hu> {
        let h = &self.header;
        if column >= h.columns || row >= h.rows || slice >= h.slices {
            return None;
        }
        let v = *self
            .hu
            .get(slice * self.slice_len() + row * h.columns + column)?;
        (v != Volume::NO_DATA).then_some(Hu(f64::from(v)))
    }

    /// The plane through `column`: one image row per slice, the most superior slice on
    /// top (as radiologists view sagittal images), `rows` pixels wide.
    pub fn sagittal(&self, column: usize) -> Vec<i16> {
        let h = &self.header;
        let mut out = Vec::with_capacity(h.slices * h.rows);
        for slice in (0..h.slices).rev() {
            out.extend(
                (0..h.rows).map(|row| self.hu[slice * self.slice_len() + row * h.columns + column]),
            );
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
            out.extend_from_slice(&self.hu[start..start + h.columns]);
        }
        out
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
) -> Option<(Volume, Vec<FileFailure>)> {
    let mut volume = Volume::empty(series)?;
    let mut failures = Vec::new();
    let mut files: Vec<usize> = series.slices.iter().map(|s| s.file).collect();
    files.sort_unstable();
    files.dedup();
    for (done, &file) in files.iter().enumerate() {
        progress(done, files.len());
        let inst = &instances[file];
        let decoded = read(file)
            .and_then(|bytes| dicom::open(&bytes))
            .and_then(|parsed| pixels::decode_stored(&parsed, inst));
        match decoded {
            Ok(stored) => {
                for (index, slice) in series
                    .slices
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| s.file == file)
                {
                    if let Some(frame) = stored.frame(slice.frame as usize) {
                        volume.set_slice(
                            index,
                            frame,
                            inst.rescale_for(slice.frame as usize),
                            inst.padding_value,
                        );
                    }
                }
            }
            Err(error) => {
                for (index, _) in series
                    .slices
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| s.file == file)
                {
                    volume.header.missing_slices.push(SliceIndex(index));
                }
                failures.push(FileFailure { file, error });
            }
        }
    }
    progress(files.len(), files.len());
    volume.header.missing_slices.sort_unstable();
    Some((volume, failures))
}
