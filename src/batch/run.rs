//! A cohort run as the browser drives it: a state machine without browser types (as
//! [`crate::ingest::Ingest`] is for one study), so that its order — every header, then
//! each study's volume, then its slice's mask — and every failure on the way are
//! tested natively. The page sends what each [`Next`] asks of its workers and hands
//! their answers back; each study ends as one [`Row`], measured or failed.

use super::codes::CaseCodes;
use super::keys::KeyRow;
use super::masks::MaskFiles;
use super::reopen::Reopened;
use super::row::{self, Outcome, Row};
use super::studies::{group, unreadable_folders, Study};
use super::{finish, LevelStatus, Prepared, Settings, StudyError, StudySlice};
use crate::dicom::series::Series;
use crate::dicom::{DicomError, Instance};
use crate::ingest::{FileIndex, SeriesFiles};
use crate::report::{CaseReport, SegmentationFacts};
use crate::segment::TissueMask;

/// A study's place in the run (its row's place too). Several studies may be decoded at
/// once, each by its own worker: the page hands the place back with the worker's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Turn(pub usize);

/// What the page should ask its workers next.
#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    /// Read the header of every file (a decoding worker).
    Headers,
    /// Decode study `turn`'s CT series, whose slices refer to `files` in this order (an
    /// idle decoding worker).
    Volume {
        turn: Turn,
        series: Box<Series>,
        instances: Vec<Instance>,
        files: Vec<FileIndex>,
    },
    /// Segment this slice (the segmentation worker).
    Segment {
        slice: usize,
        columns: usize,
        rows: usize,
        pixel_spacing: [f64; 2],
        hu: Vec<i16>,
    },
    /// Nothing new to ask: the workers are on it (the decoding workers read the next
    /// studies ahead while this one is segmented, see [`Run::read_ahead`]).
    Pending,
    /// Every study has its row.
    Done,
}

/// A study whose volume was asked of a decoding worker, kept until its turn: the workers
/// decode the next studies while the one under way is segmented — each on its own core —
/// and rows are still made in the archive's order.
struct Asked {
    turn: usize,
    since_ms: f64,
    /// The HU bytes its volume holds, from its headers, counted against
    /// [`VOLUME_BUDGET_BYTES`] from the moment it is asked for.
    bytes: usize,
    /// The worker's answer, once it is in.
    answer: Option<Result<StudySlice, StudyError>>,
}

/// The HU of the volumes a run holds or has asked for at once (the study being segmented,
/// those decoded ahead and those being decoded) stay within this, however many decoding
/// workers there are: a 300-slice 512² study is 157 MB, so six are in flight; a
/// 1,000-slice one (524 MB) goes with one other at most. A study larger than the budget
/// is still read, alone, in its turn.
pub const VOLUME_BUDGET_BYTES: usize = 1 << 30;

/// A study of the run, or a folder of files none of which was readable.
enum Work {
    Study(Box<Study>),
    Unreadable(String),
}

impl Work {
    fn key(&self) -> String {
        match self {
            Work::Study(s) => s.key(),
            Work::Unreadable(folder) => format!("folder:{folder}"),
        }
    }

    fn folder(&self) -> &str {
        match self {
            Work::Study(s) => &s.folder,
            Work::Unreadable(folder) => folder,
        }
    }
}

/// A run's progress as the browser keeps it (IndexedDB) after every study, so that a
/// reload, or a crash of the tab, resumes where it stopped: which archive (a digest of
/// its file names), under which cut-offs, the studies that have their row, and the rows.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Saved {
    pub archive: String,
    pub cutoffs: (String, String),
    pub finished: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// The key table of the studies with a row: it stays in this browser with the rows
    /// (downloaded only on request; a clinical table kept by PatientID joins through it).
    #[serde(default)]
    pub keys: Vec<KeyRow>,
    /// The run's case codes (runs kept before codes could be typed were all `S0001`, …).
    #[serde(default)]
    pub codes: CaseCodes,
}

impl Saved {
    /// The kept rows, `None` unless every one has every column of `settings`' table.
    pub fn rows(&self, settings: Settings) -> Option<Vec<Row>> {
        let columns = row::names(settings);
        self.rows
            .iter()
            .map(|values| Row::from_values(&columns, values))
            .collect()
    }

    /// Whether this is the saved progress of a run over `names` under `settings`.
    pub fn belongs_to(&self, names: &[String], settings: Settings) -> bool {
        // Runs kept before the folder picker hashed the names in the folder input's order.
        let listed = || self.archive == crate::digest::sha256_hex(names.join("\n").as_bytes());
        (self.archive == archive_digest(names) || listed()) && self.cutoffs == cutoff_keys(settings)
    }
}

/// A digest of an archive's file names: the same folder chosen again gives the same,
/// whichever way it is chosen (the folder input and the folder picker list files in
/// orders of their own).
pub fn archive_digest(names: &[String]) -> String {
    let mut sorted: Vec<&str> = names.iter().map(String::as_str).collect();
    sorted.sort_unstable();
    crate::digest::sha256_hex(sorted.join("\n").as_bytes())
}

fn cutoff_keys(settings: Settings) -> (String, String) {
    (
        settings.smi_cutoffs.key().to_owned(),
        settings.myosteatosis_cutoffs.key().to_owned(),
    )
}

