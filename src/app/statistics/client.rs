//! The page's side of the statistics worker: the view's state as signals, and a client
//! that sends requests with the cohort file, shows progress, and on Cancel stops the
//! worker outright (a bootstrap cannot be interrupted from inside) while every result
//! already on the page stays.

use leptos::prelude::*;
use wasm_bindgen::JsValue;
use web_sys::File;

use super::messages::{FromStatistics, Left, ToStatistics};
use crate::envelope::{pack, unpack, Attachments};
use crate::lazy_worker::{Handlers, LazyWorker};
use sarcoscope::ingest::messages::RequestId;
use sarcoscope::survival::aggregate::ValidationReport;
use sarcoscope::survival::analysis::{
    CompetingOutput, FitOutput, KmOutput, ResidualPlot, ValidateOutput,
};
use sarcoscope::survival::model::ModelFile;
use sarcoscope::survival::table::ColumnSummary;

/// The cohort file as read: its size and its columns.
#[derive(Debug, Clone, PartialEq)]
pub struct TableView {
    pub file: String,
    pub rows: usize,
    pub dialect: String,
    pub columns: Vec<ColumnSummary>,
}

#[derive(Debug, Clone)]
pub struct KmView {
    pub output: KmOutput,
    pub svg: String,
    pub left: Left,
}

#[derive(Debug, Clone)]
pub struct CompetingView {
    pub output: CompetingOutput,
    pub svg: String,
    pub left: Left,
}

#[derive(Debug, Clone)]
pub struct FitView {
    pub output: FitOutput,
    pub model: Result<String, String>,
    pub residuals: Vec<ResidualPlot>,
    pub left: Left,
}

#[derive(Debug, Clone)]
pub struct ReportView {
    pub report: ValidationReport,
    pub left: Left,
}

/// What runs now, how far it is, and when it started (for the time left).
#[derive(Debug, Clone, PartialEq)]
pub struct Running {
    pub what: String,
    pub done: usize,
    pub total: usize,
    pub started_ms: f64,
}

/// The statistics view's state (`Copy`, like a signal).
#[derive(Clone, Copy)]
pub struct StatisticsState {
    pub table: RwSignal<Option<TableView>>,
    pub km: RwSignal<Option<KmView>>,
    pub competing: RwSignal<Option<CompetingView>>,
    pub fit: RwSignal<Option<FitView>>,
    pub report: RwSignal<Option<ReportView>>,
    /// A score column rated (discrimination only).
    pub rated: RwSignal<Option<(ValidateOutput, Left)>>,
    pub running: RwSignal<Option<Running>>,
    pub error: RwSignal<Option<String>>,
    /// What the last Cancel did, in words.
    pub note: RwSignal<Option<String>>,
    /// How many answers have arrived: a script (the benchmark) waits for the next one.
    pub answers: RwSignal<u32>,
    /// Model files fitted or loaded here, offered to the Patient view's predictions.
    pub models: RwSignal<Vec<ModelFile>>,
}

impl StatisticsState {
    fn new() -> StatisticsState {
        StatisticsState {
            table: RwSignal::new(None),
            km: RwSignal::new(None),
            competing: RwSignal::new(None),
            fit: RwSignal::new(None),
            report: RwSignal::new(None),
            rated: RwSignal::new(None),
            running: RwSignal::new(None),
            error: RwSignal::new(None),
            note: RwSignal::new(None),
            answers: RwSignal::new(0),
            models: RwSignal::new(Vec::new()),
        }
    }

    /// Offers a model file to the Patient view (once per seal).
    pub fn offer(&self, model: ModelFile) {
        self.models.update(|m| {
            if !m.iter().any(|x| x.sha256 == model.sha256) {
                m.push(model);
            }
        });
    }
}

struct Inner {
    worker: LazyWorker,
    last_id: u32,
    wanted: Option<RequestId>,
    file: Option<File>,
}

/// A handle on the statistics worker and the view's state.
#[derive(Clone, Copy)]
pub struct Statistics {
    pub state: StatisticsState,
    inner: StoredValue<Inner, LocalStorage>,
}

impl Statistics {
    pub fn new() -> Statistics {
        let this = Statistics {
            state: StatisticsState::new(),
            inner: StoredValue::new_local(Inner {
                worker: LazyWorker::new("./sarcoscope-statistics_loader.js"),
                last_id: 0,
                wanted: None,
                file: None,
            }),
        };
        let handlers = Handlers::new(
            move |data| this.on_message(data),
            move |detail| this.on_crash(detail),
        );
        this.inner.update_value(|i| i.worker.connect(handlers));
        this
    }

