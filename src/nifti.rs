//! A reader for NIfTI-1 label volumes (`.nii`, `.nii.gz`), the format segmentation
//! references are usually shared in, turned into axial slices laid out as DICOM shows
//! them, so that a label lines up with the CT pixel it belongs to.
//!
//! Only what reference label maps need: single-file NIfTI-1, little-endian, 3-D, an
//! axis-aligned affine. Anything else is refused in words rather than misread.

use std::io::Read;

/// The most voxels read (a 512×512×1,000 volume is 262 M).
const MAX_VOXELS: usize = 400_000_000;

#[derive(Debug, thiserror::Error)]
pub enum NiftiError {
    #[error("not a NIfTI-1 file (header size or magic is wrong)")]
    NotNifti,
    #[error("big-endian NIfTI files are not supported")]
    BigEndian,
    #[error("only 3-D volumes are supported; this one has {0} dimensions")]
    Dimensions(i16),
    #[error("data type {0} is not supported (unsigned/signed 8–32-bit integers and 32/64-bit floats are)")]
    DataType(i16),
    #[error("the volume is {0} voxels, more than this reader accepts")]
    TooLarge(usize),
    #[error("the file ends before its voxel data does")]
    Truncated,
    #[error("the orientation is oblique or missing; only axis-aligned volumes are supported")]
    Oblique,
    #[error("could not decompress: {0}")]
    Gzip(#[from] std::io::Error),
}

/// A NIfTI volume as axial slices in DICOM's patient orientation (LPS): within a slice,
/// columns run towards the patient's left and rows towards the back; slices run from
/// inferior to superior.
#[derive(Debug, Clone, PartialEq)]
pub struct AxialStack {
    pub columns: usize,
    pub rows: usize,
    pub slices: usize,
    /// In-plane spacing (between rows, between columns) and between slices (mm).
    pub pixel_spacing: [f64; 2],
    pub slice_spacing: f64,
    /// Where the first stored pixel's centre lies across the body (x, y in mm, LPS), as
    /// DICOM's ImagePositionPatient gives it.
    pub origin_mm: [f64; 2],
    /// z of each slice (mm, LPS = RAS along z), ascending.
    pub slice_z_mm: Vec<f64>,
    /// Values with the header's scaling applied, slice-major then row then column.
    pub values: Vec<f32>,
}

impl AxialStack {
    pub fn slice(&self, index: usize) -> Option<&[f32]> {
        let len = self.columns * self.rows;
        self.values.get(index * len..(index + 1) * len)
    }

    /// The slice whose z is within half a slice of `z_mm`.
    pub fn slice_at(&self, z_mm: f64) -> Option<usize> {
        self.slice_z_mm
            .iter()
            .position(|&z| (z - z_mm).abs() <= self.slice_spacing / 2.0)
    }
}

/// Reads a NIfTI-1 file from memory; gzip-compressed data is recognised by its magic.
pub fn read(bytes: &[u8]) -> Result<AxialStack, NiftiError> {
    let data = if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(bytes)
            .take((MAX_VOXELS as u64) * 8 + 1024 * 1024)
            .read_to_end(&mut out)?;
        out
    } else {
        bytes.to_vec()
    };
    parse(&data)
}

