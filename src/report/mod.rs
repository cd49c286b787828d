//! What a clinician reads and exports for one patient: scan facts, body composition
//! with its calls and cut-off source, prognosis scores, eligibility, QC flags — and the
//! CSV row, de-identified unless the user opts in.

pub mod agreement;
pub mod qc;
pub mod seg;

use serde::Serialize;

use crate::body::{
    myosteatosis, sarcopenia, yes_no, Anthropometry, Call, Composition, HeightSource,
    MyosteatosisCutoffs, SmiCutoffs, CUTOFFS_VERSION,
};
use crate::clinical::eligibility::Eligibility;
use crate::clinical::ScoreSheet;
use crate::csv;
use crate::dicom::AcquisitionFacts;
use crate::l3::{L3Choice, L3Method};
use crate::segment::LeftOut;
use crate::volume::VolumeHeader;
pub use qc::{QcFlag, Severity};

/// Acquisition facts kept beside every measurement (CLINICAL.md §3 "Reporting").
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ScanFacts {
    pub kvp: Option<f64>,
    pub slice_thickness_mm: Option<f64>,
    pub contrast_agent: Option<String>,
    /// Row, column spacing.
    pub pixel_spacing_mm: Option<[f64; 2]>,
    pub manufacturer: Option<String>,
    pub level: Option<L3Choice>,
    /// The measured slice's position along the scan axis.
    pub z_mm: Option<f64>,
}

impl ScanFacts {
    /// The facts of a volume measured at `level`: the slice's position is read off the
    /// volume, so that every caller (the page, the batch, a reviewed row) places it alike.
    pub fn new(
        acquisition: &AcquisitionFacts,
        volume: &VolumeHeader,
        level: Option<L3Choice>,
    ) -> ScanFacts {
        let geometry = &volume.geometry;
        let z_mm = level
            .as_ref()
            .and_then(|l| volume.slice_positions_mm.get(l.slice).copied());
        ScanFacts {
            kvp: acquisition.kvp,
            slice_thickness_mm: geometry.slice_thickness,
            contrast_agent: acquisition
                .contrast_agent
                .clone()
                .filter(|a| !a.trim().is_empty()),
            pixel_spacing_mm: geometry.pixel_spacing,
            manufacturer: acquisition.manufacturer.clone(),
            level,
            z_mm,
        }
    }
}

/// How the mask was made and whether a person checked it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SegmentationFacts {
    pub model: String,
    pub model_sha256: String,
    /// "WebGPU (adapter)" or "CPU", as the page showed it.
    pub path: String,
    pub reviewed: bool,
    pub edited_pixels: usize,
    /// Arms and objects beside the trunk that the segmentation left out.
    pub left_out: LeftOut,
}

/// Identifiers, included only when the user opts in.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Identifiers {
    pub study_uid: String,
    pub series_uid: String,
    pub study_date: Option<String>,
}

/// Everything a report is made from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseInputs {
    pub case_code: Option<String>,
    pub identifiers: Option<Identifiers>,
    pub age_years: Option<f64>,
    pub scan: ScanFacts,
    pub segmentation: Option<SegmentationFacts>,
    pub body: Anthropometry,
    pub composition: Option<Composition>,
    pub smi_cutoffs: SmiCutoffs,
    pub myosteatosis_cutoffs: MyosteatosisCutoffs,
    pub scores: ScoreSheet,
    pub eligibility: Eligibility,
}

/// The inputs with what is derived from them: the calls and the QC flags.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseReport {
    pub tool: String,
    #[serde(flatten)]
    pub case: CaseInputs,
    pub sarcopenia: Option<Call>,
    pub myosteatosis: Option<Call>,
    pub qc: Vec<QcFlag>,
}

