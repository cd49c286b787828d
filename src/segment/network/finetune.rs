//! Fine-tuning a trained model on a site's own expert masks, judged honestly: k-fold
//! cross-validation first (each fold fine-tunes from the same starting model on the other
//! folds' cases and is tested on its own; the starting model is tested on the same cases,
//! so "before" and "after" are figures on the same slices), then one model fine-tuned on
//! every case, which is the one the site keeps. Its figures are the cross-validated ones:
//! no model is ever tested on a case it was trained on.

use std::collections::BTreeMap;
use std::ops::ControlFlow;

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::model::ModelCard;
use crate::score::score;
use crate::train::{self, TrainConfig, TrainError, TrainLog};
use crate::unet::UNet;
use crate::{ModelError, PostProcess, Segmenter};
use sarcoscope::segment::eval::{Agreement, AgreementBuilder};
use sarcoscope::segment::site::{self, FoldError, SiteCase, Split};
use sarcoscope::segment::TissueClass;

/// Figures of one fold: the starting model and the fold's model on the fold's cases.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FoldFigures {
    pub fold: usize,
    pub tested: Vec<String>,
    pub trained_on: usize,
    /// Neighbours of tested slices that the fold did not train on.
    pub left_out: usize,
    pub before: BTreeMap<String, Agreement>,
    pub after: BTreeMap<String, Agreement>,
}

/// The cross-validation, per fold and pooled over every case (each tested once).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CrossValidation {
    pub split: Split,
    pub method: String,
    pub folds: Vec<FoldFigures>,
    pub before: BTreeMap<String, Agreement>,
    pub after: BTreeMap<String, Agreement>,
}

