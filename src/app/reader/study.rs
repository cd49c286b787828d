//! The reader study in the page: the study's folder (a subfolder per case), the reader
//! working now, and the case open in the Patient view, where the reader corrects or draws
//! the mask with its tools. "Done" there records the case ([`sarcoscope::agree::study`])
//! and keeps the whole study in this browser (IndexedDB) at once, so a reload loses
//! nothing; choosing the same folder again goes on.

use leptos::prelude::*;
use leptos::task::spawn_local;
use web_sys::File;

use crate::shell::{go, Route};
use crate::store;
use crate::workspace::{ReaderCase, Workspace};
use sarcoscope::agree::case::{Cutoffs, Measured};
use sarcoscope::agree::study::{changed, ReaderStudy, Record, Runs, Start, TracedSlice};
use sarcoscope::segment::AxialSlice;

/// The study's key in the browser's database.
const KEPT: &str = "reader-study";

#[derive(Clone, Copy)]
pub struct ReaderStudyState {
    pub study: RwSignal<ReaderStudy>,
    /// Whether a study is kept (set up, or restored after a reload).
    pub kept: RwSignal<bool>,
    pub reader: RwSignal<String>,
    pub said: RwSignal<String>,
    /// The chosen folder's files with their paths under it; empty after a reload until
    /// the folder is chosen again.
    files: StoredValue<Vec<(File, String)>, LocalStorage>,
    pub has_files: RwSignal<bool>,
}

/// The case of a file: its first folder under the chosen one (`""` for a file at the
/// top, which is then the only case).
fn case_of(name: &str) -> &str {
    name.split_once('/').map_or("", |(case, _)| case)
}

impl ReaderStudyState {
    pub fn new() -> ReaderStudyState {
        let this = ReaderStudyState {
            study: RwSignal::new(ReaderStudy::default()),
            kept: RwSignal::new(false),
            reader: RwSignal::new(String::new()),
            said: RwSignal::new(String::new()),
            files: StoredValue::new_local(Vec::new()),
            has_files: RwSignal::new(false),
        };
        spawn_local(async move {
            let kept = store::load_json(KEPT)
                .await
                .and_then(|json| serde_json::from_str::<ReaderStudy>(&json).ok());
            if let Some(study) = kept {
                this.said.set(format!(
                    "A reader study of {} cases with {} finished readings is kept in this browser: choose its folder again to go on.",
                    study.cases.len(),
                    study.records.len()
                ));
                this.study.set(study);
                this.kept.set(true);
            }
        });
        this
    }

    /// The study's folder: a new study of its cases starting as `start`, or the kept
    /// study again when its cases are these.
    pub fn choose(&self, files: Vec<File>, names: Vec<String>, start: Start) {
        let mut cases: Vec<String> = names.iter().map(|n| case_of(n).to_owned()).collect();
        cases.sort();
        cases.dedup();
        if cases.is_empty() {
            self.said.set("The folder holds no files.".into());
            return;
        }
        if self.kept.get_untracked() {
            let same = self.study.with_untracked(|s| s.cases == cases);
            if !same {
                self.said.set("This folder's cases are not the kept study's: export the kept study and forget it first, or choose its own folder.".into());
                return;
            }
            self.said
                .set(format!("The kept study goes on: {} cases.", cases.len()));
        } else {
            self.study.set(ReaderStudy {
                cases,
                start,
                records: Vec::new(),
            });
            self.kept.set(true);
            self.keep();
            self.said.set(format!(
                "A reader study of {} cases is set up and kept in this browser.",
                self.study.with_untracked(|s| s.cases.len())
            ));
        }
        self.files.set_value(files.into_iter().zip(names).collect());
        self.has_files.set(true);
    }

    /// Opens the reader's next case in the Patient view.
    pub fn open_next(&self, ws: Workspace) {
        let reader = self.reader.get_untracked().trim().to_owned();
        if reader.is_empty() {
            self.said
                .set("Type the reader's name or code first.".into());
            return;
        }
        if !self.has_files.get_untracked() {
            self.said.set("Choose the study's folder first (again, after a reload: the browser does not keep access to it).".into());
            return;
        }
        let Some(case) = self
            .study
            .with_untracked(|s| s.next_case(&reader).map(str::to_owned))
        else {
            self.said
                .set(format!("Reader {reader} has done every case."));
            go(Route::Reader);
            return;
        };
        let (files, names): (Vec<File>, Vec<String>) = self.files.with_value(|f| {
            f.iter()
                .filter(|(_, n)| case_of(n) == case)
                .map(|(f, n)| (f.clone(), n.clone()))
                .unzip()
        });
        ws.review.set(None);
        ws.segmentation.result.set(None);
        // The case is set with the load about to start, before its files are read, so the
        // Patient view's record of the series is never restored onto it.
        ws.reader_case.set(Some(ReaderCase {
            case,
            reader,
            opened_at: js_sys::Date::now(),
            blank: self.study.with_untracked(|s| s.start == Start::Blank),
            load: ws.decoder.loads.get_untracked() + 1,
        }));
        ws.decoder.add_files(files, names);
        go(Route::Patient);
    }

