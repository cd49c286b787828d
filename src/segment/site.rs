//! A site's own expert masks as training data: each reader's mask on its CT slice becomes
//! a labelled slice, and the cases are split into folds for cross-validation, so that a
//! fine-tuned model is only ever judged on cases it was not trained on.
//!
//! Readers often trace only some tissues (many studies trace muscle alone). A tissue
//! with no pixel in a mask was not traced, so the unlabelled pixels that could have been
//! it — those in its HU window — carry no label ([`IGNORE`]) instead of teaching
//! "background": a muscle-only mask teaches muscle and "not muscle", and says nothing
//! about which fat is which.
//!
//! Folds keep a patient's slices together (slices of one person look alike, so a model
//! trained on one of them and tested on its neighbour would be judged too kindly). With
//! fewer patients than folds — one series traced on many slices — the folds are runs
//! along the body, and the slices within [`NEIGHBOUR_MM`] of a tested slice are left out
//! of that fold's training.

use std::collections::BTreeMap;

use super::dataset::{LabelledSlice, IGNORE};
use super::{AxialSlice, HuWindows, TissueClass, TissueMask};

/// Slices closer than this to a tested slice of the same series are not trained on in
/// that fold: at 3 mm, the two neighbours on each side.
pub const NEIGHBOUR_MM: f64 = 6.5;

/// One reader's mask on its slice, ready to train on or test against.
#[derive(Debug, Clone)]
pub struct SiteCase {
    pub slice: LabelledSlice,
    /// The series the slice belongs to (its Series Instance UID): one patient's images.
    pub series: String,
    /// Where the slice lies along the body (mm), when its image says.
    pub z_mm: Option<f64>,
    /// The tissues the reader traced, in [`TissueClass::TISSUES`] order.
    pub traced: Vec<TissueClass>,
}

impl SiteCase {
    /// `reference` traced on `slice`; `name` is the case as reports show it.
    pub fn new(
        name: String,
        series: String,
        z_mm: Option<f64>,
        reference: &TissueMask,
        slice: &AxialSlice,
    ) -> SiteCase {
        let windows = HuWindows::default();
        let traced: Vec<TissueClass> = TissueClass::TISSUES
            .into_iter()
            .filter(|&t| reference.count(t) > 0)
            .collect();
        let untraced: Vec<_> = TissueClass::TISSUES
            .into_iter()
            .filter(|t| !traced.contains(t))
            .filter_map(|t| windows.of(t))
            .collect();
        let labels = reference
            .labels()
            .iter()
            .zip(slice.hu)
            .map(|(&label, &hu)| {
                let unknown = label == TissueClass::Background.label()
                    && untraced.iter().any(|w| w.contains(f64::from(hu)));
                if unknown {
                    IGNORE
                } else {
                    label
                }
            })
            .collect();
        SiteCase {
            slice: LabelledSlice {
                name,
                hu: slice.hu.to_vec(),
                labels,
                columns: slice.columns,
                rows: slice.rows,
                pixel_spacing: slice.pixel_spacing,
            },
            series,
            z_mm,
            traced,
        }
    }
}

/// How the cases were divided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Split {
    /// Whole patients (series) per fold: figures say how the model does on new patients.
    ByPatient,
    /// Runs of slices along the body of fewer patients than folds: figures say how the
    /// model does on other levels of the same patients, not on new patients.
    AlongBody,
}

impl Split {
    pub fn describe(self) -> &'static str {
        match self {
            Split::ByPatient => "each fold holds whole patients (series): the figures say how the model does on patients it was not trained on",
            Split::AlongBody => "fewer patients than folds, so each fold holds a run of slices along the body, and slices within 6.5 mm of a tested slice are not trained on: the figures say how the model does on other levels of the same patients, not on new patients",
        }
    }
}

/// One fold: the cases tested, those trained on, and the neighbours left out of both.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Fold {
    pub test: Vec<usize>,
    pub train: Vec<usize>,
    pub left_out: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Folds {
    pub split: Split,
    pub folds: Vec<Fold>,
}

/// Why the cases cannot be cross-validated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FoldError {
    #[error("cross-validation needs at least 2 folds")]
    TooFewFolds,
    #[error("{cases} labelled slice(s) cannot be split into {folds} folds: give at least {folds} slices, or fewer folds")]
    TooFewCases { cases: usize, folds: usize },
    #[error("fold {fold} leaves nothing to train on once the neighbours of its tested slices are left out: give slices farther apart, or more folds")]
    NothingToTrain { fold: usize },
}

