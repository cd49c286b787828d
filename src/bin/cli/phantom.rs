//! `sarcoscope phantom <out>`: writes a synthetic CT series (the demo case's generator)
//! as DICOM files, for benchmarks and for trying the app without patient data.

use std::path::Path;

use sarcoscope::phantom::{Grid, Phantom, PhantomParams};
use sarcoscope::units::Millimetres;

use super::write_file;

#[derive(clap::Args)]
pub struct Options {
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    #[arg(long, default_value_t = 192)]
    pub columns: usize,
    #[arg(long, default_value_t = 192)]
    pub rows: usize,
    #[arg(long, default_value_t = 64)]
    pub slices: usize,
    /// In-plane pixel spacing (mm).
    #[arg(long, default_value_t = 1.8)]
    pub pixel_mm: f64,
    /// Slice spacing and thickness (mm).
    #[arg(long, default_value_t = 4.0)]
    pub slice_mm: f64,
    /// Arms beside the trunk, this far (mm) from the flank (0: touching); none without.
    #[arg(long)]
    pub arms_gap_mm: Option<f64>,
}

pub fn write(out: &Path, options: &Options) -> Result<(), super::Failure> {
    let size_ok = (1..=65_535).contains(&options.columns)
        && (1..=65_535).contains(&options.rows)
        && options.slices >= 1
        && options
            .columns
            .checked_mul(options.rows)
            .and_then(|n| n.checked_mul(options.slices))
            .is_some_and(|n| n <= sarcoscope::volume::MAX_VOXELS);
    if !size_ok {
        return Err(
            "columns and rows must be 1–65535, slices at least 1, and the volume at most 1.5 GB"
                .into(),
        );
    }
    let spacing_ok = |mm: f64| mm.is_finite() && mm > 0.0;
    if !spacing_ok(options.pixel_mm) || !spacing_ok(options.slice_mm) {
        return Err("--pixel-mm and --slice-mm must be positive numbers of millimetres".into());
    }
    let params = PhantomParams {
        seed: options.seed,
        grid: Grid {
            columns: options.columns,
            rows: options.rows,
            slices: options.slices,
            pixel_spacing: Millimetres(options.pixel_mm),
            slice_spacing: Millimetres(options.slice_mm),
        },
        arms_gap_mm: options.arms_gap_mm,
        ..PhantomParams::default()
    };
    let phantom = Phantom::generate(&params);
    let files = phantom.dicom_files()?;
    std::fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    for (k, bytes) in files.iter().enumerate() {
        let path = out.join(format!("slice{k:04}.dcm"));
        write_file(&path, bytes)?;
    }
    let l3 = phantom
        .l3_slice()
        .map(|s| s.to_string())
        .unwrap_or_else(|| "outside the series".into());
    out!(
        "{} slices of {}×{} written to {} (synthetic, not a patient); L3 centre: slice {l3}",
        files.len(),
        options.columns,
        options.rows,
        out.display()
    );
    Ok(())
}