pub struct Run {
    names: Vec<String>,
    headers: Vec<Option<Instance>>,
    /// Files that are DICOMDIR indexes (they hold no image and are no study's).
    indexes: Vec<bool>,
    settings: Settings,
    /// Study `k` of `work` (from 0) is case `codes.code(k + 1)`.
    codes: CaseCodes,
    work: Vec<Work>,
    /// The study under way (an index into `work`), when did it start, and its volume
    /// once decoded.
    at: usize,
    started_ms: f64,
    prepared: Option<Prepared>,
    rows: Vec<Row>,
    /// The keys of the studies that have their row ([`Study::key`]).
    finished: Vec<String>,
    restored: usize,
    /// The key table kept with the restored rows, until the headers place every study.
    restored_keys: Vec<KeyRow>,
    /// When the headers were all in and the first study was asked for.
    measuring_since_ms: Option<f64>,
    /// The last measured study's mask as files, until the page takes them to keep.
    masks: Option<(String, Result<MaskFiles, StudyError>)>,
    /// The studies asked of the decoding workers that have not had their turn yet, in
    /// the order asked (the order of the run).
    asked: Vec<Asked>,
}

/// How fast a run goes: studies with a row per minute since the headers were read (this
/// session's only: rows kept from before a reload do not count), and the time left at
/// that rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pace {
    pub per_minute: f64,
    pub seconds_left: f64,
}

impl Run {
    /// A run over files named `names` (paths below the chosen folder), coding its studies
    /// with `codes`, or going on from `saved` when that is this archive's progress under
    /// the same cut-offs — then with the kept run's codes, whatever `codes` says: a
    /// study's code never changes.
    pub fn new(
        names: Vec<String>,
        settings: Settings,
        codes: CaseCodes,
        saved: Option<&Saved>,
    ) -> (Run, Next) {
        let headers = vec![None; names.len()];
        let indexes = vec![false; names.len()];
        let kept = saved
            .filter(|s| s.belongs_to(&names, settings))
            .and_then(|saved| {
                let rows = saved.rows(settings)?;
                (rows.len() == saved.finished.len()).then_some((rows, saved))
            });
        let (rows, finished, restored_keys, codes) = match kept {
            Some((rows, saved)) => (
                rows,
                saved.finished.clone(),
                saved.keys.clone(),
                saved.codes.clone(),
            ),
            None => (Vec::new(), Vec::new(), Vec::new(), codes),
        };
        let run = Run {
            names,
            headers,
            indexes,
            settings,
            codes,
            work: Vec::new(),
            at: 0,
            started_ms: 0.0,
            prepared: None,
            restored: rows.len(),
            restored_keys,
            rows,
            finished,
            measuring_since_ms: None,
            masks: None,
            asked: Vec::new(),
        };
        (run, Next::Headers)
    }

    /// What to keep so that the run can go on after a reload.
    pub fn saved(&self) -> Saved {
        Saved {
            archive: archive_digest(&self.names),
            cutoffs: cutoff_keys(self.settings),
            finished: self.finished.clone(),
            rows: self
                .rows
                .iter()
                .map(|r| r.values().into_iter().map(str::to_owned).collect())
                .collect(),
            keys: self.keys(),
            codes: self.codes.clone(),
        }
    }

    /// The case codes of this run (a kept run's own).
    pub fn codes(&self) -> &CaseCodes {
        &self.codes
    }

    /// The key table of the studies with a row ([`super::keys`]).
    pub fn keys(&self) -> Vec<KeyRow> {
        if self.work.is_empty() {
            return self.restored_keys.clone();
        }
        self.work
            .iter()
            .take(self.rows.len())
            .enumerate()
            .map(|(k, work)| {
                let code = self.codes.code(k + 1);
                match work {
                    Work::Study(s) => KeyRow::of(&code, Some(s), &s.folder),
                    Work::Unreadable(folder) => KeyRow::of(&code, None, folder),
                }
            })
            .collect()
    }

    /// Rows restored from a saved run (studies not measured again).
    pub fn restored(&self) -> usize {
        self.restored
    }

    /// The name (path below the chosen folder) of `file`.
    pub fn name(&self, file: FileIndex) -> Option<&str> {
        self.names.get(file.0).map(String::as_str)
    }

    pub fn on_header(&mut self, file: FileIndex, header: Result<Instance, DicomError>) {
        if let Some(index) = self.indexes.get_mut(file.0) {
            *index = header == Err(DicomError::Dicomdir);
        }
        if let Some(slot) = self.headers.get_mut(file.0) {
            *slot = header.ok();
        }
    }

    /// Every header is in: the studies are known, the first is asked for.
    pub fn on_headers_done(&mut self, now_ms: f64) -> Next {
        let studies = group(&self.names, &self.headers);
        let unreadable = unreadable_folders(&self.names, &self.headers, |i| self.indexes[i]);
        self.work = studies
            .into_iter()
            .map(|s| Work::Study(Box::new(s)))
            .chain(unreadable.into_iter().map(Work::Unreadable))
            .collect();
        self.at = 0;
        self.measuring_since_ms = Some(now_ms);
        self.begin(now_ms)
    }

