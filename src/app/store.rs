//! Work in progress kept in this browser (IndexedDB, `js/store.js`): the case form and
//! the corrected mask of each series, saved after every change and restored when the
//! same series is opened again. Nothing leaves the browser; "Forget" deletes it.

use js_sys::{Object, Reflect, Uint8Array};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::case::{Case, LabField};
use super::said::said;
use super::workspace::{SavedLevel, Workspace};
use sarcoscope::body::{MyosteatosisCutoffs, SmiCutoffs};
use sarcoscope::clinical::eligibility::Answers;
use sarcoscope::clinical::{Lab, Units};
use sarcoscope::l3::{L3Choice, L3Method};
use sarcoscope::segment::TissueMask;

#[wasm_bindgen(module = "/js/store.js")]
extern "C" {
    #[wasm_bindgen(catch, js_name = saveCase)]
    async fn save_case(key: &str, value: JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch, js_name = loadCase)]
    async fn load_case(key: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch, js_name = loadCaseOrLater)]
    async fn load_case_or_later(key: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch, js_name = forgetCase)]
    async fn forget_case(key: &str) -> Result<JsValue, JsValue>;
}

/// What is saved per series. `version` lets a later format refuse an older record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Saved {
    version: u32,
    saved_at: String,
    form: Form,
    mask: Option<SavedMask>,
    /// A level set by hand (an automatic one is found again the same way).
    #[serde(default)]
    level: Option<L3Choice>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Form {
    case_code: String,
    sex: String,
    age: String,
    height_cm: String,
    weight_kg: String,
    labs: Vec<(Lab, String, Units)>,
    dialysis: String,
    ascites: String,
    encephalopathy: String,
    answers: Answers,
    smi_cutoffs: SmiCutoffs,
    myosteatosis_cutoffs: MyosteatosisCutoffs,
}

/// The corrected mask is restored only onto the same slice, grid and model output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedMask {
    slice: usize,
    columns: usize,
    rows: usize,
    model_sha256: String,
    reviewed: bool,
    #[serde(skip)]
    labels: Vec<u8>,
}

const VERSION: u32 = 1;

/// The series being read, as a storage key; `None` without both UIDs, since such a
/// series cannot be told apart from another patient's and nothing is kept for it.
fn key(ws: Workspace) -> Option<String> {
    let inst = ws.selected_instance()?;
    let (study, series) = (inst.study_uid.trim(), inst.series_uid.trim());
    (!study.is_empty() && !series.is_empty()).then(|| format!("{study}/{series}"))
}

fn form_of(case: Case) -> Form {
    Form {
        case_code: case.case_code.get(),
        sex: case.sex.get(),
        age: case.age.get(),
        height_cm: case.height_cm.get(),
        weight_kg: case.weight_kg.get(),
        labs: case
            .labs
            .get()
            .into_iter()
            .map(|(lab, f)| (lab, f.text, f.units))
            .collect(),
        dialysis: case.dialysis.get(),
        ascites: case.ascites.get(),
        encephalopathy: case.encephalopathy.get(),
        answers: case.answers.get(),
        smi_cutoffs: case.smi_cutoffs.get(),
        myosteatosis_cutoffs: case.myosteatosis_cutoffs.get(),
    }
}

fn apply_form(case: Case, f: Form) {
    case.case_code.set(f.case_code);
    case.sex.set(f.sex);
    case.age.set(f.age);
    case.height_cm.set(f.height_cm);
    case.weight_kg.set(f.weight_kg);
    case.labs.update(|labs| {
        for (lab, text, units) in f.labs {
            labs.insert(lab, LabField { text, units });
        }
    });
    case.dialysis.set(f.dialysis);
    case.ascites.set(f.ascites);
    case.encephalopathy.set(f.encephalopathy);
    case.answers.set(f.answers);
    case.smi_cutoffs.set(f.smi_cutoffs);
    case.myosteatosis_cutoffs.set(f.myosteatosis_cutoffs);
}

/// Whether what storage read is a record (not "none under this key").
fn is_record(value: &JsValue) -> bool {
    !value.is_null() && !value.is_undefined()
}

