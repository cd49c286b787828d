//! `sarcoscope l3 <folder> [--json]`: the L3 slice of the folder's CT series, with the
//! vertebrae found and the evidence, as the browser app computes it.

use std::path::{Path, PathBuf};

use sarcoscope::dicom::{self, series, DicomError, Instance};
use sarcoscope::l3::{self, L3Status};
use sarcoscope::volume;

pub fn l3(folder: &Path, json: bool) -> Result<(), String> {
    let paths =
        super::list_files(folder).map_err(|e| format!("cannot read {}: {e}", folder.display()))?;
    let mut instances: Vec<Instance> = Vec::new();
    let mut sources: Vec<PathBuf> = Vec::new();
    for path in paths {
        // Files that are not readable DICOM are skipped here; `inspect` lists them.
        if let Ok(instance) = std::fs::read(&path)
            .map_err(|e| DicomError::Unreadable(e.to_string()))
            .and_then(|bytes| dicom::read_instance(&bytes))
        {
            instances.push(instance);
            sources.push(path);
        }
    }
    let studies = series::build(&instances);
    let (study, chosen) = series::choose_ct(&studies, &instances)
        .ok_or_else(|| format!("no CT image series was found in {}", folder.display()))?;
    let ct = &studies[study].series[chosen];
    let (volume, failures) = volume::load(
        ct,
        &instances,
        |i| std::fs::read(&sources[i]).map_err(|e| DicomError::Unreadable(e.to_string())),
        |_, _| {},
    )
    .map_err(|e| e.to_string())?;
    for failure in &failures {
        eprintln!(
            "sarcoscope: {} was left out: {}",
            sources[failure.file].display(),
            failure.error
        );
    }
    let found = l3::locate(&volume);
    if json {
        let text = serde_json::to_string_pretty(&found).map_err(|e| e.to_string())?;
        println!("{text}");
        return Ok(());
    }
    let status = match found.status {
        L3Status::Found => "found",
        L3Status::Uncertain => "uncertain — please check and choose the slice",
        L3Status::NotInScan => "not in this scan",
    };
    match (found.slice_index, found.z_mm) {
        (Some(slice), Some(z)) => println!(
            "L3: slice {slice} of {} (from the most inferior), {z:.1} mm — {status}, confidence {:.2}",
            volume.header.slices, found.confidence
        ),
        _ => println!("L3: {status}"),
    }
    for v in &found.vertebrae {
        println!(
            "  {:<4} slices {}–{}, centre {:.1} mm",
            v.name, v.slice_first, v.slice_last, v.z_mm_centre
        );
    }
    for note in &found.evidence.notes {
        println!("  · {note}");
    }
    Ok(())
}
