//! The patient being read: what the user typed or the header supplied, the chosen
//! cut-off sets, and the report derived from all of it and the mask. Everything the
//! panels show comes from [`report`], so the screen, the printout and the CSV agree.

use std::collections::HashMap;

use leptos::prelude::*;

use super::workspace::Workspace;
use sarcoscope::body::{
    Anthropometry, Composition, Height, HeightSource, MyosteatosisCutoffs, SmiCutoffs,
};
use sarcoscope::clinical::eligibility::{self, Answers};
use sarcoscope::clinical::labs::{parse_dialysis, parse_number};
use sarcoscope::clinical::{
    Ascites, ClinicalInputs, Encephalopathy, Lab, Labs, ScoreSheet, Sex, Units,
};
use sarcoscope::ingest::Selection;
use sarcoscope::report::{CaseInputs, CaseReport, Identifiers, ScanFacts};
use sarcoscope::segment::AxialSlice;

/// One laboratory field: the text as typed and the unit it was typed in.
#[derive(Clone, Debug, PartialEq)]
pub struct LabField {
    pub text: String,
    pub units: Units,
}

#[derive(Clone, Copy)]
pub struct Case {
    pub case_code: RwSignal<String>,
    pub sex: RwSignal<String>,
    pub age: RwSignal<String>,
    pub height_cm: RwSignal<String>,
    /// PatientSize as recorded, so an untouched height is reported as "from DICOM".
    pub recorded_height_cm: RwSignal<Option<String>>,
    pub weight_kg: RwSignal<String>,
    pub labs: RwSignal<HashMap<Lab, LabField>>,
    pub dialysis: RwSignal<String>,
    pub ascites: RwSignal<String>,
    pub encephalopathy: RwSignal<String>,
    pub answers: RwSignal<Answers>,
    pub smi_cutoffs: RwSignal<SmiCutoffs>,
    pub myosteatosis_cutoffs: RwSignal<MyosteatosisCutoffs>,
    /// Study and series UIDs and the study date go into the report and CSV only when set.
    pub include_identifiers: RwSignal<bool>,
    /// The reader has checked the mask.
    pub reviewed: RwSignal<bool>,
}

/// An empty laboratory form; the AST upper limit starts at the usual 40 U/L.
fn blank_labs() -> HashMap<Lab, LabField> {
    Lab::ALL
        .into_iter()
        .map(|lab| {
            let text = if lab == Lab::AstUpperLimit {
                format!(
                    "{}",
                    sarcoscope::clinical::fibrosis::USUAL_AST_UPPER_LIMIT_U_L
                )
            } else {
                String::new()
            };
            (
                lab,
                LabField {
                    text,
                    units: Units::Si,
                },
            )
        })
        .collect()
}

/// Invented values for the synthetic demo (a compensated-to-decompensating cirrhosis),
/// so a first-time user sees every score without typing; labelled as a demo.
const DEMO_LABS: [(Lab, &str); 8] = [
    (Lab::Bilirubin, "41"),
    (Lab::Creatinine, "97"),
    (Lab::Inr, "1.5"),
    (Lab::Sodium, "132"),
    (Lab::Albumin, "31"),
    (Lab::Platelets, "86"),
    (Lab::Ast, "72"),
    (Lab::Alt, "44"),
];

impl Case {
    pub fn new() -> Case {
        let labs = blank_labs();
        Case {
            case_code: RwSignal::new(String::new()),
            sex: RwSignal::new(String::new()),
            age: RwSignal::new(String::new()),
            height_cm: RwSignal::new(String::new()),
            recorded_height_cm: RwSignal::new(None),
            weight_kg: RwSignal::new(String::new()),
            labs: RwSignal::new(labs),
            dialysis: RwSignal::new(String::new()),
            ascites: RwSignal::new(String::new()),
            encephalopathy: RwSignal::new(String::new()),
            answers: RwSignal::new(Answers::default()),
            smi_cutoffs: RwSignal::new(SmiCutoffs::default()),
            myosteatosis_cutoffs: RwSignal::new(MyosteatosisCutoffs::default()),
            include_identifiers: RwSignal::new(false),
            reviewed: RwSignal::new(false),
        }
    }

