//! Reading a folder of DICOM files from disk (command line and tests; the browser gets
//! its files from the page).

use std::path::{Path, PathBuf};

use super::catalogue::{Catalogue, SeriesFiles};
use crate::dicom::{self, DicomError, Instance};
use crate::volume::{self, Volume, VolumeError};

/// Why a folder gave no CT volume.
#[derive(Debug, thiserror::Error)]
pub enum FolderError {
    #[error("cannot read {}", .folder.display())]
    Unreadable {
        folder: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("no CT image series was found in {}", .0.display())]
    NoCtSeries(PathBuf),
    #[error("the CT series of {} cannot be shown", .folder.display())]
    Volume {
        folder: PathBuf,
        #[source]
        source: VolumeError,
    },
}

/// The files of a folder, and the subfolders that could not be read (the rest of the
/// folder is still read; the caller says which were skipped).
#[derive(Debug, Default)]
pub struct FileList {
    pub files: Vec<PathBuf>,
    pub skipped: Vec<(PathBuf, std::io::Error)>,
}

/// Every regular file under `folder`, recursively, in a stable (sorted) order.
/// Only the top folder must be readable: a subfolder that cannot be read is listed in
/// [`FileList::skipped`], and linked folders are not followed (no loops).
pub fn list_files(folder: &Path) -> Result<FileList, FolderError> {
    let mut list = FileList::default();
    if folder.is_file() {
        list.files.push(folder.to_path_buf());
        return Ok(list);
    }
    let mut pending = vec![folder.to_path_buf()];
    let mut top = true;
    while let Some(dir) = pending.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(source) if top => {
                return Err(FolderError::Unreadable {
                    folder: dir,
                    source,
                })
            }
            Err(e) => {
                list.skipped.push((dir, e));
                continue;
            }
        };
        top = false;
        for entry in entries.flatten() {
            let path = entry.path();
            match entry.file_type() {
                Ok(kind) if kind.is_dir() => pending.push(path),
                Ok(kind) if kind.is_file() => list.files.push(path),
                // A link to a file is read; a link to a folder is not followed.
                Ok(kind) if kind.is_symlink() && path.is_file() => list.files.push(path),
                _ => {}
            }
        }
    }
    list.files.sort();
    Ok(list)
}

/// A file's header ([`dicom::read_header`]: from its first bytes when they hold it, as
/// the browser's decoding worker does).
pub fn read_header(path: &Path) -> Result<Instance, DicomError> {
    use std::io::Read as _;
    let unreadable = |e: std::io::Error| DicomError::Unreadable(e.to_string());
    dicom::read_header(
        |bytes| {
            let mut prefix = Vec::with_capacity(bytes);
            std::fs::File::open(path)
                .and_then(|f| f.take(bytes as u64).read_to_end(&mut prefix))
                .map_err(unreadable)?;
            Ok(prefix)
        },
        || std::fs::read(path).map_err(unreadable),
    )
}

/// A folder's chosen CT series: the volume, the series with its own files' headers,
/// and the files that were left out and why.
pub struct LoadedCt {
    pub volume: Volume,
    pub files: SeriesFiles,
    pub failures: Vec<(PathBuf, DicomError)>,
    /// Subfolders that could not be read.
    pub skipped: Vec<(PathBuf, std::io::Error)>,
}

/// The chosen CT series of a folder. Files that are not readable DICOM are skipped
/// (`inspect` lists them).
pub fn load_ct(folder: &Path) -> Result<LoadedCt, FolderError> {
    let FileList {
        files: paths,
        skipped,
    } = list_files(folder)?;
    let headers: Vec<Option<Instance>> = paths.iter().map(|p| read_header(p).ok()).collect();
    let catalogue = Catalogue::build(&headers);
    let no_ct = || FolderError::NoCtSeries(folder.to_path_buf());
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
    .map_err(|source| FolderError::Volume {
        folder: folder.to_path_buf(),
        source,
    })?;
    let failures = failures
        .into_iter()
        .map(|f| (path_of(f.file), f.error))
        .collect();
    Ok(LoadedCt {
        volume,
        files,
        failures,
        skipped,
    })
}