/// What a person can change on an open series, to tell whether they did.
fn edits(ws: Workspace) -> (Form, bool, u32, Option<L3Choice>) {
    untrack(|| {
        let manual = ws
            .scan
            .l3_choice
            .get()
            .filter(|l| matches!(l.method, L3Method::Manual));
        (
            form_of(ws.case),
            ws.case.reviewed.get(),
            ws.correction.revision.get(),
            manual,
        )
    })
}

fn now() -> String {
    String::from(js_sys::Date::new_0().to_iso_string())
}

/// Wires saving and restoring into the page: restores when a series is opened, saves
/// after every change once the restore for that series has finished.
pub fn install(ws: Workspace) {
    let case = ws.case;
    let scan = ws.scan;
    // The series whose record has been read; nothing is saved before that, so an
    // empty form never overwrites a saved one.
    let restored = StoredValue::new(None::<String>);
    let pending = StoredValue::new(None::<SavedMask>);
    // What was restored for the open series, kept in front of later "saved" notes.
    let note = StoredValue::new(String::new());
    // Bumped to save what was changed while the record was awaited (see below).
    let save_now = RwSignal::new(0u32);

    Effect::new(move |_| {
        scan.selection.track();
        restored.set_value(None);
        pending.set_value(None);
        note.set_value(String::new());
        if ws.reader_case_shown_untracked().is_some() {
            ws.saved_state.set(
                "A reader-study case: the study keeps the reading (Reader study view); this series' own record is left alone.".into(),
            );
            restore_level(ws, None);
            return;
        }
        let Some(key) = key(ws) else {
            if ws.selected_instance().is_some() {
                ws.saved_state.set(
                    "This series has no study or series UID, so it cannot be told apart from another patient's: nothing about it is kept in this browser.".into(),
                );
            }
            restore_level(ws, None);
            return;
        };
        spawn_local(async move {
            let answer = load_case_or_later(&key).await;
            // Another series may have been opened while this one was read.
            let still_open = || self::key(ws).as_deref() == Some(key.as_str());
            if !still_open() {
                return;
            }
            let later = answer.as_ref().ok().and_then(|a| {
                Reflect::get(a, &"later".into())
                    .ok()?
                    .dyn_into::<js_sys::Promise>()
                    .ok()
            });
            let mut changed_meanwhile = false;
            let loaded = match later {
                Some(later) => {
                    // The series goes on without its record; nothing is saved until it
                    // comes, and it is applied only onto work nobody has touched since.
                    restore_level(ws, None);
                    ws.saved_state.set(
                        "This browser's storage has not answered within 5 s: the series goes on without what was saved for it, which is applied when it comes if nothing has been changed by then. Nothing is saved until then.".into(),
                    );
                    let before = edits(ws);
                    let loaded = JsFuture::from(later).await;
                    if !still_open() {
                        return;
                    }
                    let has_record = loaded.as_ref().is_ok_and(is_record);
                    changed_meanwhile = edits(ws) != before;
                    if has_record && changed_meanwhile {
                        // Saving stays off, so the record is not overwritten.
                        ws.saved_state.set(
                            "What was saved for this series in this browser came late, after the form, the mask or the level had been changed: it was not applied and is left as it was, and nothing is saved for this series in this session.".into(),
                        );
                        return;
                    }
                    loaded
                }
                None => answer.and_then(|a| Reflect::get(&a, &"value".into())),
            };
            match loaded {
                Ok(value) if is_record(&value) => {
                    match read(&value) {
                        Some(saved) => {
                            apply_form(case, saved.form);
                            restore_level(ws, saved.level.clone());
                            let restored_note = format!(
                                "Restored the form{} saved in this browser at {}.",
                                if saved.mask.is_some() {
                                    " and the corrected mask"
                                } else {
                                    ""
                                },
                                saved.saved_at
                            );
                            pending.set_value(saved.mask);
                            ws.saved_state.set(restored_note.clone());
                            note.set_value(restored_note);
                            apply_pending(ws, pending);
                        }
                        None => {
                            // Saving stays off, so the record is not overwritten.
                            ws.saved_state.set(
                                "A record saved for this series by another version could not be read; it is left as it was, and nothing is saved for this series in this session.".into(),
                            );
                            restore_level(ws, None);
                            return;
                        }
                    }
                }
                Ok(_) => {
                    ws.saved_state.set(String::new());
                    restore_level(ws, None);
                }
                Err(e) => {
                    restore_level(ws, None);
                    ws.saved_state.set(format!(
                        "This browser's storage could not be read ({}); nothing is saved for this series, so corrections will not survive a reload.",
                        said(e)
                    ));
                    return;
                }
            }
            restored.set_value(Some(key));
            // No record came, and what was changed while it was awaited is not saved yet.
            if changed_meanwhile {
                save_now.update(|n| *n += 1);
            }
        });
    });

    // A fresh mask from the network: apply the saved corrections if they belong to it.
    Effect::new(move |_| {
        ws.segmentation.result.track();
        apply_pending(ws, pending);
    });

    Effect::new(move |_| {
        ws.correction.revision.get();
        save_now.track();
        let form = form_of(case);
        let reviewed = case.reviewed.get();
        let Some(key) = key(ws) else { return };
        if restored.with_value(|r| r.as_deref() != Some(key.as_str())) {
            return;
        }
        let mask = ws.segmentation.result.with_untracked(|s| {
            s.as_ref()
                .filter(|s| reviewed || s.edited_pixels() > 0)
                .map(|s| SavedMask {
                    slice: s.report.slice,
                    columns: s.mask.columns,
                    rows: s.mask.rows,
                    model_sha256: s.report.model_sha256.clone(),
                    reviewed,
                    labels: s.mask.labels().to_vec(),
                })
        });
        // Corrections restored but not yet applied (their slice is not segmented now)
        // are kept, never overwritten by an untouched mask of another slice.
        let mask = mask.or_else(|| pending.get_value());
        // A restored level still waiting for its volume is kept as well.
        let level = scan
            .l3_choice
            .get()
            .filter(|l| matches!(l.method, L3Method::Manual))
            .or_else(|| match scan.saved_level.get_untracked() {
                SavedLevel::Read(level) => level,
                SavedLevel::Reading => None,
            });
        let saved = Saved {
            version: VERSION,
            saved_at: now(),
            form,
            mask,
            level,
        };
        spawn_local(async move {
            let state = match save_case(&key, write(&saved)).await {
                Ok(_) => format!(
                    "{} Saved in this browser at {}.",
                    note.get_value(),
                    saved.saved_at
                )
                .trim_start()
                .to_string(),
                Err(_) => "Could not save in this browser's storage; keep this tab open or export the CSV.".into(),
            };
            ws.saved_state.set(state);
        });
    });
}