    /// Prefills from the DICOM header of the series being opened; typed values are
    /// cleared, since they belonged to the previous patient (the browser store then
    /// restores what was saved for this series). The demo gets invented laboratory values.
    pub fn prefill(&self, selection: &Selection) {
        let Some(inst) = &selection.first else {
            return;
        };
        let demo = selection.demo;
        let mut labs = blank_labs();
        if demo {
            for (lab, text) in DEMO_LABS {
                if let Some(field) = labs.get_mut(&lab) {
                    field.text = text.into();
                }
            }
        }
        self.labs.set(labs);
        let or_blank = |demo_value: &str| {
            if demo {
                demo_value.to_string()
            } else {
                String::new()
            }
        };
        self.case_code.set(or_blank("DEMO"));
        self.dialysis.set(or_blank("0"));
        self.ascites.set(or_blank("mild"));
        self.encephalopathy.set(or_blank("0"));
        self.answers.set(Answers::default());
        self.sex.set(inst.patient.sex.clone().unwrap_or_default());
        self.age.set(
            inst.patient
                .age_years()
                .map(|y| format!("{}", y.floor()))
                .unwrap_or_default(),
        );
        // PatientSize to a tenth of a centimetre, trailing ".0" dropped: whole-cm
        // rounding would move SMI by up to 0.6 %.
        let height = inst.patient.height_m.map(|m| {
            let cm = format!("{:.1}", m * 100.0);
            cm.strip_suffix(".0").map_or(cm.clone(), str::to_string)
        });
        self.height_cm.set(height.clone().unwrap_or_default());
        self.recorded_height_cm.set(height);
        self.weight_kg.set(
            inst.patient
                .weight_kg
                .map(|kg| format!("{kg:.1}"))
                .unwrap_or_default(),
        );
        self.reviewed.set(false);
    }