    /// Asks for the study at `self.at`, writing the rows of those that need no worker.
    fn begin(&mut self, now_ms: f64) -> Next {
        self.prepared = None;
        self.started_ms = now_ms;
        while let Some(work) = self.work.get(self.at) {
            if self.finished.contains(&work.key()) {
                // Measured before a reload: its row is kept, not made again.
                self.at += 1;
                continue;
            }
            // Asked for ahead: its volume is in, or on its way.
            if let Some(k) = self.asked.iter().position(|a| a.turn == self.at) {
                self.started_ms = self.asked[k].since_ms;
                let Some(answer) = self.asked[k].answer.take() else {
                    return Next::Pending;
                };
                self.asked.remove(k);
                match answer {
                    Ok(slice) => return self.place(slice, now_ms),
                    Err(error) => {
                        self.fail(error, None, now_ms);
                        self.started_ms = now_ms;
                        continue;
                    }
                }
            }
            let error = match work {
                Work::Unreadable(_) => StudyError::Unreadable,
                Work::Study(study) => match &study.ct {
                    Ok(files) => {
                        let (next, bytes) = volume_request(self.at, files);
                        self.asked.push(Asked {
                            turn: self.at,
                            since_ms: now_ms,
                            bytes,
                            answer: None,
                        });
                        return next;
                    }
                    Err(holds) => StudyError::NoCt(holds.clone()),
                },
            };
            self.fail(error, None, now_ms);
        }
        Next::Done
    }

    fn code(&self) -> String {
        self.codes.code(self.at + 1)
    }

    fn series(&self) -> String {
        match self.work.get(self.at) {
            Some(Work::Study(s)) => {
                s.ct.as_ref()
                    .map_or(String::new(), |c| c.series.description.clone())
            }
            _ => String::new(),
        }
    }

    /// The study under way gets a failed row; the run moves on.
    fn fail(&mut self, error: StudyError, level: Option<LevelStatus>, now_ms: f64) {
        let series = self.series();
        let folder = self.work.get(self.at).map_or("", Work::folder);
        let outcome = Outcome {
            folder,
            level,
            series: &series,
            seconds: (now_ms - self.started_ms) / 1000.0,
        };
        let row = Row::failed(&self.code(), self.settings, &error, &outcome);
        self.rows.push(row);
        self.finish_study();
    }

    /// A decoding worker's measurement slice of study `turn`, cut from its volume after
    /// the L3 search: the study under way goes on to be segmented, one asked ahead is kept
    /// for its turn (an answer to a study not asked for is ignored).
    pub fn on_slice(&mut self, turn: Turn, slice: StudySlice, now_ms: f64) -> Next {
        self.on_answer(turn, Ok(slice), now_ms)
    }

    /// The next study to ask of an idle decoding worker, while fewer than `at_most`
    /// studies wait for their turn (the number of workers: more would only hold memory
    /// while segmentation is the slower stage) and what the run holds and has asked for
    /// stays within [`VOLUME_BUDGET_BYTES`] with it; `None` when there is no such study (or
    /// not yet: ask again after the next answer).
    pub fn read_ahead(&mut self, at_most: usize, now_ms: f64) -> Option<Next> {
        if self.asked.len() >= at_most {
            return None;
        }
        let prepared = self.prepared.as_ref().map_or(0, |p| p.hu.len() * 2);
        let held = prepared + self.asked.iter().map(|a| a.bytes).sum::<usize>();
        let after = self.asked.iter().map(|a| a.turn).fold(self.at, usize::max);
        let (turn, files) = self
            .work
            .iter()
            .enumerate()
            .skip(after + 1)
            .filter(|(_, w)| !self.finished.contains(&w.key()))
            .find_map(|(k, w)| match w {
                Work::Study(s) => s.ct.as_ref().ok().map(|files| (k, files)),
                Work::Unreadable(_) => None,
            })?;
        let (next, bytes) = volume_request(turn, files);
        if held + bytes > VOLUME_BUDGET_BYTES {
            return None;
        }
        self.asked.push(Asked {
            turn,
            since_ms: now_ms,
            bytes,
            answer: None,
        });
        Some(next)
    }

    /// A decoding worker could not read study `turn`'s volume (it refused the series,
    /// stopped on it, or died): a study asked ahead will say why in its row in its turn,
    /// the study under way says it now.
    pub fn on_decoder_failure(&mut self, turn: Turn, error: StudyError, now_ms: f64) -> Next {
        self.on_answer(turn, Err(error), now_ms)
    }

    /// Keeps a decoding worker's answer with its study; when the study is the one under
    /// way, [`Run::begin`] takes it at once, as it takes any answer kept for its turn.
    fn on_answer(
        &mut self,
        turn: Turn,
        answer: Result<StudySlice, StudyError>,
        now_ms: f64,
    ) -> Next {
        let Some(asked) = self.asked.iter_mut().find(|a| a.turn == turn.0) else {
            return Next::Pending;
        };
        asked.answer = Some(answer);
        if turn.0 == self.at {
            self.begin(now_ms)
        } else {
            Next::Pending
        }
    }

    /// The measurement slice of the study under way goes to be segmented.
    fn place(&mut self, slice: StudySlice, now_ms: f64) -> Next {
        let Some(Work::Study(study)) = self.work.get(self.at) else {
            return Next::Done;
        };
        let Ok(files) = study.ct.as_ref() else {
            return Next::Done;
        };
        match Prepared::new(slice, files) {
            Err(error) => {
                let level = matches!(error, StudyError::NoL3(_)).then_some(LevelStatus::NotInScan);
                self.fail(error, level, now_ms);
                self.begin(now_ms)
            }
            Ok(prepared) => {
                let next = match prepared.slice() {
                    Ok(slice) => Next::Segment {
                        slice: prepared.level.slice,
                        columns: slice.columns,
                        rows: slice.rows,
                        pixel_spacing: slice.pixel_spacing.map(|mm| mm.0),
                        hu: slice.hu.to_vec(),
                    },
                    Err(e) => {
                        self.fail(StudyError::Slice(e), Some(prepared.level_status()), now_ms);
                        return self.begin(now_ms);
                    }
                };
                self.prepared = Some(prepared);
                next
            }
        }
    }

