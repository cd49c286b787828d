//! The page's side of ingest: which files were given, what the worker said of each,
//! and restarting the worker if a decoder ever brings it down (WebAssembly aborts on a
//! panic), so one bad file never loses the others.

use std::cell::RefCell;

use js_sys::{Array, Int16Array, Object, Reflect};
use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use web_sys::File;

use super::case::Case;
use super::correction::Correction;
use super::lazy_worker::LazyWorker;
use super::protocol::{files_of, FromWorker, ToWorker};
use super::render::{Window, PRESETS};
use super::segmentation::{self, SegmentationView};
use super::store;
use crate::dicom::series::{self, Study};
use crate::dicom::Instance;
use crate::inspect::FileReport;
use crate::l3::{L3Choice, L3Method, L3Result};
use crate::report::seg::{self, SourceImage};
use crate::volume::Volume;

/// Reactive state the page shows. All of it is plain data; JS handles stay in
/// [`Controller`].
#[derive(Clone, Copy)]
pub struct Ui {
    pub progress: RwSignal<Option<Progress>>,
    pub problems: RwSignal<Vec<Problem>>,
    pub studies: RwSignal<Vec<Study>>,
    pub selected: RwSignal<Option<(usize, usize)>>,
    pub volume_version: RwSignal<u32>,
    pub slice: RwSignal<usize>,
    pub window: RwSignal<Window>,
    pub status: RwSignal<String>,
    /// Per-file decoding reports of the last "check every file" run.
    pub reports: RwSignal<Vec<FileReport>>,
    /// The automatic L3 search on the loaded volume.
    pub level: RwSignal<Option<L3Result>>,
    /// How long the automatic L3 search took in the worker (milliseconds).
    pub level_ms: RwSignal<Option<f64>>,
    /// The slice measurements will use, and how it was chosen (kept for the report).
    pub l3_choice: RwSignal<Option<L3Choice>>,
    /// The newest segmentation of the measurement slice.
    pub segmentation: RwSignal<Option<SegmentationView>>,
    /// What the segmentation worker is doing, while it works.
    pub segmenting: RwSignal<Option<String>>,
    pub segmentation_error: RwSignal<Option<String>>,
    /// Whether the mask is drawn over the image.
    pub overlay: RwSignal<bool>,
    /// The patient's clinical data, cut-off choices and report options.
    pub case: Case,
    /// The brush, its history, and whether strokes edit the mask.
    pub correction: Correction,
    /// What the browser storage last did (saved, restored, failed), in words.
    pub saved_state: RwSignal<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Progress {
    pub label: String,
    pub done: usize,
    pub total: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    pub file: String,
    pub message: String,
}

impl Ui {
    pub fn new() -> Ui {
        Ui {
            progress: RwSignal::new(None),
            problems: RwSignal::new(Vec::new()),
            studies: RwSignal::new(Vec::new()),
            selected: RwSignal::new(None),
            volume_version: RwSignal::new(0),
            slice: RwSignal::new(0),
            window: RwSignal::new(PRESETS[0].1),
            status: RwSignal::new(String::new()),
            reports: RwSignal::new(Vec::new()),
            level: RwSignal::new(None),
            level_ms: RwSignal::new(None),
            l3_choice: RwSignal::new(None),
            segmentation: RwSignal::new(None),
            segmenting: RwSignal::new(None),
            segmentation_error: RwSignal::new(None),
            overlay: RwSignal::new(true),
            case: Case::new(),
            correction: Correction::new(),
            saved_state: RwSignal::new(String::new()),
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Phase {
    Idle,
    Headers,
    Volume,
    Check,
}

struct Controller {
    worker: LazyWorker,
    files: Vec<File>,
    names: Vec<String>,
    instances: Vec<Option<Instance>>,
    in_flight: Option<usize>,
    phase: Option<Phase>,
    volume: Option<Volume>,
    /// The series being decoded, kept so that decoding can start again without a file
    /// a decoder stopped on.
    volume_request: Option<VolumeRequest>,
    ui: Option<Ui>,
}

struct VolumeRequest {
    /// Slices refer to `files` (0-based); `page_files[i]` is file i's page index.
    series: crate::dicom::series::Series,
    instances: Vec<Instance>,
    files: Vec<File>,
    page_files: Vec<usize>,
    skip: Vec<usize>,
}

thread_local! {
    static STATE: RefCell<Controller> = const {
        RefCell::new(Controller {
            worker: LazyWorker::new("./sarcoscope-worker_loader.js", on_message, on_crash),
            files: Vec::new(),
            names: Vec::new(),
            instances: Vec::new(),
            in_flight: None,
            phase: None,
            volume: None,
            volume_request: None,
            ui: None,
        })
    };
}

pub fn install(ui: Ui) {
    STATE.with(|s| s.borrow_mut().ui = Some(ui));
}

/// The page's reactive state, once installed.
pub fn ui() -> Option<Ui> {
    STATE.with(|s| s.borrow().ui)
}

/// Runs `f` on the current volume, if one is loaded.
pub fn with_volume<R>(f: impl FnOnce(&Volume) -> R) -> Option<R> {
    STATE.with(|s| s.borrow().volume.as_ref().map(f))
}

/// The image volume slice `slice` came from and its position, for the DICOM SEG.
pub fn slice_source(slice: usize) -> Option<(SourceImage, Option<[f64; 3]>)> {
    STATE.with(|s| {
        let s = s.borrow();
        let r = s.volume_request.as_ref()?;
        seg::source_of(&r.series, &r.instances, slice)
    })
}

/// The facts of the first instance of the selected series, for the clinical panel.
pub fn selected_instance() -> Option<Instance> {
    STATE.with(|s| {
        let s = s.borrow();
        let ui = s.ui?;
        let (si, ri) = ui.selected.get_untracked()?;
        let studies = ui.studies.get_untracked();
        let series = studies.get(si)?.series.get(ri)?;
        let file = *series.files.first()?;
        s.instances.get(file)?.clone()
    })
}

/// Starts reading a new set of files (a drop or a picker), replacing what was loaded.
pub fn add_files(files: Vec<File>, names: Vec<String>) {
    let Some(ui) = STATE.with(|s| s.borrow().ui) else {
        return;
    };
    abandon_running_work();
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        s.instances = vec![None; files.len()];
        s.files = files;
        s.names = names;
        s.volume = None;
    });
    ui.problems.set(Vec::new());
    ui.studies.set(Vec::new());
    ui.selected.set(None);
    ui.level.set(None);
    ui.l3_choice.set(None);
    segmentation::clear(ui);
    ui.volume_version.update(|v| *v += 1);
    let total = STATE.with(|s| s.borrow().files.len());
    ui.progress.set(Some(Progress {
        label: "Reading files".into(),
        done: 0,
        total,
    }));
    ui.status
        .set(format!("Reading {total} file(s) in this browser…"));
    send_headers(0);
}

/// Moves the chosen L3 slice by `delta` slices (towards the head when positive), which
/// makes the choice manual, and shows that slice.
pub fn move_l3(delta: i64) {
    let Some(ui) = STATE.with(|s| s.borrow().ui) else {
        return;
    };
    let Some(slices) = with_volume(|v| v.header.slices).filter(|n| *n > 0) else {
        return;
    };
    let from = ui
        .l3_choice
        .get_untracked()
        .map_or(ui.slice.get_untracked(), |c| c.slice);
    let slice = (from as i64 + delta).clamp(0, slices as i64 - 1) as usize;
    ui.l3_choice.set(Some(L3Choice {
        slice,
        method: L3Method::Manual,
    }));
    ui.slice.set(slice);
}

/// A new request replaces whatever the worker is doing: a busy worker is stopped and
/// a fresh one started, so no reply of the old request can land on the new one.
fn abandon_running_work() {
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        if matches!(s.phase, Some(Phase::Headers | Phase::Volume | Phase::Check)) {
            s.worker.stop(true);
        }
        s.phase = Some(Phase::Idle);
        s.in_flight = None;
    });
}