/// What the series' record says of its level, once read (`None`: no level set by hand,
/// or no record): kept in [`Scan::saved_level`](super::workspace::Scan) until the volume
/// arrives, or applied at once when the volume is already there. A volume that arrived
/// while the record was read waits here to be segmented, on the saved level if any.
fn restore_level(ws: Workspace, level: Option<L3Choice>) {
    let scan = ws.scan;
    let Some(slices) = scan.with_volume_untracked(|v| v.header.slices) else {
        scan.saved_level.set(SavedLevel::Read(level));
        return;
    };
    let waiting = scan.saved_level.get_untracked() == SavedLevel::Reading;
    scan.saved_level.set(SavedLevel::Read(None));
    // A cohort study under review opens on its row's level, whichever came first.
    let reviewed = scan.loaded.with_untracked(|l| {
        l.as_ref().is_some_and(|l| {
            ws.review_shown_untracked()
                .and_then(|r| r.choice(&l.level))
                .is_some()
        })
    });
    let current = scan.l3_choice.get_untracked();
    match level.filter(|l| l.slice < slices && !reviewed && current.as_ref() != Some(l)) {
        Some(level) => {
            scan.slice.set(level.slice);
            scan.l3_choice.set(Some(level.clone()));
            ws.segmenter.request(level.slice, false);
        }
        None => {
            if let Some(current) = current.filter(|_| waiting) {
                ws.segmenter.request(current.slice, false);
            }
        }
    }
}