    /// A new cohort file: earlier results belong to another file and are cleared.
    pub fn open(&self, file: File) {
        let s = self.state;
        s.table.set(None);
        s.km.set(None);
        s.competing.set(None);
        s.fit.set(None);
        s.report.set(None);
        s.rated.set(None);
        self.inner.update_value(|i| i.file = Some(file));
        self.send(ToStatistics::Read, "Reading the cohort file");
    }

    /// Sends `message` about the open file; a newer request makes older answers be ignored.
    pub fn send(&self, message: ToStatistics, what: &str) {
        let s = self.state;
        s.error.set(None);
        s.note.set(None);
        let Some(file) = self.inner.with_value(|i| i.file.clone()) else {
            s.error.set(Some("Choose a cohort file first.".into()));
            return;
        };
        s.running.set(Some(Running {
            what: what.into(),
            done: 0,
            total: 0,
            started_ms: js_sys::Date::now(),
        }));
        let attachments = Attachments {
            files: vec![file],
            ..Attachments::default()
        };
        let started = self.inner.try_update_value(|i| {
            i.last_id = i.last_id.wrapping_add(1);
            let id = RequestId(i.last_id);
            i.wanted = Some(id);
            let (value, transfer) = pack(Some(id), message, attachments);
            i.worker.post(value, transfer)
        });
        if started != Some(true) {
            s.running.set(None);
            s.error
                .set(Some("The statistics worker could not be started.".into()));
        }
    }

    /// Stops what runs; results already shown stay.
    pub fn cancel(&self) {
        let what = self.state.running.get_untracked().map(|r| r.what);
        self.inner.update_value(|i| {
            i.worker.stop(true);
            i.wanted = None;
        });
        self.state.running.set(None);
        if let Some(what) = what {
            self.state.note.set(Some(format!(
                "{what}: stopped. Nothing else was lost; the results above are from before."
            )));
        }
    }

    fn on_crash(&self, detail: &str) {
        self.inner.update_value(|i| {
            i.worker.stop(true);
            i.wanted = None;
        });
        self.state.running.set(None);
        self.state.error.set(Some(format!(
            "The statistics stopped unexpectedly ({detail}). Nothing else was lost; try again."
        )));
    }

    fn on_message(&self, data: &JsValue) {
        let s = self.state;
        let (envelope, _) = match unpack::<FromStatistics>(data) {
            Ok(received) => received,
            Err(e) => {
                if e.request.is_some() && e.request == self.inner.with_value(|i| i.wanted) {
                    s.running.set(None);
                    s.error.set(Some(format!(
                        "The result could not be shown (a figure may not be a number: {}). Check the columns chosen.",
                        e.detail
                    )));
                }
                return;
            }
        };
        if let FromStatistics::Ready = envelope.message {
            self.inner.update_value(|i| i.worker.ready());
            return;
        }
        if envelope.request.is_none() || envelope.request != self.inner.with_value(|i| i.wanted) {
            return;
        }
        if let FromStatistics::Progress { done, total } = envelope.message {
            s.running.update(|r| {
                if let Some(r) = r {
                    r.done = done;
                    r.total = total;
                }
            });
            return;
        }
        s.running.set(None);
        s.answers.update(|n| *n += 1);
        match envelope.message {
            FromStatistics::Ready | FromStatistics::Progress { .. } => {}
            FromStatistics::Read {
                rows,
                dialect,
                columns,
            } => {
                let file = self
                    .inner
                    .with_value(|i| i.file.as_ref().map(File::name))
                    .unwrap_or_default();
                s.table.set(Some(TableView {
                    file,
                    rows,
                    dialect,
                    columns,
                }));
            }
            FromStatistics::Km { output, svg, left } => s.km.set(Some(KmView { output, svg, left })),
            FromStatistics::Competing { output, svg, left } => {
                s.competing.set(Some(CompetingView {
                    output: *output,
                    svg,
                    left,
                }))
            }
            FromStatistics::Fitted {
                output,
                model,
                residuals,
                left,
            } => {
                if let Some(file) = model.as_ref().ok().and_then(|t| ModelFile::from_json(t).ok()) {
                    s.offer(file);
                }
                s.fit.set(Some(FitView {
                    output: *output,
                    model,
                    residuals,
                    left,
                }));
            }
            FromStatistics::Validated { report, left } => s.report.set(Some(ReportView {
                report: *report,
                left,
            })),
            FromStatistics::Rated { output, left } => s.rated.set(Some((*output, left))),
            FromStatistics::Failed { message } => s.error.set(Some(message)),
            FromStatistics::Refused { detail } => s.error.set(Some(format!(
                "Internal error: the statistics worker could not read the page's request ({detail}). Reload the page."
            ))),
        }
    }
}