/// Asks the worker for the demo case; its files then load like dropped ones.
pub fn load_demo() {
    let Some(ui) = STATE.with(|s| s.borrow().ui) else {
        return;
    };
    abandon_running_work();
    ui.status
        .set("Making the demo case (a synthetic CT, not a patient)…".into());
    post(&ToWorker::Demo, &[]);
}

/// Decodes every loaded file completely and reports on each, as `sarcoscope inspect`.
pub fn check_all() {
    let Some(ui) = STATE.with(|s| s.borrow().ui) else {
        return;
    };
    abandon_running_work();
    let total = STATE.with(|s| s.borrow().files.len());
    if total == 0 {
        return;
    }
    ui.reports.set(Vec::new());
    ui.progress.set(Some(Progress {
        label: "Checking files".into(),
        done: 0,
        total,
    }));
    send_check(0);
}

fn send_check(first: usize) {
    let (files, names) = STATE.with(|s| {
        let s = s.borrow();
        (
            s.files
                .get(first..)
                .map(<[File]>::to_vec)
                .unwrap_or_default(),
            s.names
                .get(first..)
                .map(<[String]>::to_vec)
                .unwrap_or_default(),
        )
    });
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        s.phase = Some(Phase::Check);
        s.in_flight = None;
    });
    post(&ToWorker::Inspect { first, names }, &files);
}