    /// Sex, height and weight, with a plain message per field that could not be used.
    pub fn anthropometry(&self) -> (Anthropometry, Vec<(&'static str, String)>) {
        let mut errors = Vec::new();
        let sex_text = self.sex.get();
        let sex = Sex::parse(&sex_text);
        if sex.is_none() && !sex_text.trim().is_empty() {
            errors.push((
                "sex",
                format!(
                    "\"{}\" is not M or F; sex-specific cut-offs need one of them",
                    sex_text.trim()
                ),
            ));
        }
        let height_text = self.height_cm.get();
        let source = if Some(height_text.trim()) == self.recorded_height_cm.get().as_deref() {
            HeightSource::Recorded
        } else {
            HeightSource::Entered
        };
        let height = measured(&mut errors, "height", &height_text, |cm| {
            Height::new(cm / 100.0, source)
        });
        let weight_kg = measured(
            &mut errors,
            "weight",
            &self.weight_kg.get(),
            Anthropometry::checked_weight,
        );
        (
            Anthropometry {
                sex,
                height,
                weight_kg,
            },
            errors,
        )
    }

    pub fn age_years(&self) -> Result<Option<f64>, String> {
        match parse_number("age", &self.age.get()) {
            Ok(Some(a)) if !(0.0..=120.0).contains(&a) => {
                Err(format!("age {a} is outside 0–120 years"))
            }
            Ok(a) => Ok(a),
            Err(e) => Err(e.to_string()),
        }
    }

    /// The clinical inputs, with a plain message per field that could not be used.
    pub fn clinical(&self) -> (ClinicalInputs, Vec<(&'static str, String)>) {
        let mut errors = Vec::new();
        let mut labs = Labs::default();
        for (lab, field) in self.labs.get() {
            if let Err(e) = labs.enter(lab, &field.text, field.units) {
                errors.push((lab.key(), e.to_string()));
            }
        }
        let age_years = self.age_years().unwrap_or_else(|e| {
            errors.push(("age", e));
            None
        });
        let dialysis = noted(
            &mut errors,
            "dialysis",
            parse_dialysis(&self.dialysis.get()),
        );
        let ascites = noted(&mut errors, "ascites", Ascites::parse(&self.ascites.get()));
        let encephalopathy = noted(
            &mut errors,
            "encephalopathy",
            Encephalopathy::parse(&self.encephalopathy.get()),
        );
        (
            ClinicalInputs {
                labs,
                sex: Sex::parse(&self.sex.get()),
                age_years,
                dialysis,
                ascites,
                encephalopathy,
            },
            errors,
        )
    }
}

/// A typed number passed through `check`, or `None` with the problem noted against its
/// field; blank is `None` without a note.
fn measured<T, E: std::fmt::Display>(
    errors: &mut Vec<(&'static str, String)>,
    key: &'static str,
    text: &str,
    check: impl Fn(f64) -> Result<T, E>,
) -> Option<T> {
    let checked = match parse_number(key, text) {
        Ok(Some(v)) => check(v).map(Some).map_err(|e| e.to_string()),
        Ok(None) => Ok(None),
        Err(e) => Err(e.to_string()),
    };
    checked.unwrap_or_else(|e| {
        errors.push((key, e));
        None
    })
}

/// The value, or `None` with the problem noted against its field.
fn noted<T>(
    errors: &mut Vec<(&'static str, String)>,
    key: &'static str,
    r: Result<Option<T>, sarcoscope::clinical::ClinicalError>,
) -> Option<T> {
    r.unwrap_or_else(|e| {
        errors.push((key, e.to_string()));
        None
    })
}

/// Body composition of the mask on screen when it is of the measurement slice. Reactive,
/// and a memo of its own: typing in the laboratory form does not recompute it.
pub fn composition(ws: Workspace) -> Option<Composition> {
    let (body, _) = ws.case.anthropometry();
    let level = ws.scan.l3_choice.get()?;
    ws.segmentation.result.with(|s| {
        let s = s.as_ref().filter(|s| s.report.slice == level.slice)?;
        ws.scan
            .with_volume(|v| {
                let hu = v.axial_copy(s.report.slice)?;
                let slice = AxialSlice::of_header(&hu, &v.header).ok()?;
                Some(Composition::of(&s.mask, &slice, &body))
            })
            .flatten()
    })
}

/// The report for what is on screen now. Reactive: call it inside a closure or memo.
pub fn report(ws: Workspace, composition: Memo<Option<Composition>>) -> CaseReport {
    let case = ws.case;
    let (body, _) = case.anthropometry();
    let (clinical, _) = case.clinical();
    let level = ws.scan.l3_choice.get();
    let composition = composition.get();
    // MELD-Sarcopenia's 10.35 was fitted with Martin 2013's sex- and BMI-specific
    // cut-offs, so its call uses them whatever set the panel shows.
    let sarcopenic = composition
        .as_ref()
        .and_then(|c| sarcoscope::body::sarcopenia(c, &body, SmiCutoffs::Martin2013).present);
    let scores = ScoreSheet::compute(&clinical, sarcopenic);
    let eligibility = eligibility::assess(&clinical.labs, clinical.age_years, &case.answers.get());
    let inst = ws
        .scan
        .selection
        .with(|s| s.as_ref().and_then(|s| s.first.clone()));
    let (scan, identifiers) = ws
        .scan
        .with_volume(|v| {
            let acquisition = inst
                .as_ref()
                .map(|i| i.acquisition.clone())
                .unwrap_or_default();
            let ids = inst.map(|i| Identifiers {
                study_uid: i.study_uid,
                series_uid: i.series_uid,
                study_date: i.acquisition.study_date,
            });
            (ScanFacts::new(&acquisition, &v.header, level.clone()), ids)
        })
        .unwrap_or_default();
    // A mask of another slice than the measurement slice is not this report's.
    let segmentation = ws.segmentation.result.with(|s| {
        s.as_ref()
            .filter(|s| level.as_ref().is_some_and(|l| l.slice == s.report.slice))
            .map(|s| s.report.facts(case.reviewed.get(), s.edited_pixels()))
    });
    let code = case.case_code.get();
    CaseReport::new(CaseInputs {
        case_code: (!code.trim().is_empty()).then(|| code.trim().to_string()),
        identifiers: identifiers.filter(|_| case.include_identifiers.get()),
        age_years: clinical.age_years,
        scan,
        segmentation,
        body,
        composition,
        smi_cutoffs: case.smi_cutoffs.get(),
        myosteatosis_cutoffs: case.myosteatosis_cutoffs.get(),
        scores,
        eligibility,
    })
}