impl CaseReport {
    pub fn new(x: CaseInputs) -> CaseReport {
        let sarcopenia = x
            .composition
            .as_ref()
            .map(|c| sarcopenia(c, &x.body, x.smi_cutoffs));
        let myosteatosis = x
            .composition
            .as_ref()
            .map(|c| myosteatosis(c, &x.body, x.myosteatosis_cutoffs));
        let qc = qc::flags(
            &x.scan,
            x.segmentation.as_ref(),
            &x.body,
            x.composition.as_ref(),
        );
        CaseReport {
            tool: format!("Sarcoscope {}", env!("CARGO_PKG_VERSION")),
            case: x,
            sarcopenia,
            myosteatosis,
            qc,
        }
    }

    /// The export as (column, value) pairs; identifiers appear only when opted in.
    pub fn columns(&self) -> Vec<(&'static str, String)> {
        let num =
            |v: Option<f64>, places: usize| v.map_or(String::new(), |v| format!("{v:.places$}"));
        let int = |v: Option<i32>| v.map_or(String::new(), |v| v.to_string());
        let call = |c: &Option<Call>| yes_no(c.as_ref().and_then(|c| c.present)).to_string();
        let c = self.case.composition.as_ref();
        let i = c.and_then(|c| c.indices);
        let s = &self.case.scores;
        let mut cols = vec![
            ("case", self.case.case_code.clone().unwrap_or_default()),
            ("tool", self.tool.clone()),
        ];
        if let Some(id) = &self.case.identifiers {
            cols.push(("study_uid", id.study_uid.clone()));
            cols.push(("series_uid", id.series_uid.clone()));
            cols.push(("study_date", id.study_date.clone().unwrap_or_default()));
        }
        let (level_method, level_confidence) =
            match self.case.scan.level.as_ref().map(|l| &l.method) {
                Some(L3Method::Automatic { confidence, .. }) => ("automatic", Some(*confidence)),
                Some(L3Method::Manual) => ("manual", None),
                Some(L3Method::Given) => ("given", None),
                None => ("", None),
            };
        let seg = self.case.segmentation.as_ref();
        cols.extend([
            (
                "sex",
                self.case.body.sex.map_or("", |s| s.code()).to_string(),
            ),
            ("age_years", self.age_shown()),
            ("height_m", num(self.case.body.height.map(|h| h.metres), 3)),
            (
                "height_source",
                match self.case.body.height.map(|h| h.source) {
                    Some(HeightSource::Recorded) => "dicom",
                    Some(HeightSource::Entered) => "entered",
                    None => "",
                }
                .to_string(),
            ),
            ("weight_kg", num(self.case.body.weight_kg, 1)),
            ("bmi", num(c.and_then(|c| c.bmi), 1)),
            (
                "level_slice",
                self.case
                    .scan
                    .level
                    .as_ref()
                    .map_or(String::new(), |l| l.slice.to_string()),
            ),
            ("level_method", level_method.to_string()),
            ("level_confidence", num(level_confidence, 2)),
            ("slice_z_mm", num(self.case.scan.z_mm, 1)),
            ("kvp", num(self.case.scan.kvp, 0)),
            (
                "slice_thickness_mm",
                num(self.case.scan.slice_thickness_mm, 2),
            ),
            (
                "contrast",
                self.case.scan.contrast_agent.clone().unwrap_or_default(),
            ),
            (
                "pixel_spacing_mm",
                self.case
                    .scan
                    .pixel_spacing_mm
                    .map_or(String::new(), |[r, c]| format!("{r:.4}x{c:.4}")),
            ),
            ("model", seg.map_or(String::new(), |s| s.model.clone())),
            (
                "model_sha256",
                seg.map_or(String::new(), |s| s.model_sha256.clone()),
            ),
            (
                "segmentation_path",
                seg.map_or(String::new(), |s| s.path.clone()),
            ),
            (
                "reviewed",
                seg.map_or("", |s| if s.reviewed { "yes" } else { "no" })
                    .to_string(),
            ),
            (
                "edited_pixels",
                seg.map_or(String::new(), |s| s.edited_pixels.to_string()),
            ),
            ("sma_cm2", num(c.map(|c| c.sma_cm2), 2)),
            ("smi_cm2_m2", num(i.map(|i| i.smi), 2)),
            ("muscle_hu", num(c.and_then(|c| c.muscle_hu), 1)),
            (
                "low_attenuation_muscle_pct",
                num(c.and_then(|c| c.low_attenuation_muscle_pct), 1),
            ),
            ("imat_cm2", num(c.map(|c| c.imat_cm2), 2)),
            ("imat_index_cm2_m2", num(i.map(|i| i.imat), 2)),
            ("vat_cm2", num(c.map(|c| c.vat_cm2), 2)),
            ("vat_index_cm2_m2", num(i.map(|i| i.vat), 2)),
            ("sat_cm2", num(c.map(|c| c.sat_cm2), 2)),
            ("sat_index_cm2_m2", num(i.map(|i| i.sat), 2)),
            ("vat_sat_ratio", num(c.and_then(|c| c.vat_sat_ratio), 3)),
            ("smi_cutoffs", self.case.smi_cutoffs.key().to_string()),
            (
                "smi_threshold",
                num(self.sarcopenia.as_ref().and_then(|c| c.threshold), 2),
            ),
            ("sarcopenia", call(&self.sarcopenia)),
            (
                "myosteatosis_cutoffs",
                self.case.myosteatosis_cutoffs.key().to_string(),
            ),
            (
                "muscle_hu_threshold",
                num(self.myosteatosis.as_ref().and_then(|c| c.threshold), 1),
            ),
            ("myosteatosis", call(&self.myosteatosis)),
            ("cutoffs_version", CUTOFFS_VERSION.to_string()),
            ("meld", int(s.meld.map(|m| m.score))),
            ("meld_na", int(s.meld_na)),
            ("meld3", int(s.meld3.map(|m| m.score))),
            ("meld3_uncapped", int(s.meld3.map(|m| m.uncapped))),
            (
                "meld3_90d_survival",
                num(s.meld3.map(|m| m.survival_90_day), 3),
            ),
            (
                "child_pugh",
                s.child_pugh.map_or(String::new(), |c| c.points.to_string()),
            ),
            (
                "child_pugh_class",
                s.child_pugh.map_or("", |c| c.class.letter()).to_string(),
            ),
            ("albi", num(s.albi.map(|a| a.score), 3)),
            (
                "albi_grade",
                s.albi.map_or(String::new(), |a| a.grade.to_string()),
            ),
            ("apri", num(s.apri, 2)),
            ("fib4", num(s.fib4, 2)),
            ("meld_sarcopenia", num(s.meld_sarcopenia, 2)),
            (
                "meld_sarcopenia_martin2013",
                yes_no(s.sarcopenic_for_meld).to_string(),
            ),
            (
                "eligibility_laboratory",
                self.case.eligibility.laboratory_route.label().to_string(),
            ),
            (
                "eligibility_no_exclusion",
                self.case.eligibility.no_exclusion.label().to_string(),
            ),
            (
                "qc_flags",
                self.qc
                    .iter()
                    .filter(|f| f.severity > Severity::Info)
                    .map(|f| f.key)
                    .collect::<Vec<_>>()
                    .join(";"),
            ),
        ]);
        cols
    }

    /// Age in whole years; 90 and over is grouped as "90+" unless identifiers are
    /// included (HIPAA Safe Harbor, 45 CFR 164.514(b)(2)(i)(C)).
    pub fn age_shown(&self) -> String {
        match self.case.age_years {
            Some(a) if a >= 90.0 && self.case.identifiers.is_none() => "90+".into(),
            Some(a) => format!("{:.0}", a.floor()),
            None => String::new(),
        }
    }

    /// Header and one row; `exported_at` (ISO 8601, UTC) says when the numbers left.
    pub fn csv(&self, exported_at: &str) -> String {
        let mut cols = self.columns();
        cols.insert(2, ("exported_at", exported_at.to_string()));
        let names: Vec<&str> = cols.iter().map(|(n, _)| *n).collect();
        let values: Vec<&str> = cols.iter().map(|(_, v)| v.as_str()).collect();
        format!("{}\r\n{}\r\n", csv::line(&names), csv::line(&values))
    }
}