/// Applies a pending saved mask when the network's output for its slice is on screen.
fn apply_pending(ws: Workspace, pending: StoredValue<Option<SavedMask>>) {
    let Some(saved) = pending.get_value() else {
        return;
    };
    let fits = ws.segmentation.result.with_untracked(|s| {
        s.as_ref().is_some_and(|s| {
            s.report.slice == saved.slice
                && s.mask.columns == saved.columns
                && s.mask.rows == saved.rows
                && s.report.model_sha256 == saved.model_sha256
                && s.mask == s.model_mask
        })
    });
    let Some(mask) =
        TissueMask::from_labels(saved.columns, saved.rows, saved.labels.clone()).filter(|_| fits)
    else {
        return;
    };
    pending.set_value(None);
    ws.segmentation.result.update(|s| {
        if let Some(s) = s.as_mut() {
            s.mask = mask;
        }
    });
    ws.correction.reset();
    ws.case.reviewed.set(saved.reviewed);
}

/// Forgets what this browser holds for the open series.
pub fn forget(ws: Workspace) {
    let Some(key) = key(ws) else { return };
    spawn_local(async move {
        let state = match forget_case(&key).await {
            Ok(_) => "Nothing about this series is kept in this browser any more (until the next change).",
            Err(_) => "This browser's storage could not be cleared.",
        };
        ws.saved_state.set(state.into());
    });
}

fn write(saved: &Saved) -> JsValue {
    let value = Object::new();
    let json = serde_json::to_string(saved).unwrap_or_default();
    let _ = Reflect::set(&value, &"json".into(), &json.into());
    let labels = saved.mask.as_ref().map_or(JsValue::NULL, |m| {
        Uint8Array::from(m.labels.as_slice()).into()
    });
    let _ = Reflect::set(&value, &"labels".into(), &labels);
    value.into()
}

fn read(value: &JsValue) -> Option<Saved> {
    let json = Reflect::get(value, &"json".into()).ok()?.as_string()?;
    let mut saved: Saved = serde_json::from_str(&json).ok()?;
    if saved.version != VERSION {
        return None;
    }
    if let Some(mask) = saved.mask.as_mut() {
        let labels = Reflect::get(value, &"labels".into()).ok()?;
        mask.labels = labels.dyn_into::<Uint8Array>().ok()?.to_vec();
        // A record that is not a mask of this grid's classes is not used.
        let valid = mask.labels.len() == mask.columns * mask.rows
            && mask
                .labels
                .iter()
                .all(|&l| sarcoscope::segment::TissueClass::from_label(l).is_some());
        if !valid {
            return None;
        }
    }
    Some(saved)
}

/// Another view's work in progress as JSON under `key` (the same database; the key
/// keeps it apart from the series' records).
pub async fn save_json(key: &str, json: &str) -> Result<(), JsValue> {
    let value = Object::new();
    let _ = Reflect::set(&value, &"json".into(), &json.into());
    let _ = Reflect::set(&value, &"labels".into(), &JsValue::NULL);
    save_case(key, value.into()).await.map(|_| ())
}

pub async fn load_json(key: &str) -> Option<String> {
    let value = load_case(key).await.ok()?;
    Reflect::get(&value, &"json".into()).ok()?.as_string()
}

/// Deletes what is kept under `key` (JSON or a value).
pub async fn forget_json(key: &str) -> Result<(), JsValue> {
    forget_case(key).await.map(|_| ())
}

/// A browser object kept as it is (a folder handle: the browser clones it into the
/// database, which JSON could not).
pub async fn save_value(key: &str, value: JsValue) -> Result<(), JsValue> {
    let record = Object::new();
    let _ = Reflect::set(&record, &"value".into(), &value);
    save_case(key, record.into()).await.map(|_| ())
}

pub async fn load_value(key: &str) -> Option<JsValue> {
    let record = load_case(key).await.ok()?;
    Reflect::get(&record, &"value".into())
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
}