fn parse(b: &[u8]) -> Result<AxialStack, NiftiError> {
    if b.len() < 348 {
        return Err(NiftiError::NotNifti);
    }
    let i32_at = |o: usize| i32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
    let i16_at = |o: usize| i16::from_le_bytes([b[o], b[o + 1]]);
    let f32_at = |o: usize| f32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
    if i32_at(0) != 348 {
        if i32::from_be_bytes([b[0], b[1], b[2], b[3]]) == 348 {
            return Err(NiftiError::BigEndian);
        }
        return Err(NiftiError::NotNifti);
    }
    if &b[344..347] != b"n+1" {
        return Err(NiftiError::NotNifti);
    }
    let rank = i16_at(40);
    let dims: Vec<i16> = (0..4).map(|k| i16_at(42 + 2 * k)).collect();
    if !(rank == 3 || (rank == 4 && i16_at(48) == 1)) || dims[..3].iter().any(|&d| d < 1) {
        return Err(NiftiError::Dimensions(rank));
    }
    let (nx, ny, nz) = (dims[0] as usize, dims[1] as usize, dims[2] as usize);
    let count = nx * ny * nz;
    if count > MAX_VOXELS {
        return Err(NiftiError::TooLarge(count));
    }
    let datatype = i16_at(70);
    let width = match datatype {
        2 | 256 => 1,
        4 | 512 => 2,
        8 | 16 | 768 => 4,
        64 => 8,
        other => return Err(NiftiError::DataType(other)),
    };
    let offset = f32_at(108).max(348.0) as usize;
    // `vox_offset` is a float from the file: any value must end in "truncated", not in
    // an overflow (found by fuzzing).
    let raw = offset
        .checked_add(count * width)
        .and_then(|end| b.get(offset..end))
        .ok_or(NiftiError::Truncated)?;
    let (slope, intercept) = match (f32_at(112), f32_at(116)) {
        (s, i) if s.is_finite() && s != 0.0 => (s, if i.is_finite() { i } else { 0.0 }),
        _ => (1.0, 0.0),
    };
    let value = |k: usize| -> f32 {
        let c = &raw[k * width..(k + 1) * width];
        let v = match datatype {
            2 => f32::from(c[0]),
            256 => f32::from(c[0] as i8),
            4 => f32::from(i16::from_le_bytes([c[0], c[1]])),
            512 => f32::from(u16::from_le_bytes([c[0], c[1]])),
            8 => i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f32,
            768 => u32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f32,
            16 => f32::from_le_bytes([c[0], c[1], c[2], c[3]]),
            _ => f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]) as f32,
        };
        v * slope + intercept
    };
    // The voxel-to-world (RAS) affine: sform when set, else a qform without rotation.
    let row = |o: usize| [f32_at(o), f32_at(o + 4), f32_at(o + 8), f32_at(o + 12)];
    let (sx, sy, sz) = if i16_at(254) > 0 {
        (row(280), row(296), row(312))
    } else if i16_at(252) > 0 && (f32_at(256), f32_at(260), f32_at(264)) == (0.0, 0.0, 0.0) {
        let qfac = if f32_at(76) < 0.0 { -1.0 } else { 1.0 };
        (
            [f32_at(80), 0.0, 0.0, f32_at(268)],
            [0.0, f32_at(84), 0.0, f32_at(272)],
            [0.0, 0.0, qfac * f32_at(88), f32_at(276)],
        )
    } else {
        return Err(NiftiError::Oblique);
    };
    let axis_aligned = sx[1] == 0.0
        && sx[2] == 0.0
        && sy[0] == 0.0
        && sy[2] == 0.0
        && sz[0] == 0.0
        && sz[1] == 0.0
        && sx[0] != 0.0
        && sy[1] != 0.0
        && sz[2] != 0.0;
    if !axis_aligned {
        return Err(NiftiError::Oblique);
    }
    // RAS to LPS: a column index rising towards the right (positive x in RAS) runs
    // against DICOM's columns, which rise towards the patient's left; likewise rows.
    let flip_x = sx[0] > 0.0;
    let flip_y = sy[1] > 0.0;
    let flip_z = sz[2] < 0.0;
    let mut values = Vec::with_capacity(count);
    for s in 0..nz {
        let k = if flip_z { nz - 1 - s } else { s };
        for r in 0..ny {
            let j = if flip_y { ny - 1 - r } else { r };
            for c in 0..nx {
                let i = if flip_x { nx - 1 - c } else { c };
                values.push(value(i + nx * (j + ny * k)));
            }
        }
    }
    let dz = f64::from(sz[2].abs());
    let z0 = f64::from(sz[3])
        + if flip_z {
            f64::from(sz[2]) * (nz as f64 - 1.0)
        } else {
            0.0
        };
    Ok(AxialStack {
        columns: nx,
        rows: ny,
        slices: nz,
        pixel_spacing: [f64::from(sy[1].abs()), f64::from(sx[0].abs())],
        slice_spacing: dz,
        // Column 0 and row 0 after the flips above, from RAS to LPS (x and y negated).
        origin_mm: [
            -(f64::from(sx[3])
                + if flip_x {
                    f64::from(sx[0]) * (nx as f64 - 1.0)
                } else {
                    0.0
                }),
            -(f64::from(sy[3])
                + if flip_y {
                    f64::from(sy[1]) * (ny as f64 - 1.0)
                } else {
                    0.0
                }),
        ],
        slice_z_mm: (0..nz).map(|s| z0 + dz * s as f64).collect(),
        values,
    })
}
