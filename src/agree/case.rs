//! One reference mask against the automatic mask of the same slice, and all such cases
//! summed up: what `sarcoscope agree` reports and the agreement view will show.

use serde::Serialize;

use super::calls::CallAgreement;
use super::icc::Icc;
use super::overlap::Overlap;
use super::paired::{BlandAltman, Concordance};
use super::AgreementError;
use crate::body::{myosteatosis, sarcopenia, Anthropometry, Composition};
use crate::body::{MyosteatosisCutoffs, SmiCutoffs};
use crate::segment::{AxialSlice, TissueClass, TissueMask};

/// The cut-off sets the calls of every case are made with.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Cutoffs {
    pub smi: SmiCutoffs,
    pub myosteatosis: MyosteatosisCutoffs,
}

/// What one mask measures on its slice.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Measured {
    /// Skeletal muscle area, cm².
    pub sma_cm2: f64,
    /// Skeletal muscle index, cm²/m² (`None` without a height).
    pub smi: Option<f64>,
    /// Mean HU of the muscle pixels (`None` without muscle).
    pub muscle_hu: Option<f64>,
    /// The calls (`None` without what the cut-off needs: sex, height, BMI).
    pub sarcopenia: Option<bool>,
    pub myosteatosis: Option<bool>,
}

impl Measured {
    pub fn of(
        mask: &TissueMask,
        slice: &AxialSlice,
        body: &Anthropometry,
        cutoffs: Cutoffs,
    ) -> Self {
        let c = Composition::of(mask, slice, body);
        Measured {
            sma_cm2: c.sma_cm2,
            smi: c.indices.map(|i| i.smi),
            muscle_hu: c.muscle_hu,
            sarcopenia: sarcopenia(&c, body, cutoffs.smi).present,
            myosteatosis: myosteatosis(&c, body, cutoffs.myosteatosis).present,
        }
    }
}

/// How far the reader's slice lies from the automatic L3 of the same series.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
pub struct LevelDistance {
    /// Slice indices in the series (most inferior first).
    pub reference_slice: usize,
    pub auto_slice: usize,
    /// Reader's minus automatic, in slices and in mm along the body (positive: the reader
    /// traced higher).
    pub slices: i64,
    pub mm: f64,
}

impl LevelDistance {
    /// From the series' slice positions (mm, most inferior first); `None` when an index
    /// lies outside them.
    pub fn of(positions_mm: &[f64], reference_slice: usize, auto_slice: usize) -> Option<Self> {
        let mm = positions_mm.get(reference_slice)? - positions_mm.get(auto_slice)?;
        Some(LevelDistance {
            reference_slice,
            auto_slice,
            slices: reference_slice as i64 - auto_slice as i64,
            mm,
        })
    }
}

/// One case: both masks on one slice.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseAgreement {
    pub case: String,
    /// Per tissue (muscle, IMAT, VAT, SAT), automatic against reference.
    pub tissues: Vec<(TissueClass, Overlap)>,
    pub auto: Measured,
    pub reference: Measured,
    /// `None` when the slice is not part of a series the automatic L3 was searched in.
    pub level: Option<LevelDistance>,
}

impl CaseAgreement {
    /// `auto` and `reference` lie on `slice`'s grid; `body` and `cutoffs` make the calls.
    pub fn of(
        case: &str,
        auto: &TissueMask,
        reference: &TissueMask,
        slice: &AxialSlice,
        body: &Anthropometry,
        cutoffs: Cutoffs,
        level: Option<LevelDistance>,
    ) -> CaseAgreement {
        let tissues = TissueClass::TISSUES
            .iter()
            .map(|&t| {
                let overlap = Overlap::of(
                    &auto.of(t),
                    &reference.of(t),
                    slice.columns,
                    slice.pixel_spacing,
                );
                (t, overlap)
            })
            .collect();
        CaseAgreement {
            case: case.to_owned(),
            tissues,
            auto: Measured::of(auto, slice, body, cutoffs),
            reference: Measured::of(reference, slice, body, cutoffs),
            level,
        }
    }
}

