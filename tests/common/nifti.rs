//! A NIfTI-1 writer for tests: label maps written from the format's layout, independent
//! of the reader under test (`sarcoscope::nifti`). Shared by the agreement tests and the
//! fuzzing seeds (`tests/fuzz/targets.rs` includes this file by path).

/// A NIfTI-1 label map (u8) of `slices` planes with an axis-aligned sform that puts
/// column and row indices as DICOM has them (towards the patient's left and back) and
/// plane k at `z0 + k × dz`, written from the format's layout.
pub fn labels(
    columns: usize,
    rows: usize,
    mm: f64,
    origin: [f64; 2],
    z0: f64,
    dz: f64,
    planes: &[Vec<u8>],
) -> Vec<u8> {
    let mut b = vec![0u8; 352];
    let put_i16 =
        |b: &mut Vec<u8>, at: usize, v: i16| b[at..at + 2].copy_from_slice(&v.to_le_bytes());
    let put_f32 = |b: &mut Vec<u8>, at: usize, v: f64| {
        b[at..at + 4].copy_from_slice(&(v as f32).to_le_bytes())
    };
    b[0..4].copy_from_slice(&348i32.to_le_bytes());
    for (k, d) in [3, columns, rows, planes.len(), 1, 1, 1, 1]
        .into_iter()
        .enumerate()
    {
        put_i16(&mut b, 40 + 2 * k, d as i16);
    }
    put_i16(&mut b, 70, 2); // unsigned 8-bit
    put_i16(&mut b, 72, 8);
    for (k, v) in [1.0, mm, mm, dz].into_iter().enumerate() {
        put_f32(&mut b, 76 + 4 * k, v);
    }
    put_f32(&mut b, 108, 352.0); // voxels start after the header and 4 extension bytes
    put_i16(&mut b, 254, 1); // sform set
    let rows_of_affine = [
        // RAS: x and y run against DICOM's LPS, so the origin's signs flip.
        [-mm, 0.0, 0.0, -origin[0]],
        [0.0, -mm, 0.0, -origin[1]],
        [0.0, 0.0, dz, z0],
    ];
    for (r, row) in rows_of_affine.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            put_f32(&mut b, 280 + 16 * r + 4 * c, *v);
        }
    }
    b[344..348].copy_from_slice(b"n+1\0");
    for plane in planes {
        b.extend_from_slice(plane);
    }
    b
}
