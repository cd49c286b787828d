//! Reading a folder of DICOM files from disk (command line and tests; the browser gets
//! its files from the page).

use std::path::{Path, PathBuf};

use super::catalogue::{Catalogue, SeriesFiles};
use crate::dicom::{self, DicomError, Instance};
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

/// A folder's chosen CT series: the volume, the series with its own files' headers,
/// and the files that were left out and why.
pub struct LoadedCt {
    pub volume: Volume,
    pub files: SeriesFiles,
    pub failures: Vec<(PathBuf, DicomError)>,
}

/// The chosen CT series of a folder. Files that are not readable DICOM are skipped
/// (`inspect` lists them).
pub fn load_ct(folder: &Path) -> Result<LoadedCt, String> {
    let paths = list_files(folder).map_err(|e| format!("cannot read {}: {e}", folder.display()))?;
    let headers: Vec<Option<Instance>> = paths
        .iter()
        .map(|path| {
            std::fs::read(path)
                .map_err(|e| DicomError::Unreadable(e.to_string()))
                .and_then(|bytes| dicom::read_instance(&bytes))
                .ok()
        })
        .collect();
    let catalogue = Catalogue::build(&headers);
    let no_ct = || format!("no CT image series was found in {}", folder.display());
    let ct = catalogue
        .chosen
        .and_then(|at| catalogue.series(at))
        .ok_or_else(no_ct)?;
    let files = SeriesFiles::of(ct, &headers).ok_or_else(no_ct)?;
    let path_of = |local: usize| paths[files.files[local].0].clone();
    let (volume, failures) = volume::load(
        &files.series,
        &files.instances,
        |i| std::fs::read(path_of(i)).map_err(|e| DicomError::Unreadable(e.to_string())),
        |_, _| {},
    )
    .map_err(|e| e.to_string())?;
    let failures = failures
        .into_iter()
        .map(|f| (path_of(f.file), f.error))
        .collect();
    Ok(LoadedCt {
        volume,
        files,
        failures,
    })
}