    /// The segmentation worker could not do its part for the study under way (or the
    /// decoder for it, [`Run::on_decoder_failure`]): its row says why.
    pub fn on_failure(&mut self, error: StudyError, now_ms: f64) -> Next {
        let level = self.prepared.as_ref().map(|p| p.level_status());
        self.fail(error, level, now_ms);
        self.begin(now_ms)
    }

    /// The segmentation worker's mask of the study under way.
    pub fn on_mask(&mut self, mask: &TissueMask, facts: SegmentationFacts, now_ms: f64) -> Next {
        let Some(prepared) = self.prepared.take() else {
            return Next::Done;
        };
        let code = self.code();
        if let Some(Work::Study(study)) = self.work.get(self.at) {
            if let Ok(files) = &study.ct {
                // Dated by the page's clock (milliseconds since 1970).
                let made = MaskFiles::measured(
                    &prepared,
                    files,
                    mask,
                    &facts.model,
                    (now_ms / 1000.0) as i64,
                );
                self.masks = Some((code.clone(), made));
            }
        }
        match finish(&prepared, mask, facts, &code, self.settings) {
            Err(error) => self.fail(error, Some(prepared.level_status()), now_ms),
            Ok(report) => {
                let series = self.series();
                let folder = self.work.get(self.at).map_or("", Work::folder);
                let outcome = Outcome {
                    folder,
                    level: Some(prepared.level_status()),
                    series: &series,
                    seconds: (now_ms - self.started_ms) / 1000.0,
                };
                let row = Row::measured(&report, &outcome);
                self.rows.push(row);
                self.finish_study();
            }
        }
        self.begin(now_ms)
    }

    /// The mask of the study just measured, as files named by its case code (DICOM SEG
    /// and PNG), once: the page keeps them for the masks' ZIP.
    pub fn take_masks(&mut self) -> Option<(String, Result<MaskFiles, StudyError>)> {
        self.masks.take()
    }

    fn finish_study(&mut self) {
        if let Some(work) = self.work.get(self.at) {
            self.finished.push(work.key());
        }
        self.at += 1;
    }

    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    /// The study of row `code` (with a CT series) to open again in the Patient view, and
    /// every readable file of the study (so that its other series can be looked at too);
    /// `None` for a study without a CT series, or before the study has its row.
    pub fn reopen(&self, code: &str) -> Option<(Reopened, Vec<FileIndex>)> {
        // Row k is the row of work k, coded k + 1.
        let at = self.codes.number(code)?.checked_sub(1)?;
        let row = self
            .rows
            .get(at)
            .filter(|r| r.value("case") == Some(code))?;
        let Some(Work::Study(study)) = self.work.get(at) else {
            return None;
        };
        let ct = study.ct.as_ref().ok()?;
        let reopened = Reopened::of_row(row, &study.study_uid, &ct.series.series_uid);
        Some((reopened, study.files.clone()))
    }

    /// The codes of the studies [`Run::reopen`] can open.
    pub fn reopenable(&self) -> Vec<String> {
        self.rows
            .iter()
            .zip(&self.work)
            .filter(|(_, work)| matches!(work, Work::Study(s) if s.ct.is_ok()))
            .filter_map(|(row, _)| row.value("case").map(str::to_owned))
            .collect()
    }

    /// The reader's corrected measurement of a reopened study replaces its row (kept like
    /// any other row); `false` when this run's row of that code is another study's (the
    /// study was opened from another run) or there is none.
    pub fn revise(&mut self, reopened: &Reopened, report: &CaseReport) -> bool {
        let same = self.reopen(&reopened.code).is_some_and(|(r, _)| {
            r.study_uid == reopened.study_uid && r.series_uid == reopened.series_uid
        });
        if !same {
            return false;
        }
        let Some(row) = self
            .rows
            .iter_mut()
            .find(|r| r.value("case") == Some(reopened.code.as_str()))
        else {
            return false;
        };
        *row = reopened.revised(row, report);
        true
    }

    /// Studies with a row, of all studies (0 of 0 while headers are read).
    pub fn progress(&self) -> (usize, usize) {
        (self.rows.len(), self.work.len())
    }

    /// The pace at `now_ms`, once a study of this session has its row.
    pub fn pace(&self, now_ms: f64) -> Option<Pace> {
        let since = self.measuring_since_ms?;
        let done = self.rows.len().checked_sub(self.restored)?;
        let minutes = (now_ms - since) / 60_000.0;
        if done == 0 || minutes <= 0.0 {
            return None;
        }
        let per_minute = done as f64 / minutes;
        let left = self.work.len().saturating_sub(self.rows.len());
        Some(Pace {
            per_minute,
            seconds_left: left as f64 / per_minute * 60.0,
        })
    }

    /// The cohort table so far, header first (the same as `sarcoscope batch` writes).
    pub fn table(&self) -> String {
        row::table(self.settings, &self.rows)
    }
}