    /// Records the open case with the mask on screen, keeps the study, and opens the
    /// reader's next case (or goes back to the study when none is left).
    pub fn done(&self, ws: Workspace) -> Result<(), String> {
        let open = ws
            .reader_case_shown_untracked()
            .ok_or("Other files were loaded since the case was opened: open it again from the Reader study view.")?;
        let (level, seg, instance) = ws.reading_at_level()?;
        let loaded = ws
            .scan
            .loaded
            .get_untracked()
            .ok_or("The case's series is not loaded.")?;
        let volume = &loaded.volume;
        let hu = volume
            .axial_copy(level.slice)
            .ok_or("The chosen slice is not in the series.")?;
        let slice = AxialSlice::of_header(&hu, &volume.header).map_err(|e| e.to_string())?;
        let body = sarcoscope::batch::anthropometry(&instance.patient);
        let geometry = &volume.header.geometry;
        let traced = TracedSlice {
            pixel_spacing: slice.pixel_spacing.map(|m| m.0),
            slice_thickness: geometry.slice_thickness,
            position: loaded
                .files
                .slice_source(level.slice)
                .and_then(|(_, _, p)| p),
            orientation: geometry.orientation,
            slice: level.slice,
            z_mm: volume
                .header
                .slice_positions_mm
                .get(level.slice)
                .copied()
                .unwrap_or(0.0),
        };
        let record = Record {
            case: open.case.clone(),
            reader: open.reader.clone(),
            start: self.study.with_untracked(|s| s.start),
            seconds: (js_sys::Date::now() - open.opened_at) / 1000.0,
            changed: changed(&seg.model_mask, &seg.mask),
            placement: traced,
            mask: Runs::of(&seg.mask),
            measured: Measured::of(&seg.mask, &slice, &body, Cutoffs::default()),
            done_at: String::from(js_sys::Date::new_0().to_iso_string()),
        };
        self.study.update(|s| s.record(record));
        self.keep();
        ws.reader_case.set(None);
        self.said.set(format!(
            "Case {} saved for reader {}.",
            open.case, open.reader
        ));
        self.open_next(ws);
        Ok(())
    }

    /// Writes the study to this browser's database.
    fn keep(&self) {
        let json = self.study.with_untracked(|s| serde_json::to_string(s).ok());
        let said = self.said;
        spawn_local(async move {
            let saved = match json {
                Some(json) => store::save_json(KEPT, &json).await.is_ok(),
                None => false,
            };
            if !saved {
                said.set("The study could not be kept in this browser's storage: export it now so nothing is lost.".into());
            }
        });
    }

    /// Deletes the kept study from this browser.
    pub fn forget(&self, ws: Workspace) {
        self.study.set(ReaderStudy::default());
        self.kept.set(false);
        ws.reader_case.set(None);
        self.said
            .set("The reader study was deleted from this browser.".into());
        spawn_local(async move {
            let _ = store::forget_json(KEPT).await;
        });
    }
}

/// Above the Patient view while a reader-study case is open: whose case it is, how far
/// the reader is, and "Done".
#[component]
pub fn ReaderBar(ws: Workspace, study: ReaderStudyState) -> impl IntoView {
    let error = RwSignal::new(String::new());
    move || {
        ws.reader_case_shown().map(|open| {
            let (done, total) = study.study.with(|s| {
                let done = s.records.iter().filter(|r| r.reader == open.reader).count();
                (done, s.cases.len())
            });
            let start = study.study.with(|s| s.start);
            let how = match start {
                Start::Automatic => "Correct the automatic mask (Muscle and fat: Correct the mask)",
                Start::Blank => "Trace every tissue from a blank mask (Muscle and fat: Correct the mask)",
            };
            view! {
                <section class="review-bar" id="reader-bar" data-case=open.case.clone()>
                    <p>
                        "Reader study: reader "<strong>{open.reader.clone()}</strong>", case "<strong>{open.case.clone()}</strong>
                        {format!(" ({} of {total}). ", done + 1)}{how}", check the L3 level, then mark the case done."
                    </p>
                    <button class="action" id="reader-done" on:click=move |_| {
                        error.set(study.done(ws).err().unwrap_or_default());
                    }>"Done: save and open the next case"</button>
                    <button class="action" id="reader-back" on:click=move |_| go(Route::Reader)>"Back to the study"</button>
                    <p id="reader-said" class="error" aria-live="polite">{move || error.get()}</p>
                </section>
            }
        })
    }
}
