//! `sarcoscope l3 <folder> [--json]`: the L3 slice of the folder's CT series, with the
//! vertebrae found and the evidence, as the browser app computes it.

use std::path::Path;

use sarcoscope::ingest::folder::{self, FolderError, LoadedCt};
use sarcoscope::l3::{self, L3Status};

/// The folder's CT series as a volume; files and folders left out are named on stderr.
pub fn load_reporting(folder: &Path) -> Result<LoadedCt, FolderError> {
    let loaded = folder::load_ct(folder)?;
    super::report_skipped(&loaded.skipped);
    for (path, error) in &loaded.failures {
        eprintln!("sarcoscope: {} was left out: {error}", path.display());
    }
    Ok(loaded)
}

pub fn l3(folder: &Path, json: bool) -> Result<(), super::Failure> {
    let volume = load_reporting(folder)?.volume;
    let found = l3::locate(&volume);
    if json {
        let text = serde_json::to_string_pretty(&found)?;
        out!("{text}");
        return Ok(());
    }
    let status = match found.status {
        L3Status::Found => "found",
        L3Status::Uncertain => "uncertain — please check and choose the slice",
        L3Status::NotInScan => "not in this scan",
    };
    match (found.slice_index, found.z_mm) {
        (Some(slice), Some(z)) => out!(
            "L3: slice {slice} of {} (from the most inferior), {z:.1} mm — {status}, confidence {:.2}",
            volume.header.slices, found.confidence
        ),
        _ => out!("L3: {status}"),
    }
    for v in &found.vertebrae {
        out!(
            "  {:<4} slices {}–{}, centre {:.1} mm",
            v.name,
            v.slice_first,
            v.slice_last,
            v.z_mm_centre
        );
    }
    for note in &found.evidence.notes {
        out!("  · {note}");
    }
    Ok(())
}