/// What asking for study `turn`'s CT series takes, and the HU bytes its volume will hold.
fn volume_request(turn: usize, files: &SeriesFiles) -> (Next, usize) {
    let bytes = files.instances.first().map_or(0, |i| {
        i.rows as usize * i.columns as usize * files.series.slices.len() * 2
    });
    let next = Next::Volume {
        turn: Turn(turn),
        series: Box::new(files.series.clone()),
        instances: files.instances.clone(),
        files: files.files.clone(),
    };
    (next, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::body::{MyosteatosisCutoffs, SmiCutoffs};
    use crate::phantom::{Phantom, PhantomParams};

    const SETTINGS: Settings = Settings {
        smi_cutoffs: SmiCutoffs::Carey2017,
        myosteatosis_cutoffs: MyosteatosisCutoffs::Ebadi2022,
    };

    fn facts() -> SegmentationFacts {
        SegmentationFacts {
            model: "the phantom's own labels".into(),
            ..SegmentationFacts::default()
        }
    }

    /// A phantom study with its DICOM files, then the names and headers of an archive
    /// holding it, an MR study and a text file.
    struct Archive(Phantom, Vec<Vec<u8>>, Vec<String>, Vec<Option<Instance>>);

    fn archive() -> Archive {
        let phantom = Phantom::generate(&PhantomParams::default());
        let bytes = phantom.dicom_files().expect("phantom files");
        let mut names: Vec<String> = (0..bytes.len())
            .map(|k| format!("a01/{k:03}.dcm"))
            .collect();
        let mut headers: Vec<Option<Instance>> = bytes
            .iter()
            .map(|b| crate::dicom::read_instance(b).ok())
            .collect();
        names.push("mr/1.dcm".into());
        headers.push(Some(Instance {
            study_uid: "9.9".into(),
            series_uid: "9.9.1".into(),
            modality: "MR".into(),
            ..Instance::default()
        }));
        names.push("notes/readme.txt".into());
        headers.push(None);
        Archive(phantom, bytes, names, headers)
    }

    #[test]
    fn each_study_ends_as_one_row_measured_or_failed_with_its_reason() {
        let Archive(phantom, bytes, names, headers) = archive();
        let (mut run, next) = Run::new(names.clone(), SETTINGS, CaseCodes::default(), None);
        assert_eq!(next, Next::Headers);
        read_headers(&mut run, &headers);
        let Next::Volume {
            turn,
            series,
            instances,
            files,
        } = run.on_headers_done(0.0)
        else {
            panic!("the phantom's series is asked for first");
        };
        let (volume, failures) = crate::volume::load(
            &series,
            &instances,
            |local| Ok(bytes[files[local].0].clone()),
            |_, _| {},
        )
        .expect("volume");
        let cut = StudySlice::of(volume, failures.len());
        let found = cut.found.clone().expect("the phantom is searched");
        let Next::Segment {
            slice,
            columns,
            rows,
            hu,
            ..
        } = run.on_slice(turn, cut, 1000.0)
        else {
            panic!("the L3 slice is sent to be segmented");
        };
        assert_eq!(Some(slice), found.slice_index);
        assert_eq!(hu.len(), columns * rows);
        let mask = phantom_mask(&phantom, slice, columns, rows);
        assert_eq!(run.pace(1000.0), None, "no study has its row yet");
        // The MR study and the text folder need no worker: the run is done.
        assert_eq!(run.on_mask(&mask, facts(), 3000.0), Next::Done);
        // The measured study's mask, once, as a DICOM SEG and a PNG named by its code.
        let (code, masks) = run.take_masks().expect("the phantom's mask");
        let masks = masks.expect("written");
        let kept = masks.named(&code).map(|(name, _)| name);
        assert_eq!(kept, ["S0001.seg.dcm", "S0001.png"]);
        assert_eq!(&masks.seg[128..132], b"DICM");
        assert_eq!(&masks.png[1..4], b"PNG");
        assert!(run.take_masks().is_none());
        let kept = kept.to_vec();
        use crate::batch::masks::without_masks;
        assert_eq!(without_masks(run.rows(), &kept[..1]), ["S0001"]);
        assert!(
            without_masks(run.rows(), &kept).is_empty(),
            "failed rows have none"
        );
        assert_eq!(run.progress(), (3, 3));
        // Three rows in the 3 s since the headers: 60 a minute, nothing left.
        assert_eq!(
            run.pace(3000.0),
            Some(Pace {
                per_minute: 60.0,
                seconds_left: 0.0
            })
        );
        let rows = run.rows();
        let value = |k: usize, name: &str| rows[k].value(name).unwrap_or_default().to_owned();
        assert_eq!(
            (value(0, "case"), value(0, "status")),
            ("S0001".into(), "measured".into())
        );
        assert_eq!(
            (value(0, "l3_status"), value(0, "seconds")),
            ("found".into(), "3.0".into())
        );
        assert!(value(0, "sma_cm2").parse::<f64>().is_ok_and(|a| a > 50.0));
        assert_eq!(
            value(1, "reason"),
            "no CT image series in this study (it holds MR)"
        );
        assert_eq!(
            value(2, "reason"),
            "no DICOM file in this folder could be read"
        );
        let table = run.table();
        assert_eq!(table.lines().count(), 4, "a header and a row per study");

        // Reloaded after the run: the same archive goes on from what was kept, and no
        // study is measured again; another archive, or other cut-offs, start afresh.
        let saved = run.saved();
        let keys: Vec<(&str, &str)> = saved
            .keys
            .iter()
            .map(|k| (k.case.as_str(), k.folder.as_str()))
            .collect();
        assert_eq!(
            keys,
            [("S0001", "a01"), ("S0002", "mr"), ("S0003", "notes")]
        );
        assert_eq!(saved.keys[0].study_key(), saved.finished[0]);
        let (mut again, _) = Run::new(names.clone(), SETTINGS, CaseCodes::default(), Some(&saved));
        assert_eq!(again.restored(), 3);
        assert_eq!(
            again.saved().keys,
            saved.keys,
            "kept until the headers are read"
        );
        let Archive(_, _, _, headers) = archive();
        read_headers(&mut again, &headers);
        assert_eq!(again.on_headers_done(0.0), Next::Done);
        assert_eq!(again.table(), table);
        let other = Settings {
            smi_cutoffs: SmiCutoffs::Martin2013,
            ..SETTINGS
        };
        assert_eq!(
            Run::new(names.clone(), other, CaseCodes::default(), Some(&saved))
                .0
                .restored(),
            0
        );
        let mut reordered = names.clone();
        reordered.reverse();
        assert_eq!(
            Run::new(reordered, SETTINGS, CaseCodes::default(), Some(&saved))
                .0
                .restored(),
            3,
            "the same folder listed in another order (the folder picker's)"
        );
        let fewer = names[1..].to_vec();
        assert_eq!(
            Run::new(fewer, SETTINGS, CaseCodes::default(), Some(&saved))
                .0
                .restored(),
            0
        );
    }

    /// Hands every header of an archive to `run`, as the decoding worker does (a file
    /// without one is not DICOM).
    fn read_headers(run: &mut Run, headers: &[Option<Instance>]) {
        for (k, h) in headers.iter().cloned().enumerate() {
            run.on_header(FileIndex(k), h.ok_or(DicomError::NotDicom));
        }
    }

    /// The phantom's own labels of `slice` as a mask: muscle, IMAT, VAT and SAT keep
    /// their numbers; bone and organs are background.
    fn phantom_mask(phantom: &Phantom, slice: usize, columns: usize, rows: usize) -> TissueMask {
        let labels = phantom.labels[slice * columns * rows..(slice + 1) * columns * rows]
            .iter()
            .map(|&l| if l <= 4 { l } else { 0 })
            .collect();
        TissueMask::from_labels(columns, rows, labels).expect("mask")
    }

    #[test]
    fn a_study_opened_again_and_corrected_gets_its_row_back_marked_reviewed() {
        use crate::batch::Measured;
        use crate::l3::L3Choice;
        use crate::report::ScanFacts;
        use crate::segment::AxialSlice;

        let Archive(phantom, bytes, names, headers) = archive();
        let (mut run, _) = Run::new(names.clone(), SETTINGS, CaseCodes::default(), None);
        read_headers(&mut run, &headers);
        let Next::Volume {
            turn,
            series,
            instances,
            files,
        } = run.on_headers_done(0.0)
        else {
            panic!("the phantom's series is asked for first");
        };
        let load = || {
            let read = |local: usize| Ok(bytes[files[local].0].clone());
            crate::volume::load(&series, &instances, read, |_, _| {})
                .expect("volume")
                .0
        };
        let cut = StudySlice::of(load(), 0);
        let found = cut.found.clone().expect("the phantom is searched");
        let Next::Segment {
            slice,
            columns,
            rows,
            ..
        } = run.on_slice(turn, cut, 0.0)
        else {
            panic!("the L3 slice is sent to be segmented");
        };
        let mask = phantom_mask(&phantom, slice, columns, rows);
        assert_eq!(run.on_mask(&mask, facts(), 1000.0), Next::Done);
        assert_eq!(run.reopenable(), ["S0001"]);
        assert_eq!(run.reopen("S0002"), None, "the MR study has no CT to open");
        assert_eq!(run.reopen("S0009"), None);

        let (reopened, study_files) = run.reopen("S0001").expect("the phantom study");
        assert_eq!(study_files.len(), bytes.len(), "every file of the study");
        assert_eq!(reopened.level, Some((slice, LevelStatus::Found)));
        assert_eq!(reopened.folder, "a01");
        let choice = reopened.choice(&found).expect("the row's level");
        assert_eq!(Some(choice.clone()), L3Choice::automatic(&found));

        // The reader erases the muscle of the upper half of the slice and saves.
        let mut labels = mask.labels().to_vec();
        let mut erased = 0;
        for l in &mut labels[..columns * rows / 2] {
            if *l == 1 {
                *l = 0;
                erased += 1;
            }
        }
        assert!(erased > 1000);
        let corrected = TissueMask::from_labels(columns, rows, labels).expect("mask");
        let volume = load();
        let first = &instances[0];
        let measured = Measured {
            slice: AxialSlice::of_volume(&volume, slice).expect("slice"),
            patient: &first.patient,
            scan: ScanFacts::new(&first.acquisition, &volume.header, Some(choice)),
        };
        let looked_at = SegmentationFacts {
            reviewed: true,
            edited_pixels: erased,
            ..facts()
        };
        let report = measured.report(&corrected, looked_at, &reopened.code, SETTINGS);
        let before = run.rows()[0].clone();
        let elsewhere = Reopened {
            study_uid: "another archive's study".into(),
            ..reopened.clone()
        };
        assert!(!run.revise(&elsewhere, &report), "another run's S0001");
        assert!(run.revise(&reopened, &report));
        let after = run.rows()[0].clone();
        assert_eq!(after.value("reviewed"), Some("yes"));
        assert_eq!(
            after.value("edited_pixels"),
            Some(erased.to_string().as_str())
        );
        let sma = |r: &Row| r.value("sma_cm2").and_then(|v| v.parse::<f64>().ok());
        assert!(
            sma(&after) < sma(&before),
            "{:?} {:?}",
            sma(&after),
            sma(&before)
        );
        for name in [
            "case",
            "status",
            "source_folder",
            "series",
            "seconds",
            "l3_status",
            "level_slice",
            "level_method",
            "slice_z_mm",
            "sex",
            "model",
        ] {
            assert_eq!(after.value(name), before.value(name), "{name}");
        }
        assert_eq!(before.value("reviewed"), Some("no"));
        // Kept like every row: a reload restores the corrected one.
        let (again, _) = Run::new(names, SETTINGS, CaseCodes::default(), Some(&run.saved()));
        assert_eq!(again.rows()[0], after);
    }

    #[test]
    fn a_run_stopped_after_its_first_study_goes_on_with_the_next() {
        let Archive(_, _, names, headers) = archive();
        let centre = CaseCodes::new("C1-").expect("prefix");
        let (mut run, _) = Run::new(names.clone(), SETTINGS, centre, None);
        read_headers(&mut run, &headers);
        assert!(matches!(run.on_headers_done(0.0), Next::Volume { .. }));
        let stopped = StudyError::Segmentation("the decoder stopped on this study".into());
        run.on_failure(stopped, 10.0);
        // Saved after the first study (the page saves after each): reloaded, the MR
        // and text folders are next, with their own codes — the kept run's prefix, not
        // the one typed now.
        let mut saved = run.saved();
        saved.finished.truncate(1);
        saved.rows.truncate(1);
        let typed = CaseCodes::new("X").expect("prefix");
        let (mut again, _) = Run::new(names, SETTINGS, typed, Some(&saved));
        assert_eq!(again.codes().prefix(), "C1-");
        read_headers(&mut again, &headers);
        assert_eq!(again.on_headers_done(20.0), Next::Done);
        let codes: Vec<&str> = again
            .rows()
            .iter()
            .filter_map(|r| r.value("case"))
            .collect();
        assert_eq!(codes, ["C1-0001", "C1-0002", "C1-0003"]);
        assert_eq!(
            again.rows()[0].value("reason"),
            run.rows()[0].value("reason")
        );
    }

    #[test]
    fn the_next_studies_are_read_while_one_is_segmented_and_rows_keep_the_archive_order() {
        // Phantom studies in a01, c01, d01 and e01, an MR study between the first two.
        let phantoms: Vec<(&str, Phantom)> = [("a01", 1), ("c01", 2), ("d01", 3), ("e01", 4)]
            .into_iter()
            .map(|(folder, seed)| {
                let params = PhantomParams {
                    seed,
                    ..PhantomParams::default()
                };
                (folder, Phantom::generate(&params))
            })
            .collect();
        let (mut names, mut bytes) = (Vec::new(), Vec::new());
        for (folder, phantom) in &phantoms {
            for (k, file) in phantom
                .dicom_files()
                .expect("files")
                .into_iter()
                .enumerate()
            {
                names.push(format!("{folder}/{k:03}.dcm"));
                bytes.push(file);
            }
        }
        let mut headers: Vec<Option<Instance>> = bytes
            .iter()
            .map(|b| crate::dicom::read_instance(b).ok())
            .collect();
        names.push("b-mr/1.dcm".into());
        bytes.push(Vec::new());
        headers.push(Some(Instance {
            study_uid: "9.9".into(),
            series_uid: "9.9.1".into(),
            modality: "MR".into(),
            ..Instance::default()
        }));
        let (mut run, _) = Run::new(names, SETTINGS, CaseCodes::default(), None);
        read_headers(&mut run, &headers);
        let load = |next: Next| {
            let Next::Volume {
                turn,
                series,
                instances,
                files,
            } = next
            else {
                panic!("a volume is asked for, not {next:?}");
            };
            let read = |local: usize| Ok(bytes[files[local].0].clone());
            let volume = crate::volume::load(&series, &instances, read, |_, _| {})
                .expect("volume")
                .0;
            (turn, StudySlice::of(volume, 0))
        };
        let mask_of = |phantom: &Phantom, next: &Next| {
            let Next::Segment {
                slice,
                columns,
                rows,
                ..
            } = *next
            else {
                panic!("a slice is sent to be segmented, not {next:?}");
            };
            phantom_mask(phantom, slice, columns, rows)
        };

        let first = run.on_headers_done(0.0);
        // Idle decoding workers take the next CT studies at once (the MR study needs
        // none), in the archive's order, each with its place.
        let c_asked = run.read_ahead(4, 50.0).expect("c01");
        let d_asked = run.read_ahead(4, 50.0).expect("d01");
        assert!(
            run.read_ahead(3, 50.0).is_none(),
            "as many studies wait as there are workers"
        );
        let e_asked = run.read_ahead(4, 50.0).expect("e01");
        assert!(
            run.read_ahead(4, 50.0).is_none(),
            "no study left to ask for"
        );
        let turn = |next: &Next| match next {
            Next::Volume { turn, .. } => *turn,
            _ => Turn(usize::MAX),
        };
        assert_eq!(
            [&first, &c_asked, &d_asked, &e_asked].map(turn),
            [Turn(0), Turn(2), Turn(3), Turn(4)]
        );
        // d01 is decoded first, then e01's worker fails, then c01 and a01 come in.
        let (d_turn, d) = load(d_asked);
        assert_eq!(run.on_slice(d_turn, d, 100.0), Next::Pending);
        let refused = StudyError::Segmentation("the decoder refused it".into());
        assert_eq!(
            run.on_decoder_failure(turn(&e_asked), refused, 150.0),
            Next::Pending
        );
        let (c_turn, c) = load(c_asked);
        assert_eq!(run.on_slice(c_turn, c, 200.0), Next::Pending);
        assert_eq!(run.progress(), (0, 5), "no row before a01's");
        let (a_turn, a) = load(first);
        let segment_a = run.on_slice(a_turn, a, 300.0);
        // An answer for a study not asked for (a stopped worker's late answer) changes
        // nothing.
        let stray = StudyError::Segmentation("late".into());
        assert_eq!(run.on_decoder_failure(Turn(1), stray, 310.0), Next::Pending);
        // a01's mask: its row, the MR study's, and c01 goes to be segmented at once.
        let segment_c = run.on_mask(&mask_of(&phantoms[0].1, &segment_a), facts(), 400.0);
        assert_eq!(run.progress(), (2, 5));
        let segment_d = run.on_mask(&mask_of(&phantoms[1].1, &segment_c), facts(), 500.0);
        // d01's mask: its row, then e01's failed row, and the run is done.
        assert_eq!(
            run.on_mask(&mask_of(&phantoms[2].1, &segment_d), facts(), 1000.0),
            Next::Done
        );
        let rows: Vec<(&str, &str, &str)> = run
            .rows()
            .iter()
            .map(|r| {
                let v = |name| r.value(name).unwrap_or_default();
                (v("case"), v("source_folder"), v("status"))
            })
            .collect();
        assert_eq!(
            rows,
            [
                ("S0001", "a01", "measured"),
                ("S0002", "b-mr", "failed"),
                ("S0003", "c01", "measured"),
                ("S0004", "d01", "measured"),
                ("S0005", "e01", "failed"),
            ]
        );
        // d01's time counts from when it was asked for (read ahead at 50 ms).
        assert_eq!(run.rows()[3].value("seconds"), Some("0.9"));
        assert_eq!(
            run.rows()[4].value("reason"),
            Some("the segmentation failed: the decoder refused it")
        );
    }

    #[test]
    fn studies_are_read_ahead_only_while_their_volumes_fit_the_budget() {
        // Two studies whose headers say 8192² pixels (each volume alone over the budget),
        // then a small one: nothing is read ahead beside a large one, and a large one is
        // still asked for in its turn.
        let phantom = Phantom::generate(&PhantomParams::default());
        let one: Vec<Instance> = phantom
            .dicom_files()
            .expect("files")
            .iter()
            .map(|b| crate::dicom::read_instance(b).expect("header"))
            .collect();
        let (mut names, mut headers) = (Vec::new(), Vec::new());
        for (k, big) in [true, true, false].into_iter().enumerate() {
            for (s, instance) in one.iter().enumerate() {
                let mut instance = instance.clone();
                instance.study_uid = format!("{}.{k}", instance.study_uid);
                instance.series_uid = format!("{}.{k}", instance.series_uid);
                if big {
                    (instance.rows, instance.columns) = (8192, 8192);
                }
                names.push(format!("s{k}/{s:03}.dcm"));
                headers.push(Some(instance));
            }
        }
        let (mut run, _) = Run::new(names, SETTINGS, CaseCodes::default(), None);
        read_headers(&mut run, &headers);
        let bytes = 8192 * 8192 * 2 * one.len();
        assert!(bytes > VOLUME_BUDGET_BYTES, "{bytes}");
        assert!(matches!(
            run.on_headers_done(0.0),
            Next::Volume { turn: Turn(0), .. }
        ));
        assert!(
            run.read_ahead(4, 1.0).is_none(),
            "the second large study waits"
        );
        let failed = || StudyError::Segmentation("too large for this test".into());
        // The first one's turn ends: the second is asked for in its turn, alone.
        assert!(matches!(
            run.on_decoder_failure(Turn(0), failed(), 2.0),
            Next::Volume { turn: Turn(1), .. }
        ));
        assert!(run.read_ahead(4, 3.0).is_none(), "the small one waits too");
        assert!(matches!(
            run.on_decoder_failure(Turn(1), failed(), 4.0),
            Next::Volume { turn: Turn(2), .. }
        ));
    }

    #[test]
    fn a_decoder_that_stops_costs_its_study_only() {
        let Archive(_, _, names, headers) = archive();
        let (mut run, _) = Run::new(names, SETTINGS, CaseCodes::default(), None);
        read_headers(&mut run, &headers);
        assert!(matches!(run.on_headers_done(0.0), Next::Volume { .. }));
        let stopped = StudyError::Segmentation("the decoder stopped on this study".into());
        assert_eq!(run.on_failure(stopped, 10.0), Next::Done);
        assert_eq!(run.progress(), (3, 3));
        assert_eq!(run.rows()[0].value("status"), Some("failed"));
        assert_eq!(
            run.rows()[0].value("reason"),
            Some("the segmentation failed: the decoder stopped on this study")
        );
    }
}