/// Where a fine-tuning run is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Progress {
    /// Training fold `fold` (from 1) of `folds`.
    Fold {
        fold: usize,
        folds: usize,
        step: usize,
        steps: usize,
        loss: f64,
    },
    /// Testing the starting model and fold `fold`'s model on its cases.
    Testing { fold: usize, folds: usize },
    /// Training the model the site keeps, on every case.
    Final {
        step: usize,
        steps: usize,
        loss: f64,
    },
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FineTuneError {
    #[error(transparent)]
    Folds(#[from] FoldError),
    #[error(transparent)]
    Train(#[from] TrainError),
    #[error(transparent)]
    Model(#[from] ModelError),
}

/// The model fine-tuned on every case, how it was trained, and its cross-validated
/// figures.
pub struct FineTuned {
    pub network: UNet,
    pub log: TrainLog,
    pub validation: CrossValidation,
}

/// Cross-validates fine-tuning from `start` over `folds` folds of `cases`, then
/// fine-tunes on them all. `progress` hears every step and may stop the run.
pub async fn fine_tune(
    config: &TrainConfig,
    folds: usize,
    cases: &[SiteCase],
    start: (&ModelCard, &[u8]),
    device: &Device,
    device_name: &str,
    mut progress: impl FnMut(Progress) -> ControlFlow<()>,
) -> Result<FineTuned, FineTuneError> {
    let split = site::folds(cases, folds)?;
    let (card, weights) = start;
    let before_model = Segmenter::new(card.clone(), weights, device.clone())?;
    let post = PostProcess::default();
    let mut pooled_before = builders();
    let mut pooled_after = builders();
    let mut figures = Vec::with_capacity(split.folds.len());
    let count = split.folds.len();
    for (f, fold) in split.folds.iter().enumerate() {
        let training: Vec<_> = fold.train.iter().map(|&i| cases[i].slice.clone()).collect();
        let (network, _) = train::train_async(
            config,
            &training,
            Some(start),
            device,
            device_name,
            |step, loss| {
                progress(Progress::Fold {
                    fold: f + 1,
                    folds: count,
                    step,
                    steps: config.steps,
                    loss,
                })
            },
        )
        .await?;
        if progress(Progress::Testing {
            fold: f + 1,
            folds: count,
        })
        .is_break()
        {
            return Err(TrainError::Cancelled.into());
        }
        let after_model = Segmenter::from_network(card.clone(), network, device.clone());
        let tested: Vec<&SiteCase> = fold.test.iter().map(|&i| &cases[i]).collect();
        let judge = |segmenter| {
            score(
                segmenter,
                tested.iter().map(|c| &c.slice),
                &post,
                &TissueClass::TISSUES,
                |k, class| tested.get(k).is_some_and(|c| c.traced.contains(&class)),
                |_, _, _| {},
            )
        };
        let before = judge(&before_model).await?;
        let after = judge(&after_model).await?;
        merge(&mut pooled_before, &before);
        merge(&mut pooled_after, &after);
        figures.push(FoldFigures {
            fold: f + 1,
            tested: tested.iter().map(|c| c.slice.name.clone()).collect(),
            trained_on: fold.train.len(),
            left_out: fold.left_out.len(),
            before: finish(&before),
            after: finish(&after),
        });
    }
    let all: Vec<_> = cases.iter().map(|c| c.slice.clone()).collect();
    let (network, log) = train::train_async(
        config,
        &all,
        Some(start),
        device,
        device_name,
        |step, loss| {
            progress(Progress::Final {
                step,
                steps: config.steps,
                loss,
            })
        },
    )
    .await?;
    let method = format!(
        "{count}-fold cross-validation: {} Each fold fine-tuned from {} {} with the same settings as the final model and was tested on its own cases only; \"before\" is the starting model on the same cases. A tissue counts on a slice only where the reader traced it. Both masks pass through the same HU windows.",
        split.split.describe(),
        card.name,
        card.version
    );
    Ok(FineTuned {
        network,
        log,
        validation: CrossValidation {
            split: split.split,
            method,
            folds: figures,
            before: finish(&pooled_before),
            after: finish(&pooled_after),
        },
    })
}

/// How a model card names the model a fine-tuning started from.
pub fn started_from(card: &ModelCard) -> String {
    format!(
        "{} {} (weights SHA-256 {})",
        card.name, card.version, card.weights.sha256
    )
}

/// What a fine-tuned model's card says of its data, without naming a file, patient or
/// UID (cases are numbered; whoever trained it has the list).
pub struct SiteSummary {
    pub data: serde_json::Value,
    pub limitations: Vec<String>,
}

impl SiteSummary {
    pub fn of(
        cases: &[SiteCase],
        not_used: usize,
        config: &TrainConfig,
        start: &ModelCard,
    ) -> SiteSummary {
        let series: std::collections::BTreeSet<&str> =
            cases.iter().map(|c| c.series.as_str()).collect();
        let tracing: BTreeMap<&str, usize> = TissueClass::TISSUES
            .iter()
            .map(|t| {
                (
                    t.key(),
                    cases.iter().filter(|c| c.traced.contains(t)).count(),
                )
            })
            .collect();
        SiteSummary {
            data: serde_json::json!({
                "site": {
                    "slices": cases.len(),
                    "series": series.len(),
                    "slices_tracing": tracing,
                    "not_used": not_used,
                    "note": "Cases are numbered in the order the masks were read; whoever ran the training was shown which mask each number is. No file, patient or UID is named here.",
                },
                "phantoms": format!("{} procedural L3-region slices (src/phantom) drawn from seed {}, mixed in at {:.0} % of crops", config.phantoms, config.seed, (1.0 - config.real_share) * 100.0),
                "started_from": started_from(start),
            }),
            limitations: vec![
                format!("Fine-tuned on {} slices of {} series traced by this site's readers; its figures are the cross-validated ones under validation.site_cross_validation, on the same kind of images only.", cases.len(), series.len()),
                format!("Grew from {} {}: what that model's card says about its own training data still holds.", start.name, start.version),
            ],
        }
    }
}

fn builders() -> Vec<AgreementBuilder> {
    TissueClass::TISSUES
        .iter()
        .map(|_| AgreementBuilder::default())
        .collect()
}

fn merge(into: &mut [AgreementBuilder], from: &[AgreementBuilder]) {
    for (a, b) in into.iter_mut().zip(from) {
        a.merge(b);
    }
}

/// Figures per tissue, leaving out tissues no tested slice had traced.
fn finish(builders: &[AgreementBuilder]) -> BTreeMap<String, Agreement> {
    TissueClass::TISSUES
        .iter()
        .zip(builders)
        .map(|(c, b)| (c.key().to_owned(), b.finish()))
        .filter(|(_, a)| a.slices > 0)
        .collect()
}