fn send_headers(first: usize) {
    let files: Vec<File> = STATE.with(|s| {
        s.borrow()
            .files
            .get(first..)
            .map(<[File]>::to_vec)
            .unwrap_or_default()
    });
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        s.phase = Some(Phase::Headers);
        s.in_flight = None;
    });
    post(&ToWorker::Headers { first }, &files);
}

/// Decodes series `(study, series)` of the current studies into the viewer.
pub fn load_series(study: usize, series_index: usize) {
    let Some(ui) = STATE.with(|s| s.borrow().ui) else {
        return;
    };
    abandon_running_work();
    let studies = ui.studies.get_untracked();
    let Some(series) = studies
        .get(study)
        .and_then(|s| s.series.get(series_index))
        .cloned()
    else {
        return;
    };
    if series.slices.is_empty() {
        ui.status.set("This series has no images to show.".into());
        return;
    }
    ui.selected.set(Some((study, series_index)));
    // Send only this series' files, renumbered 0.. in the order the slices need them.
    let mut local: Vec<usize> = series.slices.iter().map(|s| s.file).collect();
    local.sort_unstable();
    local.dedup();
    let (files, instances) = STATE.with(|s| {
        let s = s.borrow();
        let files: Vec<File> = local
            .iter()
            .filter_map(|&f| s.files.get(f).cloned())
            .collect();
        let instances: Vec<Instance> = local
            .iter()
            .filter_map(|&f| s.instances.get(f).cloned().flatten())
            .collect();
        (files, instances)
    });
    let mut series = series;
    for slice in &mut series.slices {
        slice.file = local.binary_search(&slice.file).unwrap_or(usize::MAX);
    }
    let total = files.len();
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        s.phase = Some(Phase::Volume);
        s.volume = None;
        s.volume_request = Some(VolumeRequest {
            series,
            instances,
            files,
            page_files: local,
            skip: Vec::new(),
        });
    });
    ui.level.set(None);
    ui.l3_choice.set(None);
    segmentation::clear(ui);
    ui.volume_version.update(|v| *v += 1);
    ui.progress.set(Some(Progress {
        label: "Decoding images".into(),
        done: 0,
        total,
    }));
    send_volume();
}

fn send_volume() {
    let Some((message, files)) = STATE.with(|s| {
        let mut s = s.borrow_mut();
        s.phase = Some(Phase::Volume);
        s.in_flight = None;
        let r = s.volume_request.as_ref()?;
        Some((
            ToWorker::Volume {
                series: Box::new(r.series.clone()),
                instances: r.instances.clone(),
                skip: r.skip.clone(),
            },
            r.files.clone(),
        ))
    }) else {
        return;
    };
    post(&message, &files);
}

fn post(message: &ToWorker, files: &[File]) {
    let Ok(json) = serde_json::to_string(message) else {
        return;
    };
    let object = Object::new();
    let _ = Reflect::set(&object, &"json".into(), &json.into());
    let array = Array::new();
    for f in files {
        array.push(f);
    }
    let _ = Reflect::set(&object, &"files".into(), &array);
    let (started, ui) = STATE.with(|s| {
        let mut s = s.borrow_mut();
        (s.worker.post(object.into()), s.ui)
    });
    if let (false, Some(ui)) = (started, ui) {
        ui.progress.set(None);
        ui.status.set(
            "This browser would not start the decoding worker, so nothing can be read.".into(),
        );
    }
}

