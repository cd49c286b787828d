//! Quality-control flags printed beside the numbers: what a reader should weigh before
//! trusting them (level confidence, slice thickness, contrast, tube voltage, which path
//! segmented, whether a person reviewed the mask).

use serde::Serialize;

use super::{ScanFacts, SegmentationFacts};
use crate::body::{Anthropometry, Composition, HeightSource};
use crate::clinical::Sex;
use crate::l3::{L3Method, L3Status};
use crate::provenance::Source;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Recorded for the reader; nothing to do.
    Info,
    /// Affects comparability; read the numbers with it in mind.
    Caution,
    /// The numbers may be wrong until someone checks.
    Warning,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QcFlag {
    pub key: &'static str,
    pub severity: Severity,
    pub text: String,
    pub source: Option<Source>,
}

/// Below this, an automatic level is flagged for checking.
pub const LEVEL_CONFIDENCE_TO_TRUST: f64 = 0.8;
/// Above this, tissue boundaries blur (partial volume); no quantitative source was found
/// (CLINICAL.md §3), so the flag cites the usual reference as unverified.
pub const THICK_SLICE_MM: f64 = 5.0;
pub const USUAL_KVP: f64 = 120.0;

const CONTRAST_SOURCE: Source = Source::verified(
    "van Vugt et al., Clin Nutr 2018 (muscle 30.9 HU unenhanced vs 38.7 portal; SMI \
     changes marginally); Boutin et al., AJR 2016",
);
const KVP_SOURCE: Source = Source::verified(
    "Nutrition 2018;53:9: 80 vs 140 kV, muscle 48 vs 41 HU, fat −84 vs −69 HU, SMI 5.2%",
);
const THICKNESS_SOURCE: Source =
    Source::recalled("Fuchs et al., Eur Radiol 2018 (slice thickness, contrast, tube current)");

fn flag(key: &'static str, severity: Severity, text: String, source: Option<Source>) -> QcFlag {
    QcFlag {
        key,
        severity,
        text,
        source,
    }
}

/// Healthy adults' L3 SMI, mean and SD (cm²/m²), men then women: 911 Chinese controls
/// under 60 (Zeng 2021, the same data as its cut-offs).
pub const HEALTHY_SMI: [(f64, f64); 2] = [(52.94, 8.41), (38.91, 5.65)];
/// How many SDs from that mean make an SMI implausible: a failed mask or a height in the
/// wrong unit is far more likely than such a patient.
pub const IMPLAUSIBLE_SMI_SD: f64 = 4.0;
const HEALTHY_SMI_SOURCE: Source = Source::verified(
    "Zeng et al., J Cachexia Sarcopenia Muscle 2021;12:1948 (PMC8718091): healthy controls \
     52.94 ± 8.41 (men), 38.91 ± 5.65 (women) cm²/m²",
);

/// An SMI more than [`IMPLAUSIBLE_SMI_SD`] SDs from healthy adults' mean.
fn implausible_smi(body: &Anthropometry, composition: Option<&Composition>) -> Option<QcFlag> {
    let smi = composition?.indices?.smi;
    let (mean, sd) = match body.sex? {
        Sex::Male => HEALTHY_SMI[0],
        Sex::Female => HEALTHY_SMI[1],
    };
    ((smi - mean).abs() > IMPLAUSIBLE_SMI_SD * sd).then(|| {
        flag(
            "smi_plausibility",
            Severity::Warning,
            format!(
                "SMI {smi:.1} cm²/m² is more than {IMPLAUSIBLE_SMI_SD} SD from healthy {}'s mean ({mean} ± {sd}): check the mask and the height before using it.",
                body.sex.map_or("adults", |s| if s == Sex::Male { "men" } else { "women" })
            ),
            Some(HEALTHY_SMI_SOURCE),
        )
    })
}

/// A height few adults are below (m), this project's choice: with healthy women's SMI
/// [`IMPLAUSIBLE_SMI_SD`] SDs below their mean, it gives the smallest muscle area an
/// adult's L3 slice plausibly holds, for when height or sex is not known.
pub const SHORT_ADULT_HEIGHT_M: f64 = 1.40;

/// (38.91 − 4 × 5.65) × 1.40² ≈ 32 cm².
pub fn smallest_plausible_sma_cm2() -> f64 {
    let (mean, sd) = HEALTHY_SMI[1];
    (mean - IMPLAUSIBLE_SMI_SD * sd) * SHORT_ADULT_HEIGHT_M * SHORT_ADULT_HEIGHT_M
}

