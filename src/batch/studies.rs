//! From every file under a root folder to the studies a cohort is made of: the
//! readable headers grouped by StudyInstanceUID, each study's CT series chosen with the
//! single-patient view's rules, and each study placed in the folder that holds it.

use std::collections::BTreeMap;

use crate::dicom::series::SeriesKind;
use crate::dicom::Instance;
use crate::ingest::{Catalogue, FileIndex, SeriesFiles};

/// One study of the archive.
#[derive(Debug, Clone, PartialEq)]
pub struct Study {
    pub study_uid: String,
    /// The folder holding all of its files, relative to the root ("" for the root).
    pub folder: String,
    /// PatientID and StudyDate of its first file that has them, for the key table only.
    pub patient_id: String,
    pub study_date: String,
    /// Its readable files.
    pub files: Vec<FileIndex>,
    /// The CT series measured, or what the study holds instead (its modalities).
    pub ct: Result<SeriesFiles, String>,
}

impl Study {
    /// What tells the study apart in a run: its UID, or, for files without one, the
    /// folder they are in (files of different folders without a UID are not merged).
    pub fn key(&self) -> String {
        super::keys::KeyRow::of("", Some(self), &self.folder).study_key()
    }
}

/// The studies of an archive whose files are `names` (paths relative to the root, `/`
/// between folders) with headers `headers` (`None`: not readable DICOM), ordered by
/// folder then UID so that a run over the same archive meets them in the same order.
pub fn group(names: &[String], headers: &[Option<Instance>]) -> Vec<Study> {
    // Each study's files, once: by UID, or by folder for files without one.
    let mut members: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, h) in headers.iter().enumerate() {
        if let Some(h) = h {
            let key = if h.study_uid.is_empty() {
                format!("folder:{}", parent(&names[i]))
            } else {
                h.study_uid.clone()
            };
            members.entry(key).or_default().push(i);
        }
    }
    let mut studies: Vec<Study> = members
        .into_values()
        .map(|files| {
            // The study's headers alone, so that the CT choice is made within the
            // study; the catalogue numbers them 0.., mapped back to the archive's files.
            let own: Vec<Option<Instance>> = files.iter().map(|&i| headers[i].clone()).collect();
            let catalogue = Catalogue::build(&own);
            let ct = catalogue
                .chosen
                .and_then(|at| catalogue.series(at))
                .and_then(|series| SeriesFiles::of(series, &own))
                .map(|mut ct| {
                    for f in &mut ct.files {
                        *f = FileIndex(files[f.0]);
                    }
                    for f in &mut ct.series.files {
                        *f = files[*f];
                    }
                    ct
                })
                .ok_or_else(|| holdings(&catalogue));
            let first = |f: fn(&Instance) -> Option<&String>| {
                own.iter()
                    .flatten()
                    .find_map(f)
                    .cloned()
                    .unwrap_or_default()
            };
            Study {
                study_uid: first(|h| Some(&h.study_uid)),
                patient_id: first(|h| h.patient_id.as_ref()),
                study_date: first(|h| h.acquisition.study_date.as_ref()),
                folder: common_folder(files.iter().map(|&i| names[i].as_str())),
                files: files.into_iter().map(FileIndex).collect(),
                ct,
            }
        })
        .collect();
    studies.sort_by(|a, b| {
        (a.folder.as_str(), a.study_uid.as_str()).cmp(&(b.folder.as_str(), b.study_uid.as_str()))
    });
    studies
}

/// What a study without a CT series holds, for its row's reason: each modality, and
/// for CT files why they cannot be measured (else "it holds CT" would puzzle).
fn holdings(catalogue: &Catalogue) -> String {
    let mut found: Vec<String> = catalogue
        .studies
        .iter()
        .flat_map(|s| &s.series)
        .map(|series| {
            let modality = if series.modality.is_empty() {
                "files without a modality"
            } else {
                series.modality.as_str()
            };
            match series.kind {
                _ if modality != "CT" => modality.to_owned(),
                SeriesKind::NoImage => "CT files without an image".to_owned(),
                SeriesKind::Localizer => "a CT localizer".to_owned(),
                SeriesKind::SecondaryCapture => "CT secondary captures".to_owned(),
                _ => "CT images that form no stack of slices".to_owned(),
            }
        })
        .collect();
    found.sort_unstable();
    found.dedup();
    if found.is_empty() {
        "files without a modality".into()
    } else {
        found.join(", ")
    }
}