/// The worker died (a decoder aborted). Blame the file it was reading, start a fresh
/// worker, and carry on with the rest.
fn on_crash(detail: &str) {
    let Some(ui) = STATE.with(|s| s.borrow().ui) else {
        return;
    };
    let (phase, in_flight, name) = STATE.with(|s| {
        let mut s = s.borrow_mut();
        // What waits (the next request) goes to the fresh worker.
        s.worker.stop(false);
        let name = s
            .in_flight
            .and_then(|i| s.names.get(i).cloned())
            .unwrap_or_default();
        (s.phase, s.in_flight, name)
    });
    web_sys::console::error_1(&format!("decoding worker stopped: {detail}").into());
    match (phase, in_flight) {
        (Some(Phase::Headers), Some(index)) => {
            ui.problems.update(|p| {
                p.push(Problem {
                    file: name,
                    message:
                        "the decoder stopped on this file (it is probably damaged); it was skipped"
                            .into(),
                })
            });
            send_headers(index + 1);
        }
        (Some(Phase::Check), Some(index)) => {
            ui.reports.update(|r| {
                r.push(FileReport {
                    file: name,
                    error: Some("the decoder stopped on this file (it is probably damaged)".into()),
                    ..Default::default()
                })
            });
            send_check(index + 1);
        }
        (Some(Phase::Volume), Some(local)) => {
            let page_file = STATE.with(|s| {
                let mut s = s.borrow_mut();
                let r = s.volume_request.as_mut()?;
                r.skip.push(local);
                r.page_files.get(local).copied()
            });
            let file = page_file
                .and_then(|f| STATE.with(|s| s.borrow().names.get(f).cloned()))
                .unwrap_or_default();
            ui.problems.update(|p| {
                p.push(Problem {
                    file,
                    message: "the decoder stopped on this file (it is probably damaged); its slices are left empty".into(),
                })
            });
            send_volume();
        }
        _ => {
            ui.progress.set(None);
            ui.status.set(format!(
                "Decoding stopped unexpectedly ({detail}). Choose another series or load the files again."
            ));
            STATE.with(|s| s.borrow_mut().phase = Some(Phase::Idle));
        }
    }
}