/// A muscle area below what any adult's L3 holds: a slice that is not an abdominal L3
/// slice (a head CT in an archive, a slice given at another level) or a failed mask.
fn implausible_sma(composition: Option<&Composition>) -> Option<QcFlag> {
    let sma = composition?.sma_cm2;
    let floor = smallest_plausible_sma_cm2();
    (sma < floor).then(|| {
        flag(
            "sma_plausibility",
            Severity::Warning,
            format!(
                "SMA {sma:.1} cm² is below what an adult's L3 slice holds (under {floor:.0} cm²: healthy women's SMI {IMPLAUSIBLE_SMI_SD} SD below their mean, at {SHORT_ADULT_HEIGHT_M:.2} m): the slice may not be an abdominal L3 slice, or the mask failed; check both before using it."
            ),
            Some(HEALTHY_SMI_SOURCE),
        )
    })
}

pub fn flags(
    scan: &ScanFacts,
    segmentation: Option<&SegmentationFacts>,
    body: &Anthropometry,
    composition: Option<&Composition>,
) -> Vec<QcFlag> {
    let mut out = Vec::new();
    match implausible_smi(body, composition) {
        Some(smi) => out.push(smi),
        None => out.extend(implausible_sma(composition)),
    }
    if let Some(text) = segmentation.and_then(|s| s.left_out.describe()) {
        out.push(flag("left_out", Severity::Info, text, None));
    }
    out.push(match &scan.level {
        None => flag(
            "level",
            Severity::Warning,
            "No L3 slice was chosen.".into(),
            None,
        ),
        Some(choice) => match &choice.method {
            L3Method::Manual | L3Method::Given => flag(
                "level",
                Severity::Info,
                format!("Level: {}.", choice.describe()),
                None,
            ),
            L3Method::Automatic { confidence, status } => {
                let trusted =
                    *status == L3Status::Found && *confidence >= LEVEL_CONFIDENCE_TO_TRUST;
                flag(
                    "level",
                    if trusted {
                        Severity::Info
                    } else {
                        Severity::Warning
                    },
                    if trusted {
                        format!("Level: {}.", choice.describe())
                    } else {
                        format!(
                            "Level: {}; below {LEVEL_CONFIDENCE_TO_TRUST} or uncertain, check it on the sagittal view.",
                            choice.describe()
                        )
                    },
                    None,
                )
            }
        },
    });
    out.push(match scan.slice_thickness_mm {
        None => flag(
            "thickness",
            Severity::Caution,
            "Slice thickness is not recorded.".into(),
            None,
        ),
        Some(t) if t > THICK_SLICE_MM => flag(
            "thickness",
            Severity::Caution,
            format!("Slices are {t:.1} mm thick (over {THICK_SLICE_MM} mm): partial volume blurs tissue borders and HU."),
            Some(THICKNESS_SOURCE),
        ),
        Some(t) => flag(
            "thickness",
            Severity::Info,
            format!("Slice thickness {t:.1} mm."),
            None,
        ),
    });
    out.push(match scan.contrast_agent.as_deref().map(str::trim) {
        Some(agent) if !agent.is_empty() => flag(
            "contrast",
            Severity::Caution,
            format!("Contrast recorded ({agent}): muscle HU rise by about 7–9 HU after contrast, so myosteatosis calls made on unenhanced cut-offs lean towards \"no\"; SMI changes little."),
            Some(CONTRAST_SOURCE),
        ),
        _ => flag(
            "contrast",
            Severity::Info,
            "No contrast agent recorded (the tag is often left empty: check the phase on the image).".into(),
            Some(CONTRAST_SOURCE),
        ),
    });
    out.push(match scan.kvp {
        None => flag(
            "kvp",
            Severity::Caution,
            "Tube voltage (kVp) is not recorded; HU depend on it.".into(),
            Some(KVP_SOURCE),
        ),
        Some(k) if (k - USUAL_KVP).abs() > 0.5 => flag(
            "kvp",
            Severity::Caution,
            format!("Tube voltage {k:.0} kVp (cut-offs were derived mostly at {USUAL_KVP:.0} kVp): HU and, slightly, areas shift with kVp."),
            Some(KVP_SOURCE),
        ),
        Some(k) => flag("kvp", Severity::Info, format!("Tube voltage {k:.0} kVp."), None),
    });
    match segmentation {
        None => out.push(flag(
            "segmentation",
            Severity::Warning,
            "The slice has not been segmented.".into(),
            None,
        )),
        Some(s) => {
            out.push(flag(
                "segmentation",
                Severity::Info,
                format!(
                    "Segmented by {} (weights SHA-256 {}…) on {}.",
                    s.model,
                    s.model_sha256.get(..12).unwrap_or(&s.model_sha256),
                    s.path
                ),
                None,
            ));
            out.push(if s.reviewed {
                flag(
                    "review",
                    Severity::Info,
                    if s.edited_pixels > 0 {
                        format!(
                            "Mask reviewed; {} pixels corrected by hand.",
                            s.edited_pixels
                        )
                    } else {
                        "Mask reviewed; no corrections.".into()
                    },
                    None,
                )
            } else {
                flag(
                    "review",
                    Severity::Caution,
                    "The mask has not been marked as reviewed.".into(),
                    None,
                )
            });
        }
    }
    out.push(match body.height {
        None => flag(
            "height",
            Severity::Warning,
            "No height: SMI and the sarcopenia call need it (it is never guessed).".into(),
            None,
        ),
        Some(h) => flag(
            "height",
            Severity::Info,
            format!(
                "Height {:.0} cm, {}.",
                h.metres * 100.0,
                match h.source {
                    HeightSource::Recorded => "from DICOM PatientSize",
                    HeightSource::Entered => "entered by the user",
                }
            ),
            None,
        ),
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::body::{Height, Indices};

    fn composition(smi: f64) -> Composition {
        Composition {
            tissues: Vec::new(),
            sma_cm2: smi * 3.0,
            muscle_hu: Some(35.0),
            low_attenuation_muscle_pct: Some(20.0),
            imat_cm2: 0.0,
            vat_cm2: 0.0,
            sat_cm2: 0.0,
            vat_sat_ratio: None,
            indices: Some(Indices {
                smi,
                imat: 0.0,
                vat: 0.0,
                sat: 0.0,
            }),
            bmi: None,
        }
    }

    #[test]
    fn an_smi_far_from_healthy_adults_is_flagged() {
        let man = Anthropometry {
            sex: Some(Sex::Male),
            height: Some(Height::new(1.73, HeightSource::Entered).unwrap()),
            weight_kg: None,
        };
        let keys = |smi: f64, body: &Anthropometry| {
            flags(&ScanFacts::default(), None, body, Some(&composition(smi)))
                .into_iter()
                .map(|f| f.key)
                .collect::<Vec<_>>()
        };
        // 52.94 ± 4 × 8.41 → 19.3 to 86.6 for men.
        assert!(!keys(45.0, &man).contains(&"smi_plausibility"));
        assert!(keys(15.0, &man).contains(&"smi_plausibility"));
        assert!(keys(95.0, &man).contains(&"smi_plausibility"));
        let woman = Anthropometry {
            sex: Some(Sex::Female),
            ..man
        };
        // 38.91 ± 4 × 5.65 → 16.3 to 61.5 for women.
        assert!(keys(65.0, &woman).contains(&"smi_plausibility"));
        assert!(!keys(65.0, &Anthropometry { sex: None, ..man }).contains(&"smi_plausibility"));
    }

    #[test]
    fn a_muscle_area_no_adult_l3_holds_is_flagged_without_height() {
        assert!((smallest_plausible_sma_cm2() - 31.97).abs() < 0.01);
        let keys = |sma: f64| {
            let mut c = composition(0.0);
            c.sma_cm2 = sma;
            c.indices = None;
            flags(
                &ScanFacts::default(),
                None,
                &Anthropometry::default(),
                Some(&c),
            )
            .into_iter()
            .map(|f| f.key)
            .collect::<Vec<_>>()
        };
        assert!(keys(0.0).contains(&"sma_plausibility"));
        assert!(keys(31.0).contains(&"sma_plausibility"));
        assert!(!keys(80.0).contains(&"sma_plausibility"));
    }

    #[test]
    fn arms_left_out_are_recorded_beside_the_numbers() {
        let body = Anthropometry::default();
        let mut segmentation = SegmentationFacts::default();
        let left_out = |s: &SegmentationFacts| {
            flags(&ScanFacts::default(), Some(s), &body, None)
                .into_iter()
                .find(|f| f.key == "left_out")
        };
        assert_eq!(left_out(&segmentation), None);
        segmentation.left_out.body_parts_cm2 = vec![48.0, 45.0];
        let flag = left_out(&segmentation).expect("a flag");
        assert_eq!(flag.severity, Severity::Info);
        assert!(flag.text.contains("2 body parts beside the trunk (93 cm²"));
    }
}
