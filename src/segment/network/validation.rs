//! Measuring a model against the real reference labels and against phantoms it never
//! saw: the figures that go into the model card and the README.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::score::score;
use crate::{ModelError, PostProcess, Segmenter};
use sarcoscope::segment::dataset::{self, LabelledSlice, PhantomRange};
use sarcoscope::segment::eval::{dilate, Agreement, AgreementBuilder};
use sarcoscope::segment::reference::{Reference, Structure};
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
    /// Where the held-out muscle errors lie, by what the "total" map names there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub real_held_out_muscle_errors: Option<MuscleErrors>,
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

/// Muscle errors on the held-out slices as shares of the reference muscle area, by the
/// structure the "total" map names under each wrong pixel. `extra` minus `missed`, summed
/// over structures, is the muscle area error; "unlabelled" is where neither reference
/// speaks (the abdominal wall's inner layers, the diaphragm's crura: a reader may side
/// with us there), a named organ or bone is an error whoever judges.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MuscleErrors {
    /// Muscle we call where the tissue reference has none (% of reference muscle).
    pub extra_percent: BTreeMap<String, f64>,
    /// Reference muscle we do not call muscle (% of reference muscle).
    pub missed_percent: BTreeMap<String, f64>,
    /// Of all wrong pixels (extra and missed), the share on the reference muscle's edge:
    /// a pixel with a neighbour (of eight) on the other side of that edge, where a shift of
    /// one pixel decides; the rest are gross errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_reference_edge_percent: Option<f64>,
}

impl MuscleErrors {
    fn from_counts(
        extra: BTreeMap<Structure, usize>,
        missed: BTreeMap<Structure, usize>,
        reference: usize,
        on_edge: usize,
    ) -> MuscleErrors {
        let wrong: usize = extra.values().chain(missed.values()).sum();
        let percent = |counts: BTreeMap<Structure, usize>| {
            counts
                .into_iter()
                .map(|(s, n)| {
                    (
                        s.key().to_owned(),
                        n as f64 / reference.max(1) as f64 * 100.0,
                    )
                })
                .collect()
        };
        MuscleErrors {
            extra_percent: percent(extra),
            missed_percent: percent(missed),
            on_reference_edge_percent: (wrong > 0).then(|| on_edge as f64 / wrong as f64 * 100.0),
        }
    }
}

/// `held_out` sees each held-out real slice with its prediction and reference (both
/// through the HU windows), to draw them.
pub fn evaluate(
    segmenter: &Segmenter,
    reference: Option<&Reference>,
    phantom_count: usize,
    mut held_out: impl FnMut(&LabelledSlice, &TissueMask, &TissueMask),
) -> Result<Evaluation, ModelError> {
    let post = PostProcess::default();
    let mut notes = Vec::new();
    let mut muscle_errors = None;
    let real_held_out = reference
        .map(|r| {
            let slices = r.held_out();
            let (mut extra, mut missed) = (BTreeMap::new(), BTreeMap::new());
            let (mut reference_muscle, mut on_edge) = (0usize, 0usize);
            let agreement = compare(
                segmenter,
                slices.iter().map(|(s, _)| s),
                &post,
                &[
                    TissueClass::SkeletalMuscle,
                    TissueClass::Vat,
                    TissueClass::Sat,
                ],
                |k, predicted, reference| {
                    held_out(&slices[k].0, predicted, reference);
                    let Some(structures) = slices[k].1 else {
                        return;
                    };
                    let muscle = TissueClass::SkeletalMuscle.label();
                    let edge = muscle_edge(reference);
                    for (i, ((&p, &r), &s)) in predicted
                        .labels()
                        .iter()
                        .zip(reference.labels())
                        .zip(structures)
                        .enumerate()
                    {
                        reference_muscle += usize::from(r == muscle);
                        if p == muscle && r != muscle {
                            *extra.entry(s).or_default() += 1;
                        } else if r == muscle && p != muscle {
                            *missed.entry(s).or_default() += 1;
                        } else {
                            continue;
                        }
                        on_edge += usize::from(edge[i]);
                    }
                },
            );
            muscle_errors = Some(MuscleErrors::from_counts(
                extra,
                missed,
                reference_muscle,
                on_edge,
            ));
            agreement
        })
        .transpose()?;
    let real_l3_back_muscles = reference.map(|r| back_muscles(segmenter, r, &post));
    if reference.is_none() {
        notes.push("real reference labels were not available: phantoms only".into());
    }
    let phantoms: Vec<LabelledSlice> = (0..phantom_count as u64)
        .map(|i| dataset::phantom_slice(EVAL_PHANTOM_SEED, i, &PhantomRange::default()))
        .collect();
    let phantom_scores = compare(
        segmenter,
        &phantoms,
        &post,
        &TissueClass::TISSUES,
        |_, _, _| {},
    )?;
    Ok(Evaluation {
        real_held_out,
        real_l3_back_muscles,
        real_held_out_muscle_errors: muscle_errors,
        phantoms: phantom_scores,
        phantom_count,
        notes,
    })
}

/// Pixels with one of their eight neighbours on the other side of the mask's muscle edge:
/// those within a pixel of both muscle and not-muscle.
fn muscle_edge(mask: &TissueMask) -> Vec<bool> {
    let (columns, rows) = (mask.columns, mask.rows);
    let muscle = mask.of(TissueClass::SkeletalMuscle);
    let other: Vec<bool> = muscle.iter().map(|&m| !m).collect();
    dilate(&muscle, columns, rows, 1)
        .into_iter()
        .zip(dilate(&other, columns, rows, 1))
        .map(|(near_muscle, near_other)| near_muscle && near_other)
        .collect()
}

/// Agreement per class over `slices`; `each` sees every slice's number, prediction and
/// reference (both through the HU windows).
fn compare<'a>(
    segmenter: &Segmenter,
    slices: impl IntoIterator<Item = &'a LabelledSlice>,
    post: &PostProcess,
    classes: &[TissueClass],
    each: impl FnMut(usize, &TissueMask, &TissueMask),
) -> Result<BTreeMap<String, Agreement>, ModelError> {
    let builders =
        burn::tensor::read_sync(score(segmenter, slices, post, classes, |_, _| true, each))?;
    Ok(classes
        .iter()
        .zip(builders)
        .map(|(c, b)| (c.key().to_owned(), b.finish()))
        .collect())
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