/// One measurement's agreement over the cases that have it from both masks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MeasureAgreement {
    /// (automatic, reference) per case, in case order: what the plot shows.
    pub pairs: Vec<(f64, f64)>,
    pub bland_altman: BlandAltman,
    pub icc: Icc,
    pub concordance: Concordance,
}

impl MeasureAgreement {
    fn of(pairs: Vec<(f64, f64)>) -> Result<MeasureAgreement, AgreementError> {
        let (auto, reference): (Vec<f64>, Vec<f64>) = pairs.iter().copied().unzip();
        let ratings: Vec<Vec<f64>> = pairs.iter().map(|&(a, r)| vec![a, r]).collect();
        Ok(MeasureAgreement {
            bland_altman: BlandAltman::of(&auto, &reference)?,
            icc: Icc::of(&ratings)?,
            concordance: Concordance::of(&auto, &reference)?,
            pairs,
        })
    }
}

/// The L3 level over the cases where both the reader's slice and the automatic L3 are
/// known: how often they are the same slice, and how far apart they lie.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LevelSummary {
    pub cases: usize,
    pub same_slice: usize,
    /// Within one slice either way.
    pub within_one_slice: usize,
    pub mean_abs_mm: f64,
    pub max_abs_mm: f64,
    /// Mean signed distance (reader minus automatic), mm.
    pub mean_mm: f64,
}

impl LevelSummary {
    fn of(levels: &[LevelDistance]) -> Result<LevelSummary, AgreementError> {
        let n = levels.len();
        if n == 0 {
            return Err(AgreementError::TooFewCases { needed: 1, had: 0 });
        }
        let mm: Vec<f64> = levels.iter().map(|l| l.mm).collect();
        Ok(LevelSummary {
            cases: n,
            same_slice: levels.iter().filter(|l| l.slices == 0).count(),
            within_one_slice: levels.iter().filter(|l| l.slices.abs() <= 1).count(),
            mean_abs_mm: mm.iter().map(|v| v.abs()).sum::<f64>() / n as f64,
            max_abs_mm: mm.iter().fold(0.0, |m, v| m.max(v.abs())),
            mean_mm: mm.iter().sum::<f64>() / n as f64,
        })
    }
}

/// One tissue's overlap over the cases: the figures segmentation papers tabulate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TissueSummary {
    /// Cases where either mask holds the tissue (Dice is defined).
    pub cases: usize,
    pub dice_mean: Option<f64>,
    pub dice_sd: Option<f64>,
    pub hd95_median_mm: Option<f64>,
    /// Mean of (automatic − reference) / reference area, percent, over cases where the
    /// reference holds the tissue.
    pub area_difference_mean_pct: Option<f64>,
}

impl TissueSummary {
    fn of(overlaps: &[&Overlap]) -> TissueSummary {
        let dice: Vec<f64> = overlaps.iter().filter_map(|o| o.dice).collect();
        let mut hd95: Vec<f64> = overlaps.iter().filter_map(|o| o.hd95_mm).collect();
        hd95.sort_by(f64::total_cmp);
        let differences: Vec<f64> = overlaps
            .iter()
            .filter_map(|o| o.area_difference_percent())
            .collect();
        let mean = |v: &[f64]| (!v.is_empty()).then(|| crate::stats::mean(v));
        TissueSummary {
            cases: dice.len(),
            dice_mean: mean(&dice),
            dice_sd: (dice.len() > 1).then(|| crate::stats::variance(&dice).sqrt()),
            hd95_median_mm: (!hd95.is_empty()).then(|| crate::stats::quantile(&hd95, 0.5)),
            area_difference_mean_pct: mean(&differences),
        }
    }
}

/// Every case together: each figure, or why it cannot be given.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub tissues: Vec<(TissueClass, TissueSummary)>,
    pub sma: Result<MeasureAgreement, AgreementError>,
    /// Over the cases with a height.
    pub smi: Result<MeasureAgreement, AgreementError>,
    /// Over the cases where both masks hold muscle.
    pub muscle_hu: Result<MeasureAgreement, AgreementError>,
    /// Over the cases where both masks give a call.
    pub sarcopenia: Result<CallAgreement, AgreementError>,
    pub myosteatosis: Result<CallAgreement, AgreementError>,
    pub level: Result<LevelSummary, AgreementError>,
}