/// The folders under the root that hold files of which none is readable DICOM (and
/// no readable file either): each becomes a failed row rather than vanishing. A folder
/// holding a file for which `index` is true (a DICOMDIR: it lists the images of the
/// folders below, which are read where they lie) is the top of DICOM media, not
/// unreadable, whatever else lies beside the index (a README).
pub fn unreadable_folders(
    names: &[String],
    headers: &[Option<Instance>],
    index: impl Fn(usize) -> bool,
) -> Vec<String> {
    let folder = |name: &str| parent(name).to_owned();
    let mut readable: Vec<String> = (0..names.len())
        .filter(|&i| headers[i].is_some() || index(i))
        .map(|i| folder(&names[i]))
        .collect();
    readable.sort_unstable();
    readable.dedup();
    let mut out: Vec<String> = (0..names.len())
        .filter(|&i| headers[i].is_none())
        .map(|i| folder(&names[i]))
        .filter(|f| readable.binary_search(f).is_err())
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

fn parent(name: &str) -> &str {
    name.rfind('/').map_or("", |k| &name[..k])
}

/// The deepest folder that holds all of `names`.
fn common_folder<'a>(mut names: impl Iterator<Item = &'a str>) -> String {
    let Some(first) = names.next() else {
        return String::new();
    };
    let mut common: Vec<&str> = parent(first).split('/').collect();
    for name in names {
        let parts: Vec<&str> = parent(name).split('/').collect();
        let same = common
            .iter()
            .zip(&parts)
            .take_while(|(a, b)| a == b)
            .count();
        common.truncate(same);
    }
    common.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(study: &str, series: &str, modality: &str) -> Option<Instance> {
        Some(Instance {
            study_uid: study.into(),
            series_uid: series.into(),
            modality: modality.into(),
            ..Instance::default()
        })
    }

    #[test]
    fn studies_are_grouped_placed_and_ordered_and_unreadable_folders_are_kept() {
        let names: Vec<String> = [
            "b/s1/1.dcm",
            "b/s1/2.dcm",
            "a/x/1.dcm",
            "a/y/2.dcm",
            "broken/1.dcm",
            "b/s1/notes.txt",
        ]
        .map(String::from)
        .to_vec();
        let headers = vec![
            header("2.1", "2.1.1", "MR"),
            header("2.1", "2.1.1", "MR"),
            header("1.1", "1.1.1", "SR"),
            header("1.1", "1.1.1", "SR"),
            None,
            None,
        ];
        let studies = group(&names, &headers);
        let placed: Vec<(&str, &str)> = studies
            .iter()
            .map(|s| (s.folder.as_str(), s.study_uid.as_str()))
            .collect();
        assert_eq!(placed, [("a", "1.1"), ("b/s1", "2.1")]);
        assert_eq!(studies[1].files, [FileIndex(0), FileIndex(1)]);
        assert_eq!(studies[0].ct, Err("SR".to_string()));
        assert_eq!(unreadable_folders(&names, &headers, |_| false), ["broken"]);
        // A folder holding a DICOMDIR index is not unreadable.
        assert!(unreadable_folders(&names, &headers, |i| i == 4).is_empty());
    }

    #[test]
    fn a_study_of_ct_files_without_images_says_so() {
        // As on DICOMDIR test media: CT headers whose pixel data was stripped.
        let names: Vec<String> = ["m/1", "m/2"].map(String::from).to_vec();
        let headers = vec![header("4.1", "4.1.1", "CT"), header("4.1", "4.1.1", "CT")];
        let studies = group(&names, &headers);
        assert_eq!(studies[0].ct, Err("CT files without an image".to_string()));
    }

    #[test]
    fn files_without_a_study_uid_are_grouped_by_folder_not_merged() {
        let names: Vec<String> = ["x/1.dcm", "x/2.dcm", "y/1.dcm"].map(String::from).to_vec();
        let headers = vec![
            header("", "s1", "CT"),
            header("", "s1", "CT"),
            header("", "s2", "CT"),
        ];
        let studies = group(&names, &headers);
        let keys: Vec<String> = studies.iter().map(Study::key).collect();
        assert_eq!(keys, ["folder:x", "folder:y"]);
        assert_eq!(studies[0].files.len(), 2);
    }
}
