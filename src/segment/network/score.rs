//! A model's masks against reference labels, per class: the figures of a model card's
//! evaluation and of a site's cross-validation, on any device (the browser awaits the
//! GPU; natively the same future is read at once).

use crate::{ModelError, PostProcess, Segmenter};
use sarcoscope::segment::dataset::{self, LabelledSlice};
use sarcoscope::segment::eval::AgreementBuilder;
use sarcoscope::segment::{TissueClass, TissueMask};

/// Agreement per class over `slices`, still open to more slices; a slice counts for a
/// class only where `known(slice number, class)` (a reader who traced muscle alone says
/// nothing about fat). Unlabelled reference pixels ([`dataset::IGNORE`]) count as
/// background: they lie where only an untraced tissue could be. `each` sees every
/// slice's number, prediction and reference (both through the HU windows).
pub async fn score<'a>(
    segmenter: &Segmenter,
    slices: impl IntoIterator<Item = &'a LabelledSlice>,
    post: &PostProcess,
    classes: &[TissueClass],
    known: impl Fn(usize, TissueClass) -> bool,
    mut each: impl FnMut(usize, &TissueMask, &TissueMask),
) -> Result<Vec<AgreementBuilder>, ModelError> {
    let mut builders: Vec<AgreementBuilder> = classes.iter().map(|_| Default::default()).collect();
    for (k, labelled) in slices.into_iter().enumerate() {
        let Some(slice) = labelled.slice() else {
            continue;
        };
        let predicted = segmenter.segment_async(&slice, post).await?.mask;
        let labels = labelled
            .labels
            .iter()
            .map(|&l| if l == dataset::IGNORE { 0 } else { l })
            .collect();
        let Some(mut reference) = TissueMask::from_labels(labelled.columns, labelled.rows, labels)
        else {
            continue;
        };
        post.windows.apply(&mut reference, &labelled.hu);
        for (class, builder) in classes.iter().zip(&mut builders) {
            if known(k, *class) {
                builder.add(
                    &labelled.name,
                    &predicted.of(*class),
                    &reference.of(*class),
                    slice.pixel_area_cm2(),
                );
            }
        }
        each(k, &predicted, &reference);
    }
    Ok(builders)
}
