//! The page's state, handed to every view: what was read and is shown ([`Scan`]), the
//! mask ([`Segmentation`]), the patient's form ([`Case`]), the brush ([`Correction`]),
//! and the two workers' clients. All of it is `Copy` handles to signals, so a view or a
//! worker callback captures the part it needs; nothing is reached through a global.

use std::sync::Arc;

use leptos::prelude::*;

use super::case::Case;
use super::correction::Correction;
use super::decode::Decoder;
use super::loaded::{JsVoxels, Loaded};
use super::model_choice::ModelChoice;
use super::render::{Window, PRESETS};
use super::segment::messages::SegmentationReport;
use super::segment::Segmenter;
use sarcoscope::batch::reopen::Reopened;
use sarcoscope::dicom::series::Study;
use sarcoscope::ingest::{Problem, Progress, Selection};
use sarcoscope::inspect::FileReport;
use sarcoscope::l3::{L3Choice, L3Result};
use sarcoscope::segment::TissueMask;
use sarcoscope::volume::Volume;

/// What was read, which series is open, and how it is looked at.
#[derive(Clone, Copy)]
pub struct Scan {
    pub progress: RwSignal<Option<Progress>>,
    pub status: RwSignal<String>,
    pub problems: RwSignal<Vec<Problem>>,
    /// Per-file decoding reports of the last "check every file" run.
    pub reports: RwSignal<Vec<FileReport>>,
    pub studies: RwSignal<Vec<Study>>,
    pub selection: RwSignal<Option<Selection>>,
    /// The decoded series. Whoever reads the volume reads this signal, so it is redrawn
    /// or recomputed when another one arrives.
    pub loaded: RwSignal<Option<Arc<Loaded>>>,
    pub slice: RwSignal<usize>,
    pub window: RwSignal<Window>,
    /// The slice measurements use, and how it was chosen (kept for the report).
    pub l3_choice: RwSignal<Option<L3Choice>>,
    /// A level set by hand for this series in an earlier visit (kept in the browser):
    /// being read, or read and waiting for the volume to arrive.
    pub saved_level: RwSignal<SavedLevel>,
}

/// The series' record in this browser, as far as the level to open on goes. A series
/// decoded ahead can arrive before its record is read; opened then on the automatic
/// slice, it would be segmented there and again on the level set by hand a moment later.
#[derive(Clone, Debug, PartialEq)]
pub enum SavedLevel {
    /// Being read (from the series' selection on): nothing is segmented until it is.
    Reading,
    /// Read: the level set by hand in it, if any, until the volume takes it.
    Read(Option<L3Choice>),
}

impl Scan {
    fn new() -> Scan {
        Scan {
            progress: RwSignal::new(None),
            status: RwSignal::new(String::new()),
            problems: RwSignal::new(Vec::new()),
            reports: RwSignal::new(Vec::new()),
            studies: RwSignal::new(Vec::new()),
            selection: RwSignal::new(None),
            loaded: RwSignal::new(None),
            slice: RwSignal::new(0),
            window: RwSignal::new(PRESETS[0].1),
            l3_choice: RwSignal::new(None),
            saved_level: RwSignal::new(SavedLevel::Read(None)),
        }
    }

    /// `f` of the volume, if one is loaded; tracked.
    pub fn with_volume<R>(&self, f: impl FnOnce(&Volume<JsVoxels>) -> R) -> Option<R> {
        self.loaded.with(|l| l.as_ref().map(|l| f(&l.volume)))
    }

    /// `f` of the volume, if one is loaded; not tracked (event handlers).
    pub fn with_volume_untracked<R>(&self, f: impl FnOnce(&Volume<JsVoxels>) -> R) -> Option<R> {
        self.loaded
            .with_untracked(|l| l.as_ref().map(|l| f(&l.volume)))
    }

    /// The automatic L3 search on the loaded volume; tracked.
    pub fn level(&self) -> Option<L3Result> {
        self.loaded.with(|l| l.as_ref().map(|l| l.level.clone()))
    }

    pub fn slice_count_untracked(&self) -> usize {
        self.with_volume_untracked(|v| v.header.slices).unwrap_or(0)
    }

    /// Moves the chosen L3 slice by `delta` slices (towards the head when positive),
    /// which makes the choice manual, and shows that slice.
    pub fn move_l3(&self, delta: i64) {
        let slices = self.slice_count_untracked();
        if slices == 0 {
            return;
        }
        let from = self
            .l3_choice
            .get_untracked()
            .map_or(self.slice.get_untracked(), |c| c.slice);
        let slice = (from as i64 + delta).clamp(0, slices as i64 - 1) as usize;
        self.l3_choice.set(Some(L3Choice {
            slice,
            method: sarcoscope::l3::L3Method::Manual,
        }));
        self.slice.set(slice);
    }
}

/// A finished segmentation, as the page shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct SegmentationView {
    pub report: SegmentationReport,
    /// The mask with the reader's corrections.
    pub mask: TissueMask,
    /// The network's output, before any correction.
    pub model_mask: TissueMask,
}

impl SegmentationView {
    /// Pixels whose class the reader changed.
    pub fn edited_pixels(&self) -> usize {
        self.mask
            .labels()
            .iter()
            .zip(self.model_mask.labels())
            .filter(|(a, b)| a != b)
            .count()
    }
}