impl Summary {
    pub fn of(cases: &[CaseAgreement]) -> Summary {
        let pairs = |f: fn(&Measured) -> Option<f64>| {
            let both = cases
                .iter()
                .filter_map(|c| f(&c.auto).zip(f(&c.reference)))
                .collect();
            MeasureAgreement::of(both)
        };
        let calls = |f: fn(&Measured) -> Option<bool>| {
            let (test, truth): (Vec<bool>, Vec<bool>) = cases
                .iter()
                .filter_map(|c| f(&c.auto).zip(f(&c.reference)))
                .unzip();
            CallAgreement::of(&test, &truth)
        };
        let levels: Vec<LevelDistance> = cases.iter().filter_map(|c| c.level).collect();
        let tissues = TissueClass::TISSUES
            .iter()
            .map(|&t| {
                let overlaps: Vec<&Overlap> = cases
                    .iter()
                    .filter_map(|c| c.tissues.iter().find(|(k, _)| *k == t).map(|(_, o)| o))
                    .collect();
                (t, TissueSummary::of(&overlaps))
            })
            .collect();
        Summary {
            tissues,
            sma: pairs(|m| Some(m.sma_cm2)),
            smi: pairs(|m| m.smi),
            muscle_hu: pairs(|m| m.muscle_hu),
            sarcopenia: calls(|m| m.sarcopenia),
            myosteatosis: calls(|m| m.myosteatosis),
            level: LevelSummary::of(&levels),
        }
    }
}

