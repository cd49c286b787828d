//! What a set of files holds: its studies and series, the CT series to open, and one
//! series made ready to decode on its own. The command line, the tests and the page all
//! go through here, so "which series, which files" is decided once.

use serde::{Deserialize, Serialize};

use crate::dicom::series::{self, Series, Study};
use crate::dicom::Instance;

/// A file's place in the list the user gave (a drop, a folder, the demo case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct FileIndex(pub usize);

/// A file's place among the files of one series sent to be decoded: the numbering a
/// [`SeriesFiles`]' slices use, which is not the user's ([`FileIndex`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct LocalFile(pub usize);

/// A series' place in a [`Catalogue`]: its study, then the series within that study.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeriesAt {
    pub study: usize,
    pub series: usize,
}

/// The studies of a set of files, their series referring to files by [`FileIndex`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Catalogue {
    pub studies: Vec<Study>,
    /// The series body composition should be measured on (see [`series::choose_ct`]).
    pub chosen: Option<SeriesAt>,
}

impl Catalogue {
    /// `headers[i]` is file i's header, `None` for a file that is not readable DICOM
    /// (it is listed as a problem elsewhere and belongs to no series).
    pub fn build(headers: &[Option<Instance>]) -> Catalogue {
        let (instances, files): (Vec<Instance>, Vec<usize>) = headers
            .iter()
            .enumerate()
            .filter_map(|(i, h)| h.clone().map(|h| (h, i)))
            .unzip();
        let mut studies = series::build(&instances);
        let chosen = series::choose_ct(&studies, &instances)
            .map(|(study, series)| SeriesAt { study, series });
        // Built from the readable files only; from here on files are the user's.
        series::renumber_files(&mut studies, &files);
        Catalogue { studies, chosen }
    }

    pub fn series(&self, at: SeriesAt) -> Option<&Series> {
        self.studies.get(at.study)?.series.get(at.series)
    }

    /// The chosen series with its own files, `headers` being those the catalogue was
    /// built from: what the page opens once the headers are in, and so what the decoding
    /// worker starts decoding before the page asks (`decode_ahead`).
    pub fn opened(&self, headers: &[Option<Instance>]) -> Option<SeriesFiles> {
        SeriesFiles::of(self.series(self.chosen?)?, headers)
    }
}

/// One series with only its own files: its slices refer to `files` by [`LocalFile`]
/// (in file order), and `instances[k]` is the header of `files[k]` — what
/// [`crate::volume::load`] takes, and what a DICOM SEG needs to name its source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesFiles {
    pub series: Series,
    pub instances: Vec<Instance>,
    pub files: Vec<FileIndex>,
}

impl SeriesFiles {
    /// `series` of a [`Catalogue`] built from `headers`; `None` if a slice names a file
    /// without a header (the catalogue was built from other headers).
    pub fn of(series: &Series, headers: &[Option<Instance>]) -> Option<SeriesFiles> {
        let mut files: Vec<usize> = series.slices.iter().map(|s| s.file).collect();
        files.sort_unstable();
        files.dedup();
        let instances = files
            .iter()
            .map(|&f| headers.get(f).cloned().flatten())
            .collect::<Option<Vec<Instance>>>()?;
        let mut series = series.clone();
        for slice in &mut series.slices {
            slice.file = files.binary_search(&slice.file).ok()?;
        }
        Some(SeriesFiles {
            series,
            instances,
            files: files.into_iter().map(FileIndex).collect(),
        })
    }

    /// The header and frame behind the series' slice `slice` (most inferior first, as the
    /// volume is stacked), with that frame's ImagePositionPatient.
    pub fn slice_source(&self, slice: usize) -> Option<(&Instance, u32, Option<[f64; 3]>)> {
        let r = self.series.slices.get(slice)?;
        let inst = self.instances.get(r.file)?;
        let geometry = inst
            .frame_geometry
            .get(r.frame as usize)
            .or(inst.frame_geometry.last());
        Some((inst, r.frame, geometry.and_then(|g| g.position)))
    }

    /// The user's file behind local file `local`.
    pub fn file(&self, local: LocalFile) -> Option<FileIndex> {
        self.files.get(local.0).copied()
    }
}
