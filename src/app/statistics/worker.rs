//! The statistics worker: reads the cohort file and runs what the page asks — curves, a
//! Cox fit with its bootstrap, a model file's validation — on the same core as
//! `sarcoscope cohort`, so that a long bootstrap never freezes the page. It keeps the
//! last file it read; every request names the file again, so a fresh worker (after
//! Cancel) reads it anew.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::Uint8Array;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{DedicatedWorkerGlobalScope, File, FileReaderSync, MessageEvent};

use super::messages::{FromStatistics, Left, ToStatistics};
use crate::envelope::{pack, unpack, Attachments};
use sarcoscope::ingest::messages::RequestId;
use sarcoscope::survival::aggregate::ValidationReport;
use sarcoscope::survival::analysis::{self, km_curves, km_summary, AnalysisError, Applied};
use sarcoscope::survival::design::Design;
use sarcoscope::survival::model::{Describe, ModelFile};
use sarcoscope::survival::plot::KmPlot;
use sarcoscope::survival::table::CohortTable;

thread_local! {
    /// The file last read (by name, size and date) and its table.
    static TABLE: RefCell<Option<(String, Rc<CohortTable>)>> = const { RefCell::new(None) };
}

pub fn run() {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let reply = scope.clone();
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        handle(&reply, &event.data());
    });
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    post(&scope, None, FromStatistics::Ready);
}

fn handle(scope: &DedicatedWorkerGlobalScope, data: &JsValue) {
    let (envelope, attachments) = match unpack::<ToStatistics>(data) {
        Ok(received) => received,
        Err(e) => {
            let refused = FromStatistics::Refused { detail: e.detail };
            post(scope, e.request, refused);
            return;
        }
    };
    let request = envelope.request;
    let answer = match attachments.files.first() {
        None => Err("no cohort file came with the request".to_owned()),
        Some(file) => table(file).and_then(|table| {
            answer(scope, request, &table, envelope.message).map_err(|e| e.to_string())
        }),
    };
    let message = answer.unwrap_or_else(|message| FromStatistics::Failed { message });
    post(scope, request, message);
}

/// The cohort table of `file`, read once while the same file is asked about.
fn table(file: &File) -> Result<Rc<CohortTable>, String> {
    let key = format!(
        "{}\u{0}{}\u{0}{}",
        file.name(),
        file.size(),
        file.last_modified()
    );
    if let Some(table) = TABLE.with(|t| {
        t.borrow()
            .as_ref()
            .filter(|(k, _)| *k == key)
            .map(|(_, table)| table.clone())
    }) {
        return Ok(table);
    }
    let unreadable = || {
        format!(
            "{}: the browser could not read the file (was it moved or deleted?)",
            file.name()
        )
    };
    let reader = FileReaderSync::new().map_err(|_| unreadable())?;
    let buffer = reader
        .read_as_array_buffer(file)
        .map_err(|_| unreadable())?;
    let bytes = Uint8Array::new(&buffer).to_vec();
    let table =
        Rc::new(CohortTable::from_bytes(&bytes).map_err(|e| format!("{}: {e}", file.name()))?);
    TABLE.with(|t| *t.borrow_mut() = Some((key, table.clone())));
    Ok(table)
}

fn left(design: &Design) -> Left {
    Left {
        excluded: design.excluded.clone(),
        censored_codes: design.censored_codes.clone(),
    }
}

fn answer(
    scope: &DedicatedWorkerGlobalScope,
    request: Option<RequestId>,
    table: &CohortTable,
    message: ToStatistics,
) -> Result<FromStatistics, AnalysisError> {
    Ok(match message {
        ToStatistics::Read => FromStatistics::Read {
            rows: table.rows(),
            dialect: table.dialect.to_string(),
            columns: table.summaries(),
        },
        ToStatistics::Km { roles, at, conf } => {
            let design = Design::build(table, &roles)?;
            let grouped = roles.group.is_some();
            let curves = km_curves(&design, grouped);
            let svg = KmPlot {
                groups: curves.iter().map(|(l, c)| (l.clone(), c)).collect(),
                ticks: at.clone(),
                time_label: roles.outcome.time.clone(),
                interval: None,
            }
            .svg();
            FromStatistics::Km {
                output: km_summary(&design, &curves, grouped, &at, conf),
                svg,
                left: left(&design),
            }
        }
        ToStatistics::Competing { roles, at } => {
            let design = Design::build(table, &roles)?;
            let grouped = roles.group.is_some();
            let (output, svg) = analysis::competing(&design, &roles.outcome, grouped, &at)?;
            FromStatistics::Competing {
                output: Box::new(output),
                svg,
                left: left(&design),
            }
        }
        ToStatistics::Fit {
            roles,
            ties,
            bootstrap,
            publish,
        } => {
            let design = Design::build(table, &roles)?;
            let fitted = analysis::fit(&design, ties, bootstrap, |done, total| {
                // A hundred updates at most: each is a message the page renders.
                if done == total || done % (total / 100).max(1) == 0 {
                    post(scope, request, FromStatistics::Progress { done, total });
                }
                true
            })?;
            let describe = Describe::cox(&roles, publish.name, publish.time_unit, publish.horizons);
            let model = fitted
                .model_file(&design, describe)
                .map(|file| file.to_json())
                .map_err(|e| e.to_string());
            FromStatistics::Fitted {
                residuals: fitted.schoenfeld_plots(&design),
                output: Box::new(fitted.output),
                model,
                left: left(&design),
            }
        }
        ToStatistics::RateScore { roles, horizons } => {
            let design = Design::build(table, &roles)?;
            let rated = roles
                .covariates
                .first()
                .map(ToString::to_string)
                .unwrap_or_default();
            FromStatistics::Rated {
                output: Box::new(analysis::validate_score(&design, rated, &horizons)?),
                left: left(&design),
            }
        }
        ToStatistics::Validate {
            outcome,
            model,
            horizons,
            centre,
        } => {
            let model = ModelFile::from_json(&model)?;
            let applied = Applied::new(&model, table, outcome)?;
            let report = ValidationReport::build(&applied, &horizons, centre)?;
            FromStatistics::Validated {
                report: Box::new(report),
                left: left(&applied.design),
            }
        }
    })
}

fn post(scope: &DedicatedWorkerGlobalScope, request: Option<RequestId>, message: FromStatistics) {
    let (value, transfer) = pack(request, message, Attachments::default());
    let _ = scope.post_message_with_transfer(&value, &transfer);
}