/// The per-case CSV: one line per case and tissue, with the case's measurements from both
/// masks and the level distance repeated on each of its lines (a spreadsheet filters by
/// tissue).
pub fn cases_csv(cases: &[CaseAgreement]) -> String {
    let number = |v: Option<f64>| v.map_or_else(String::new, |v| format!("{v}"));
    let call = |v: Option<bool>| crate::body::yes_no(v).to_owned();
    let mut out = crate::csv::line(&[
        "case",
        "tissue",
        "dice",
        "jaccard",
        "hd95_mm",
        "area_auto_cm2",
        "area_ref_cm2",
        "area_difference_pct",
        "sma_auto_cm2",
        "sma_ref_cm2",
        "smi_auto",
        "smi_ref",
        "muscle_hu_auto",
        "muscle_hu_ref",
        "sarcopenia_auto",
        "sarcopenia_ref",
        "myosteatosis_auto",
        "myosteatosis_ref",
        "level_difference_slices",
        "level_difference_mm",
    ]);
    out.push('\n');
    for c in cases {
        // Two readers on different slices have no overlap: the case still has its line.
        let none = [(TissueClass::Background, None)];
        let tissues: Vec<(TissueClass, Option<&Overlap>)> = if c.tissues.is_empty() {
            none.to_vec()
        } else {
            c.tissues.iter().map(|(t, o)| (*t, Some(o))).collect()
        };
        for (tissue, o) in tissues {
            let tissue_key = if o.is_some() { tissue.key() } else { "" };
            let fields = [
                c.case.clone(),
                tissue_key.to_owned(),
                number(o.and_then(|o| o.dice)),
                number(o.and_then(|o| o.jaccard)),
                number(o.and_then(|o| o.hd95_mm)),
                o.map_or_else(String::new, |o| format!("{}", o.area_test_cm2)),
                o.map_or_else(String::new, |o| format!("{}", o.area_reference_cm2)),
                number(o.and_then(Overlap::area_difference_percent)),
                format!("{}", c.auto.sma_cm2),
                format!("{}", c.reference.sma_cm2),
                number(c.auto.smi),
                number(c.reference.smi),
                number(c.auto.muscle_hu),
                number(c.reference.muscle_hu),
                call(c.auto.sarcopenia),
                call(c.reference.sarcopenia),
                call(c.auto.myosteatosis),
                call(c.reference.myosteatosis),
                c.level.map_or_else(String::new, |l| l.slices.to_string()),
                number(c.level.map(|l| l.mm)),
            ];
            out.push_str(&crate::csv::line(&fields));
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measured(sma: f64, smi: Option<f64>, sarcopenia: Option<bool>) -> Measured {
        Measured {
            sma_cm2: sma,
            smi,
            muscle_hu: Some(sma / 4.0),
            sarcopenia,
            myosteatosis: None,
        }
    }

    fn case(name: &str, auto: Measured, reference: Measured, level: Option<i64>) -> CaseAgreement {
        CaseAgreement {
            case: name.into(),
            tissues: vec![],
            auto,
            reference,
            level: level.map(|d| LevelDistance {
                reference_slice: (10 + d) as usize,
                auto_slice: 10,
                slices: d,
                mm: 3.0 * d as f64,
            }),
        }
    }

    #[test]
    fn each_figure_is_over_the_cases_that_have_it() {
        let cases = [
            case(
                "a",
                measured(150.0, Some(50.0), Some(false)),
                measured(148.0, Some(49.0), Some(false)),
                Some(0),
            ),
            case(
                "b",
                measured(120.0, None, None),
                measured(125.0, None, None),
                Some(-2),
            ),
            case(
                "c",
                measured(130.0, Some(42.0), Some(true)),
                measured(133.0, Some(44.0), Some(false)),
                None,
            ),
            case(
                "d",
                measured(160.0, Some(55.0), Some(false)),
                measured(158.0, Some(54.5), Some(false)),
                Some(1),
            ),
        ];
        let s = Summary::of(&cases);
        let sma = s.sma.expect("four cases");
        assert_eq!(sma.pairs.len(), 4);
        assert_eq!(sma.pairs[1], (120.0, 125.0));
        assert_eq!(s.smi.expect("three with height").pairs.len(), 3);
        assert_eq!(s.sarcopenia.expect("three calls").cases, 3);
        assert_eq!(
            s.myosteatosis,
            Err(AgreementError::TooFewCases { needed: 2, had: 0 })
        );
        let level = s.level.expect("three levels");
        assert_eq!(
            (level.cases, level.same_slice, level.within_one_slice),
            (3, 1, 2)
        );
        assert!((level.mean_abs_mm - 3.0).abs() < 1e-12);
        assert!((level.max_abs_mm - 6.0).abs() < 1e-12);
        assert!((level.mean_mm + 1.0).abs() < 1e-12);
    }

    #[test]
    fn level_distance_is_signed_along_the_body() {
        let positions = [0.0, 3.0, 6.0, 9.0];
        let d = LevelDistance::of(&positions, 1, 3).expect("inside");
        assert_eq!((d.slices, d.mm), (-2, -6.0));
        assert_eq!(LevelDistance::of(&positions, 4, 1), None);
    }

    #[test]
    fn the_csv_has_a_line_per_case_and_tissue() {
        let mut c = case(
            "x,1",
            measured(150.0, None, None),
            measured(140.0, None, None),
            Some(1),
        );
        c.tissues = vec![(
            TissueClass::SkeletalMuscle,
            Overlap {
                dice: Some(0.9),
                jaccard: Some(0.8),
                hd95_mm: Some(2.0),
                area_test_cm2: 150.0,
                area_reference_cm2: 140.0,
            },
        )];
        let csv = cases_csv(&[c]);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(
            lines[1].starts_with("\"x,1\",muscle,0.9,0.8,2,150,140,"),
            "{}",
            lines[1]
        );
        assert!(
            lines[1].ends_with(",unknown,unknown,unknown,unknown,1,3"),
            "{}",
            lines[1]
        );
        let apart = case(
            "y",
            measured(150.0, None, None),
            measured(140.0, None, None),
            Some(2),
        );
        let csv = cases_csv(&[apart]);
        let line = csv
            .lines()
            .nth(1)
            .expect("a line for a case without overlap");
        assert!(line.starts_with("y,,,,,,,,150,140,"), "{line}");
    }
}
