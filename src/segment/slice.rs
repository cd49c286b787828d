//! The input of a segmentation: one axial CT slice with its pixel spacing.

use crate::units::Millimetres;
use crate::volume::{Volume, VolumeHeader};

/// One axial slice in Hounsfield units, row-major, with [`Volume::NO_DATA`] where the
/// scanner recorded nothing (treated as air).
#[derive(Debug, Clone, Copy)]
pub struct AxialSlice<'a> {
    pub hu: &'a [i16],
    pub columns: usize,
    pub rows: usize,
    /// Distance between row centres, then between column centres (DICOM Pixel Spacing).
    pub pixel_spacing: [Millimetres; 2],
}

/// Why a slice cannot be segmented, in words for the person who chose it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SliceError {
    #[error("the slice has no pixels")]
    Empty,
    #[error("the slice holds {actual} values but {columns}×{rows} were expected")]
    WrongLength {
        columns: usize,
        rows: usize,
        actual: usize,
    },
    #[error("the pixel spacing ({row:.3} × {column:.3} mm) is missing or implausible, so areas cannot be measured; a CT pixel is 0.2 to 5 mm")]
    Spacing { row: f64, column: f64 },
    #[error("slice {index} is not in this series (it has {slices} slices, numbered 0 to {last} from the most inferior)", last = slices.saturating_sub(1))]
    NoSuchSlice { index: usize, slices: usize },
}

impl<'a> AxialSlice<'a> {
    pub fn new(
        hu: &'a [i16],
        columns: usize,
        rows: usize,
        pixel_spacing: [Millimetres; 2],
    ) -> Result<AxialSlice<'a>, SliceError> {
        if columns == 0 || rows == 0 {
            return Err(SliceError::Empty);
        }
        if hu.len() != columns * rows {
            return Err(SliceError::WrongLength {
                columns,
                rows,
                actual: hu.len(),
            });
        }
        let [row, column] = pixel_spacing;
        let plausible = |s: Millimetres| s.0.is_finite() && (0.2..=5.0).contains(&s.0);
        if !plausible(row) || !plausible(column) {
            return Err(SliceError::Spacing {
                row: row.0,
                column: column.0,
            });
        }
        Ok(AxialSlice {
            hu,
            columns,
            rows,
            pixel_spacing,
        })
    }

    /// Slice `index` of a volume (0 = most inferior).
    pub fn of_volume(volume: &'a Volume, index: usize) -> Result<AxialSlice<'a>, SliceError> {
        let h = &volume.header;
        let hu = volume.axial(index).ok_or(SliceError::NoSuchSlice {
            index,
            slices: h.slices,
        })?;
        AxialSlice::of_header(hu, h)
    }

    /// One slice's HU, `hu`, of the volume that `header` describes.
    pub fn of_header(hu: &'a [i16], header: &VolumeHeader) -> Result<AxialSlice<'a>, SliceError> {
        let [row, column] = header.geometry.pixel_spacing.unwrap_or([f64::NAN; 2]);
        AxialSlice::new(
            hu,
            header.columns,
            header.rows,
            [Millimetres(row), Millimetres(column)],
        )
    }

    /// The area of one pixel in cm².
    pub fn pixel_area_cm2(&self) -> f64 {
        self.pixel_spacing[0].0 * self.pixel_spacing[1].0 / 100.0
    }

    /// HU at a pixel, air where there is no data.
    pub fn value(&self, column: usize, row: usize) -> f32 {
        match self.hu[row * self.columns + column] {
            Volume::NO_DATA => -1024.0,
            v => f32::from(v),
        }
    }
}
