//! One reference mask against the automatic mask of the same slice, and all such cases
//! summed up: what `sarcoscope agree` reports and the agreement view will show.

use serde::Serialize;

use super::calls::CallAgreement;
use super::icc::Icc;
use super::overlap::Overlap;
use super::paired::{BlandAltman, Concordance};
use super::AgreementError;
use crate::body::{sarcopenia, Anthropometry, Composition, SmiCutoffs};
use crate::segment::{AxialSlice, TissueClass, TissueMask};

/// One case: both masks on one slice.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseAgreement {
    pub case: String,
    /// Per tissue (muscle, IMAT, VAT, SAT), automatic against reference.
    pub tissues: Vec<(TissueClass, Overlap)>,
    /// Skeletal muscle area, cm²: automatic, reference.
    pub sma_auto_cm2: f64,
    pub sma_reference_cm2: f64,
    /// The sarcopenia call from each mask (`None` without sex or height).
    pub sarcopenia_auto: Option<bool>,
    pub sarcopenia_reference: Option<bool>,
}

impl CaseAgreement {
    /// `auto` and `reference` lie on `slice`'s grid; `body` and `cutoffs` make the calls.
    pub fn of(
        case: &str,
        auto: &TissueMask,
        reference: &TissueMask,
        slice: &AxialSlice,
        body: &Anthropometry,
        cutoffs: SmiCutoffs,
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
        let auto_body = Composition::of(auto, slice, body);
        let reference_body = Composition::of(reference, slice, body);
        CaseAgreement {
            case: case.to_owned(),
            tissues,
            sma_auto_cm2: auto_body.sma_cm2,
            sma_reference_cm2: reference_body.sma_cm2,
            sarcopenia_auto: sarcopenia(&auto_body, body, cutoffs).present,
            sarcopenia_reference: sarcopenia(&reference_body, body, cutoffs).present,
        }
    }
}

/// The muscle area's agreement over all cases.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SmaAgreement {
    pub bland_altman: BlandAltman,
    pub icc: Icc,
    pub concordance: Concordance,
}

/// Every case together: each figure, or why it cannot be given.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub sma: Result<SmaAgreement, AgreementError>,
    /// Over the cases where both masks give a call.
    pub sarcopenia: Result<CallAgreement, AgreementError>,
}

impl Summary {
    pub fn of(cases: &[CaseAgreement]) -> Summary {
        let auto: Vec<f64> = cases.iter().map(|c| c.sma_auto_cm2).collect();
        let reference: Vec<f64> = cases.iter().map(|c| c.sma_reference_cm2).collect();
        let pairs: Vec<Vec<f64>> = auto
            .iter()
            .zip(&reference)
            .map(|(a, r)| vec![*a, *r])
            .collect();
        let sma = BlandAltman::of(&auto, &reference).and_then(|bland_altman| {
            Ok(SmaAgreement {
                bland_altman,
                icc: Icc::of(&pairs)?,
                concordance: Concordance::of(&auto, &reference)?,
            })
        });
        let (test, truth): (Vec<bool>, Vec<bool>) = cases
            .iter()
            .filter_map(|c| c.sarcopenia_auto.zip(c.sarcopenia_reference))
            .unzip();
        Summary {
            sma,
            sarcopenia: CallAgreement::of(&test, &truth),
        }
    }
}