fn on_message(data: &JsValue) {
    let Some(ui) = STATE.with(|s| s.borrow().ui) else {
        return;
    };
    let Some(json) = Reflect::get(data, &"json".into())
        .ok()
        .and_then(|v| v.as_string())
    else {
        return;
    };
    let Ok(message) = serde_json::from_str::<FromWorker>(&json) else {
        return;
    };
    match message {
        FromWorker::Ready => STATE.with(|s| s.borrow_mut().worker.ready()),
        FromWorker::Reading { index } => STATE.with(|s| s.borrow_mut().in_flight = Some(index)),
        FromWorker::Header { index, result } => {
            let total = STATE.with(|s| s.borrow().files.len());
            match result {
                Ok(instance) => STATE.with(|s| {
                    if let Some(slot) = s.borrow_mut().instances.get_mut(index) {
                        *slot = Some(*instance);
                    }
                }),
                Err(message) => {
                    let file =
                        STATE.with(|s| s.borrow().names.get(index).cloned().unwrap_or_default());
                    ui.problems.update(|p| p.push(Problem { file, message }));
                }
            }
            ui.progress.set(Some(Progress {
                label: "Reading files".into(),
                done: index + 1,
                total,
            }));
        }
        FromWorker::HeadersDone => finish_headers(ui),
        FromWorker::Progress { done, total } => ui.progress.set(Some(Progress {
            label: "Decoding images".into(),
            done,
            total,
        })),
        FromWorker::Volume {
            header,
            failures,
            level,
            level_ms,
        } => {
            let hu = Reflect::get(data, &"buffer".into())
                .ok()
                .map(|b| Int16Array::new(&b).to_vec())
                .unwrap_or_default();
            let slices = header.slices;
            if hu.len() != slices * header.rows * header.columns {
                ui.progress.set(None);
                ui.status
                    .set("The decoded images did not arrive whole; load the series again.".into());
                STATE.with(|s| s.borrow_mut().phase = Some(Phase::Idle));
                return;
            }
            let (names, page_files, skip) = STATE.with(|s| {
                let s = s.borrow();
                let r = s.volume_request.as_ref();
                (
                    s.names.clone(),
                    r.map(|r| r.page_files.clone()).unwrap_or_default(),
                    r.map(|r| r.skip.clone()).unwrap_or_default(),
                )
            });
            ui.problems.update(|p| {
                // Files skipped after a decoder stopped on them are already listed.
                for (local, message) in failures.into_iter().filter(|(l, _)| !skip.contains(l)) {
                    let file = page_files
                        .get(local)
                        .and_then(|&f| names.get(f))
                        .cloned()
                        .unwrap_or_default();
                    let problem = Problem { file, message };
                    // Loading the same series again must not list its problems twice.
                    if !p.contains(&problem) {
                        p.push(problem);
                    }
                }
            });
            STATE.with(|s| {
                let mut s = s.borrow_mut();
                s.volume = Some(Volume {
                    header: *header,
                    hu,
                });
                s.phase = Some(Phase::Idle);
            });
            ui.progress.set(None);
            // Open on a level the reader set by hand for this series before (kept in the
            // browser), else on the proposed L3 slice, else mid-series.
            let choice = store::take_saved_level(slices).or_else(|| L3Choice::automatic(&level));
            ui.slice
                .set(choice.as_ref().map_or(slices / 2, |c| c.slice));
            ui.l3_choice.set(choice);
            ui.level.set(Some(*level));
            ui.level_ms.set(Some(level_ms));
            ui.volume_version.update(|v| *v += 1);
            ui.status.set(format!("{slices} slice(s) loaded."));
            // Segment the proposed L3 slice straight away; the reader checks it.
            if let Some(choice) = ui.l3_choice.get_untracked() {
                segmentation::request(choice.slice, false);
            }
        }
        FromWorker::Report { index, report } => {
            let total = STATE.with(|s| s.borrow().files.len());
            ui.reports.update(|r| r.push(*report));
            ui.progress.set(Some(Progress {
                label: "Checking files".into(),
                done: index + 1,
                total,
            }));
        }
        FromWorker::InspectDone => {
            STATE.with(|s| s.borrow_mut().phase = Some(Phase::Idle));
            ui.progress.set(None);
            let reports = ui.reports.get_untracked();
            let decoded = reports.iter().filter(|r| r.stored.is_some()).count();
            let no_image = reports
                .iter()
                .filter(|r| r.has_pixel_data == Some(false))
                .count();
            ui.status.set(format!(
                "Checked {} file(s): {decoded} image(s) decoded, {no_image} without an image, {} could not be used.",
                reports.len(),
                reports.len() - decoded - no_image
            ));
        }
        FromWorker::DemoFiles { names } => {
            add_files(files_of(data), names);
        }
        FromWorker::DemoFailed { message } => {
            ui.status
                .set(format!("The demo case could not be made: {message}"));
        }
        FromWorker::VolumeFailed { message } => {
            ui.progress.set(None);
            ui.status
                .set(format!("This series could not be shown: {message}"));
        }
    }
}

fn finish_headers(ui: Ui) {
    let (instances, built_from): (Vec<Instance>, Vec<usize>) = STATE.with(|s| {
        let s = s.borrow();
        s.instances
            .iter()
            .enumerate()
            .filter_map(|(i, inst)| inst.clone().map(|inst| (inst, i)))
            .unzip()
    });
    let mut studies = series::build(&instances);
    let chosen = series::choose_ct(&studies, &instances);
    // Refer to files by their page index from here on.
    series::renumber_files(&mut studies, &built_from);
    let read = instances.len();
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        s.phase = Some(Phase::Idle);
        s.in_flight = None;
    });
    ui.progress.set(None);
    ui.studies.set(studies);
    match chosen {
        Some((si, ri)) => {
            ui.status.set(format!("{read} DICOM file(s) read. Loading the CT series…"));
            load_series(si, ri);
        }
        None => ui.status.set(format!(
            "{read} DICOM file(s) read, but no CT image series was found. See the series list and problems below."
        )),
    }
}