/// The mask of the measurement slice and what the segmentation worker is doing.
#[derive(Clone, Copy)]
pub struct Segmentation {
    pub result: RwSignal<Option<SegmentationView>>,
    /// What the worker is doing, while it works.
    pub running: RwSignal<Option<String>>,
    pub error: RwSignal<Option<String>>,
    /// Whether the mask is drawn over the image.
    pub overlay: RwSignal<bool>,
}

impl Segmentation {
    fn new() -> Segmentation {
        Segmentation {
            result: RwSignal::new(None),
            running: RwSignal::new(None),
            error: RwSignal::new(None),
            overlay: RwSignal::new(true),
        }
    }

    /// Whether a mask of volume slice `slice` is on screen (untracked).
    pub fn is_of_slice(&self, slice: usize) -> bool {
        self.result
            .with_untracked(|s| s.as_ref().is_some_and(|s| s.report.slice == slice))
    }
}

/// A reader-study case open in the Patient view (`reader::study`).
#[derive(Debug, Clone, PartialEq)]
pub struct ReaderCase {
    pub case: String,
    pub reader: String,
    /// When it was opened (ms since the epoch): the reader's time starts here.
    pub opened_at: f64,
    /// Independent tracing: the case's first automatic mask is replaced by a blank one.
    pub blank: bool,
    /// The decoder's load that opened it ([`Decoder::loads`]): files loaded since are not
    /// the case's.
    pub load: u32,
}

#[derive(Clone, Copy)]
pub struct Workspace {
    pub scan: Scan,
    pub segmentation: Segmentation,
    /// The patient's clinical data, cut-off choices and report options.
    pub case: Case,
    pub correction: Correction,
    /// What the browser storage last did (saved, restored, failed), in words.
    pub saved_state: RwSignal<String>,
    /// The cohort study opened from the review queue, whose row the reader's
    /// corrections go back to.
    pub review: RwSignal<Option<Reopened>>,
    /// The reader-study case opened, whose reading the study keeps (the Patient view's
    /// own record of the series is then neither restored nor written: it would carry one
    /// reader's corrections to the next).
    pub reader_case: RwSignal<Option<ReaderCase>>,
    pub decoder: Decoder,
    pub segmenter: Segmenter,
    /// The segmentation model every view runs.
    pub model: ModelChoice,
}

impl Workspace {
    /// A new workspace with its workers connected (they start on first use).
    pub fn new() -> Workspace {
        let model = ModelChoice::new();
        let ws = Workspace {
            scan: Scan::new(),
            segmentation: Segmentation::new(),
            case: Case::new(),
            correction: Correction::new(),
            saved_state: RwSignal::new(String::new()),
            review: RwSignal::new(None),
            reader_case: RwSignal::new(None),
            decoder: Decoder::new(),
            segmenter: Segmenter::new(model),
            model,
        };
        ws.decoder.connect(ws);
        ws.segmenter.connect(ws);
        ws
    }

    /// The first header of the open series (patient and scan facts); untracked.
    pub fn selected_instance(&self) -> Option<sarcoscope::dicom::Instance> {
        self.scan
            .selection
            .with_untracked(|s| s.as_ref().and_then(|s| s.first.clone()))
    }

    /// What saving a reading of the open series needs — the chosen level, the mask on
    /// screen at that level and the series' header — or, in words, what is missing.
    pub fn reading_at_level(
        &self,
    ) -> Result<(L3Choice, SegmentationView, sarcoscope::dicom::Instance), String> {
        let level = self
            .scan
            .l3_choice
            .get_untracked()
            .ok_or("Choose the L3 level first (Level panel).")?;
        let seg = self
            .segmentation
            .result
            .get_untracked()
            .filter(|s| s.report.slice == level.slice)
            .ok_or("The mask on screen is not of the chosen level: segment that slice first.")?;
        let instance = self
            .selected_instance()
            .ok_or("The series' header is not available.")?;
        Ok((level, seg, instance))
    }

    /// Whether the mask arriving now must start blank (a reader-study case of
    /// independent tracing, its first mask): asking uses the blank start up.
    pub fn take_blank_start(&self) -> bool {
        let blank = self.reader_case_shown_untracked().is_some_and(|c| c.blank);
        if blank {
            self.reader_case.update(|c| {
                if let Some(c) = c.as_mut() {
                    c.blank = false;
                }
            });
        }
        blank
    }

    /// The reader-study case, while its files are the ones loaded; tracked.
    pub fn reader_case_shown(&self) -> Option<ReaderCase> {
        self.reader_case.track();
        self.decoder.loads.track();
        self.reader_case_shown_untracked()
    }

    /// The reader-study case, while its files are the ones loaded; not tracked.
    pub fn reader_case_shown_untracked(&self) -> Option<ReaderCase> {
        let open = self.reader_case.get_untracked()?;
        (open.load == self.decoder.loads.get_untracked()).then_some(open)
    }

    /// The cohort study under review, when it is the series open; tracked.
    pub fn review_shown(&self) -> Option<Reopened> {
        self.review.track();
        self.scan.selection.track();
        self.review_shown_untracked()
    }

    /// The cohort study under review, when it is the series open; not tracked.
    pub fn review_shown_untracked(&self) -> Option<Reopened> {
        let review = self.review.get_untracked()?;
        let first = self.selected_instance()?;
        (first.study_uid == review.study_uid && first.series_uid == review.series_uid)
            .then_some(review)
    }
}