/// The cases divided into `k` folds (see the module documentation).
pub fn folds(cases: &[SiteCase], k: usize) -> Result<Folds, FoldError> {
    if k < 2 {
        return Err(FoldError::TooFewFolds);
    }
    if cases.len() < k {
        return Err(FoldError::TooFewCases {
            cases: cases.len(),
            folds: k,
        });
    }
    let mut by_series: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, case) in cases.iter().enumerate() {
        by_series.entry(&case.series).or_default().push(i);
    }
    let (split, tests) = if by_series.len() >= k {
        // Largest patients first, each to the fold with the fewest cases so far.
        let mut groups: Vec<Vec<usize>> = by_series.into_values().collect();
        groups.sort_by_key(|g| std::cmp::Reverse(g.len()));
        let mut tests: Vec<Vec<usize>> = vec![Vec::new(); k];
        for group in groups {
            if let Some(fold) = tests.iter_mut().min_by_key(|t| t.len()) {
                fold.extend(group);
            }
        }
        (Split::ByPatient, tests)
    } else {
        let mut order: Vec<usize> = (0..cases.len()).collect();
        order.sort_by(|&a, &b| {
            let key = |i: usize| (&cases[i].series, cases[i].z_mm.unwrap_or(f64::NAN));
            let (sa, za) = key(a);
            let (sb, zb) = key(b);
            sa.cmp(sb).then(za.total_cmp(&zb))
        });
        let tests = (0..k)
            .map(|f| order[f * order.len() / k..(f + 1) * order.len() / k].to_vec())
            .collect();
        (Split::AlongBody, tests)
    };
    let folds = tests
        .into_iter()
        .enumerate()
        .map(|(f, mut test)| {
            test.sort_unstable();
            let near = |i: usize| {
                split == Split::AlongBody
                    && test.iter().any(|&t| {
                        cases[t].series == cases[i].series
                            && matches!((cases[t].z_mm, cases[i].z_mm),
                                (Some(a), Some(b)) if (a - b).abs() < NEIGHBOUR_MM)
                    })
            };
            let (left_out, train): (Vec<usize>, Vec<usize>) = (0..cases.len())
                .filter(|i| !test.contains(i))
                .partition(|&i| near(i));
            if train.is_empty() {
                return Err(FoldError::NothingToTrain { fold: f + 1 });
            }
            Ok(Fold {
                test,
                train,
                left_out,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Folds { split, folds })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::Millimetres;

    fn case(series: &str, z: f64) -> SiteCase {
        let hu = [40i16, -100, 500, -1000];
        let slice = AxialSlice {
            hu: &hu,
            columns: 2,
            rows: 2,
            pixel_spacing: [Millimetres(1.0); 2],
        };
        let mask = TissueMask::from_labels(2, 2, vec![1, 0, 0, 0])
            .unwrap_or_else(|| TissueMask::empty(2, 2));
        SiteCase::new(
            format!("{series}@{z}"),
            series.into(),
            Some(z),
            &mask,
            &slice,
        )
    }

    #[test]
    fn untraced_tissues_carry_no_label_where_their_window_allows_them() {
        let c = case("a", 0.0);
        // Muscle traced; the fat-window pixel may be any fat: no label. Bone and air are
        // none of the untraced tissues: background.
        assert_eq!(c.slice.labels, vec![1, IGNORE, 0, 0]);
        assert_eq!(c.traced, vec![TissueClass::SkeletalMuscle]);
    }

    #[test]
    fn fully_traced_masks_keep_their_background() {
        let hu = [40i16, -100, -100, -100, -100];
        let slice = AxialSlice {
            hu: &hu,
            columns: 5,
            rows: 1,
            pixel_spacing: [Millimetres(1.0); 2],
        };
        let mask = TissueMask::from_labels(5, 1, vec![1, 2, 3, 4, 0])
            .unwrap_or_else(|| TissueMask::empty(5, 1));
        let c = SiteCase::new("x".into(), "s".into(), None, &mask, &slice);
        assert_eq!(c.slice.labels, vec![1, 2, 3, 4, 0]);
        assert_eq!(c.traced.len(), 4);
    }

    #[test]
    fn patients_stay_together_and_every_case_is_tested_once() {
        let cases: Vec<SiteCase> = ["a", "a", "b", "c", "c", "c", "d"]
            .iter()
            .enumerate()
            .map(|(i, s)| case(s, i as f64 * 3.0))
            .collect();
        let folds = folds(&cases, 3).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(folds.split, Split::ByPatient);
        let mut tested: Vec<usize> = folds.folds.iter().flat_map(|f| f.test.clone()).collect();
        tested.sort_unstable();
        assert_eq!(tested, (0..7).collect::<Vec<_>>());
        for fold in &folds.folds {
            for &t in &fold.test {
                assert!(fold
                    .train
                    .iter()
                    .all(|&i| cases[i].series != cases[t].series));
            }
            assert!(fold.left_out.is_empty());
        }
    }

    #[test]
    fn one_patient_splits_along_the_body_without_training_on_neighbours() {
        let cases: Vec<SiteCase> = (0..15)
            .rev()
            .map(|i| case("a", f64::from(i) * 3.0))
            .collect();
        let folds = folds(&cases, 3).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(folds.split, Split::AlongBody);
        let z = |i: usize| cases[i].z_mm.unwrap_or_default();
        for fold in &folds.folds {
            assert_eq!(fold.test.len(), 5);
            for &t in &fold.test {
                for &i in &fold.train {
                    assert!((z(t) - z(i)).abs() > 6.0, "trained on a neighbour");
                }
            }
            assert_eq!(fold.test.len() + fold.train.len() + fold.left_out.len(), 15);
        }
        // The lowest run is tested in the first fold; its two neighbours above are left out.
        let first = &folds.folds[0];
        let mut tested: Vec<f64> = first.test.iter().map(|&i| z(i)).collect();
        tested.sort_by(f64::total_cmp);
        assert_eq!(tested, vec![0.0, 3.0, 6.0, 9.0, 12.0]);
        let mut left: Vec<f64> = first.left_out.iter().map(|&i| z(i)).collect();
        left.sort_by(f64::total_cmp);
        assert_eq!(left, vec![15.0, 18.0]);
    }

    #[test]
    fn too_few_cases_or_folds_are_refused_in_words() {
        let cases = vec![case("a", 0.0), case("a", 3.0)];
        assert_eq!(folds(&cases, 1), Err(FoldError::TooFewFolds));
        assert_eq!(
            folds(&cases, 3),
            Err(FoldError::TooFewCases { cases: 2, folds: 3 })
        );
        assert_eq!(folds(&cases, 2), Err(FoldError::NothingToTrain { fold: 1 }));
    }
}
