//! Measuring a model against the real reference labels and against phantoms it never
//! saw: the figures that go into the model card and the README.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{PostProcess, Segmenter};
use sarcoscope::segment::dataset::{self, LabelledSlice, PhantomRange};
use sarcoscope::segment::eval::{dilate, Agreement, AgreementBuilder};
use sarcoscope::segment::reference::Reference;
use sarcoscope::segment::{TissueClass, TissueMask};

/// Phantoms for evaluation come from this seed, which training never uses.
pub const EVAL_PHANTOM_SEED: u64 = 0x5EED_E7A1;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Evaluation {
    /// Held-out TotalSegmentator slices (L1–L2): muscle, VAT, SAT. Both sides pass
    /// through the same HU windows, so the comparison is of compartments.
    pub real_held_out: Option<BTreeMap<String, Agreement>>,
    /// L3 slices: agreement on the back muscles (autochthon, iliopsoas), the only muscles
    /// labelled there; our muscle is compared within 9 mm of the labelled muscles.
    pub real_l3_back_muscles: Option<BackMuscles>,
    /// Unseen phantoms: all four tissues against the exact labels.
    pub phantoms: BTreeMap<String, Agreement>,
    pub phantom_count: usize,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BackMuscles {
    pub agreement: Agreement,
    /// Share of labelled back-muscle pixels (within the muscle window) we call muscle.
    pub recall: Option<f64>,
}

pub fn evaluate(
    segmenter: &Segmenter,
    reference: Option<&Reference>,
    phantom_count: usize,
) -> Evaluation {
    let post = PostProcess::default();
    let mut notes = Vec::new();
    let real_held_out = reference.map(|r| {
        compare(
            segmenter,
            &r.held_out(),
            &post,
            &[
                TissueClass::SkeletalMuscle,
                TissueClass::Vat,
                TissueClass::Sat,
            ],
        )
    });
    let real_l3_back_muscles = reference.map(|r| back_muscles(segmenter, r, &post));
    if reference.is_none() {
        notes.push("real reference labels were not available: phantoms only".into());
    }
    let phantoms: Vec<LabelledSlice> = (0..phantom_count as u64)
        .map(|i| dataset::phantom_slice(EVAL_PHANTOM_SEED, i, &PhantomRange::default()))
        .collect();
    let phantom_scores = compare(segmenter, &phantoms, &post, &TissueClass::TISSUES);
    Evaluation {
        real_held_out,
        real_l3_back_muscles,
        phantoms: phantom_scores,
        phantom_count,
        notes,
    }
}

fn compare(
    segmenter: &Segmenter,
    slices: &[LabelledSlice],
    post: &PostProcess,
    classes: &[TissueClass],
) -> BTreeMap<String, Agreement> {
    let mut builders: Vec<AgreementBuilder> = classes.iter().map(|_| Default::default()).collect();
    for labelled in slices {
        let Some(slice) = labelled.slice() else {
            continue;
        };
        let predicted = segmenter.segment(&slice, post).mask;
        let Some(mut reference) =
            TissueMask::from_labels(labelled.columns, labelled.rows, labelled.labels.clone())
        else {
            continue;
        };
        post.windows.apply(&mut reference, &labelled.hu);
        for (class, builder) in classes.iter().zip(&mut builders) {
            builder.add(
                &labelled.name,
                &predicted.of(*class),
                &reference.of(*class),
                slice.pixel_area_cm2(),
            );
        }
    }
    classes
        .iter()
        .zip(builders)
        .map(|(c, b)| (c.key().to_owned(), b.finish()))
        .collect()
}

fn back_muscles(segmenter: &Segmenter, reference: &Reference, post: &PostProcess) -> BackMuscles {
    let mut builder = AgreementBuilder::default();
    let (mut hit, mut total) = (0usize, 0usize);
    for (_, labelled) in &reference.l3_back_muscles {
        let Some(slice) = labelled.slice() else {
            continue;
        };
        let predicted = segmenter
            .segment(&slice, post)
            .mask
            .of(TissueClass::SkeletalMuscle);
        let labelled_muscle: Vec<bool> = labelled
            .labels
            .iter()
            .zip(&labelled.hu)
            .map(|(&l, &hu)| l == 1 && post.windows.muscle.contains(f64::from(hu)))
            .collect();
        let near = dilate(&labelled_muscle, labelled.columns, labelled.rows, 3);
        let ours: Vec<bool> = predicted.iter().zip(&near).map(|(&p, &n)| p && n).collect();
        hit += ours
            .iter()
            .zip(&labelled_muscle)
            .filter(|(&a, &b)| a && b)
            .count();
        total += labelled_muscle.iter().filter(|&&b| b).count();
        builder.add(
            &labelled.name,
            &ours,
            &labelled_muscle,
            slice.pixel_area_cm2(),
        );
    }
    BackMuscles {
        agreement: builder.finish(),
        recall: (total > 0).then(|| hit as f64 / total as f64),
    }
}
