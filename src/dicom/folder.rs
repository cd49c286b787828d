//! Reading a folder of DICOM files from disk (command line and tests; the browser gets
//! its files from the page).

use std::path::{Path, PathBuf};

use super::series::{self, Series};
use super::{DicomError, Instance};
use crate::volume::{self, Volume};

/// Every regular file under `folder`, recursively, in a stable (sorted) order.
/// Only the top folder must be readable: a subfolder that cannot be read is reported on
/// stderr and skipped, and linked folders are not followed (no loops).
pub fn list_files(folder: &Path) -> std::io::Result<Vec<PathBuf>> {
    if folder.is_file() {
        return Ok(vec![folder.to_path_buf()]);
    }
    let mut out = Vec::new();
    let mut pending = vec![folder.to_path_buf()];
    let mut top = true;
    while let Some(dir) = pending.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if top => return Err(e),
            Err(e) => {
                eprintln!("sarcoscope: skipped {}: {e}", dir.display());
                continue;
            }
        };
        top = false;
        for entry in entries.flatten() {
            let path = entry.path();
            match entry.file_type() {
                Ok(kind) if kind.is_dir() => pending.push(path),
                Ok(kind) if kind.is_file() => out.push(path),
                // A link to a file is read; a link to a folder is not followed.
                Ok(kind) if kind.is_symlink() && path.is_file() => out.push(path),
                _ => {}
            }
        }
    }
    out.sort();
    Ok(out)
}

/// A folder's chosen CT series: the volume, the series and the headers it refers to,
/// and the files that were left out and why.
pub struct LoadedCt {
    pub volume: Volume,
    pub series: Series,
    pub instances: Vec<Instance>,
    pub failures: Vec<(PathBuf, DicomError)>,
}

/// The chosen CT series of a folder. Files that are not readable DICOM are skipped
/// (`inspect` lists them).
pub fn load_ct(folder: &Path) -> Result<LoadedCt, String> {
    let paths = list_files(folder).map_err(|e| format!("cannot read {}: {e}", folder.display()))?;
    let mut instances: Vec<Instance> = Vec::new();
    let mut sources: Vec<PathBuf> = Vec::new();
    for path in paths {
        if let Ok(instance) = std::fs::read(&path)
            .map_err(|e| DicomError::Unreadable(e.to_string()))
            .and_then(|bytes| super::read_instance(&bytes))
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
    let failures = failures
        .into_iter()
        .map(|f| (sources[f.file].clone(), f.error))
        .collect();
    Ok(LoadedCt {
        volume,
        series: ct.clone(),
        instances,
        failures,
    })
}
