//! Pooling centres' validation figures by random-effects meta-analysis, as
//! `metamisc::valmeta` does it (Debray et al., BMJ 2017;356:i6460; Snell et al. 2018):
//! each centre's figure on a scale where it is roughly normal — C on the logit scale,
//! O:E on the log scale, the calibration slope as it is — the between-centre variance τ²
//! by restricted maximum likelihood, the pooled figure's interval by
//! Hartung–Knapp–Sidik–Jonkman (a t distribution with k − 1 degrees of freedom and the
//! weighted residual variance), and an approximate 95 % prediction interval for a new
//! centre, μ̂ ± t(k − 2)·√(τ² + SE²) (Riley, Higgins & Deeks, BMJ 2011;342:d549).

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

use super::aggregate::ValidationReport;
use super::analysis::CalibrationAt;

/// The scale a figure is pooled on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scale {
    /// log(p / (1 − p)): C statistics.
    Logit,
    /// O:E ratios.
    Log,
    /// The calibration slope.
    Identity,
}

impl Scale {
    fn to(self, x: f64) -> f64 {
        match self {
            Scale::Logit => (x / (1.0 - x)).ln(),
            Scale::Log => x.ln(),
            Scale::Identity => x,
        }
    }

    fn back(self, y: f64) -> f64 {
        match self {
            Scale::Logit => 1.0 / (1.0 + (-y).exp()),
            Scale::Log => y.exp(),
            Scale::Identity => y,
        }
    }

    /// The derivative of `to` at x: the delta method carries an SE onto the scale.
    fn slope(self, x: f64) -> f64 {
        match self {
            Scale::Logit => 1.0 / (x * (1.0 - x)),
            Scale::Log => 1.0 / x,
            Scale::Identity => 1.0,
        }
    }
}

/// One centre's figure and its standard error, both on the figure's own scale (C, not
/// logit C) unless `se_on_scale` says the SE is already on the pooling scale (log O:E).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Centre {
    pub label: String,
    pub estimate: f64,
    pub se: f64,
    pub se_on_scale: bool,
}

/// A centre's figure with its 95 % interval, back on the natural scale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    pub label: String,
    pub estimate: f64,
    pub lower: f64,
    pub upper: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pooled {
    pub scale: Scale,
    pub k: usize,
    pub centres: Vec<Interval>,
    /// The pooled figure and its HKSJ interval, back on the natural scale.
    pub estimate: f64,
    pub lower: f64,
    pub upper: f64,
    /// For a new centre; needs at least three centres.
    pub prediction: Option<(f64, f64)>,
    /// On the pooling scale: τ² (REML) and the HKSJ standard error of μ̂.
    pub tau2: f64,
    pub se: f64,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PoolingError {
    #[error("pooling needs at least two centres with this figure (there are {0})")]
    TooFew(usize),
    #[error("{label}: the figure {estimate} or its standard error {se} cannot be pooled on the {scale:?} scale")]
    Unusable {
        label: String,
        estimate: f64,
        se: f64,
        scale: Scale,
    },
}

/// τ² by REML: Fisher scoring on the restricted likelihood, as `metafor::rma(method =
/// "REML")` (Viechtbauer, J Educ Behav Stat 2005;30:261), from the DerSimonian–Laird
/// value, truncated at zero.
pub fn reml_tau2(y: &[f64], v: &[f64]) -> f64 {
    let k = y.len() as f64;
    let weights = |tau2: f64| -> Vec<f64> { v.iter().map(|vi| 1.0 / (vi + tau2)).collect() };
    let mean = |w: &[f64]| y.iter().zip(w).map(|(y, w)| y * w).sum::<f64>() / w.iter().sum::<f64>();
    // DerSimonian–Laird start.
    let w = weights(0.0);
    let mu = mean(&w);
    let q: f64 = y.iter().zip(&w).map(|(y, w)| w * (y - mu).powi(2)).sum();
    let (sw, sw2) = (w.iter().sum::<f64>(), w.iter().map(|w| w * w).sum::<f64>());
    let mut tau2 = ((q - (k - 1.0)) / (sw - sw2 / sw)).max(0.0);
    for _ in 0..200 {
        let w = weights(tau2);
        let sw: f64 = w.iter().sum();
        let mu = mean(&w);
        // P = W − W 1 1' W / Σw; the REML score and information in τ².
        let p_diag: Vec<f64> = w.iter().map(|wi| wi - wi * wi / sw).collect();
        let py: Vec<f64> = y.iter().zip(&w).map(|(yi, wi)| wi * (yi - mu)).collect();
        let trace_p: f64 = p_diag.iter().sum();
        // tr(PP) = Σ w² − 2 Σ w³ / Σw + (Σ w²)² / (Σw)².
        let sw2: f64 = w.iter().map(|w| w * w).sum();
        let sw3: f64 = w.iter().map(|w| w * w * w).sum();
        let trace_pp = sw2 - 2.0 * sw3 / sw + sw2 * sw2 / (sw * sw);
        let score = 0.5 * (py.iter().map(|x| x * x).sum::<f64>() - trace_p);
        let information = 0.5 * trace_pp;
        let step = score / information;
        let next = (tau2 + step).max(0.0);
        if (next - tau2).abs() < 1e-10 {
            return next;
        }
        tau2 = next;
    }
    tau2
}

/// Pools `centres`' figure on `scale`.
pub fn pool(centres: &[Centre], scale: Scale) -> Result<Pooled, PoolingError> {
    let k = centres.len();
    if k < 2 {
        return Err(PoolingError::TooFew(k));
    }
    let mut y = Vec::with_capacity(k);
    let mut v = Vec::with_capacity(k);
    for c in centres {
        let yi = scale.to(c.estimate);
        let se = if c.se_on_scale {
            c.se
        } else {
            c.se * scale.slope(c.estimate).abs()
        };
        if !yi.is_finite() || !se.is_finite() || se <= 0.0 {
            return Err(PoolingError::Unusable {
                label: c.label.clone(),
                estimate: c.estimate,
                se: c.se,
                scale,
            });
        }
        y.push(yi);
        v.push(se * se);
    }
    let tau2 = reml_tau2(&y, &v);
    let w: Vec<f64> = v.iter().map(|vi| 1.0 / (vi + tau2)).collect();
    let sw: f64 = w.iter().sum();
    let mu = y.iter().zip(&w).map(|(y, w)| y * w).sum::<f64>() / sw;
    let kf = k as f64;
    let q_hk = y
        .iter()
        .zip(&w)
        .map(|(y, w)| w * (y - mu).powi(2))
        .sum::<f64>()
        / (kf - 1.0);
    let se = (q_hk / sw).sqrt();
    let t = |df: f64| {
        StudentsT::new(0.0, 1.0, df)
            .map(|d| d.inverse_cdf(0.975))
            .unwrap_or(f64::NAN)
    };
    let half = t(kf - 1.0) * se;
    let prediction = (k >= 3).then(|| {
        let half = t(kf - 2.0) * (tau2 + se * se).sqrt();
        (scale.back(mu - half), scale.back(mu + half))
    });
    let centres = centres
        .iter()
        .zip(y.iter().zip(&v))
        .map(|(c, (yi, vi))| Interval {
            label: c.label.clone(),
            estimate: c.estimate,
            lower: scale.back(yi - 1.959_963_984_540_054 * vi.sqrt()),
            upper: scale.back(yi + 1.959_963_984_540_054 * vi.sqrt()),
        })
        .collect();
    Ok(Pooled {
        scale,
        k,
        centres,
        estimate: scale.back(mu),
        lower: scale.back(mu - half),
        upper: scale.back(mu + half),
        prediction,
        tau2,
        se,
    })
}

/// The development centre's view of the whole study: each figure pooled over the
/// centres' validation reports of one model file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Synthesis {
    pub model: String,
    pub model_sha256: String,
    pub centres: Vec<String>,
    pub c: Result<Pooled, String>,
    /// At `oe_time`, the horizon every report shares (its last).
    pub oe: Result<Pooled, String>,
    pub oe_time: Option<f64>,
    pub slope: Result<Pooled, String>,
}

/// Why reports cannot be pooled together at all.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SynthesisError {
    #[error("no report to pool")]
    Empty,
    #[error("'{centre}' validated another model file ({other}) than the first report ({first}): only reports of the same model file can be pooled")]
    OtherModel {
        centre: String,
        first: String,
        other: String,
    },
}

/// Pools C (logit), O:E (log, Kaplan–Meier version, at the shared last horizon) and the
/// calibration slope over reports of the same model file.
pub fn synthesise(reports: &[ValidationReport]) -> Result<Synthesis, SynthesisError> {
    let first = reports.first().ok_or(SynthesisError::Empty)?;
    if let Some(other) = reports
        .iter()
        .find(|r| r.model_sha256 != first.model_sha256)
    {
        return Err(SynthesisError::OtherModel {
            centre: other.centre.clone(),
            first: format!("{} {}", first.model, short(&first.model_sha256)),
            other: format!("{} {}", other.model, short(&other.model_sha256)),
        });
    }
    let label = |r: &ValidationReport, k: usize| {
        if r.centre.is_empty() {
            format!("centre {}", k + 1)
        } else {
            r.centre.clone()
        }
    };
    let pooled =
        |centres: Vec<Centre>, scale: Scale| pool(&centres, scale).map_err(|e| e.to_string());
    let c = pooled(
        reports
            .iter()
            .enumerate()
            .map(|(k, r)| Centre {
                label: label(r, k),
                estimate: r.figures.harrell_c,
                se: r.figures.harrell_c_se,
                se_on_scale: false,
            })
            .collect(),
        Scale::Logit,
    );
    fn last(r: &ValidationReport) -> Option<&CalibrationAt> {
        r.figures.calibration.last()
    }
    let oe_time = last(first).map(|c| c.time);
    let oe = match oe_time {
        Some(t) if reports.iter().all(|r| last(r).is_some_and(|c| c.time == t)) => reports
            .iter()
            .enumerate()
            .map(|(k, r)| {
                let at = last(r).filter(|c| c.oe_log_se.is_some());
                at.map(|c| Centre {
                    label: label(r, k),
                    estimate: c.oe,
                    se: c.oe_log_se.unwrap_or(f64::NAN),
                    se_on_scale: true,
                })
                .ok_or_else(|| format!("{}: no O:E standard error in its report", label(r, k)))
            })
            .collect::<Result<Vec<_>, _>>()
            .and_then(|centres| pooled(centres, Scale::Log)),
        _ => Err(
            "the reports do not share their last horizon, so their O:E ratios are not comparable"
                .into(),
        ),
    };
    let slope = pooled(
        reports
            .iter()
            .enumerate()
            .filter_map(|(k, r)| {
                last(r).map(|c| Centre {
                    label: label(r, k),
                    estimate: c.slope,
                    se: c.slope_se,
                    se_on_scale: true,
                })
            })
            .collect(),
        Scale::Identity,
    );
    Ok(Synthesis {
        model: first.model.clone(),
        model_sha256: first.model_sha256.clone(),
        centres: reports
            .iter()
            .enumerate()
            .map(|(k, r)| label(r, k))
            .collect(),
        c,
        oe,
        oe_time,
        slope,
    })
}

fn short(seal: &str) -> String {
    seal.chars().take(12).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// BCG vaccine trials (metafor's `dat.bcg`, log relative risks and their
    /// variances from `escalc(measure = "RR")`), and what R 4.2.2 with metafor 3.8-1
    /// gave for `rma(yi, vi, method = "REML", test = "knha")`.
    const BCG: [(f64, f64); 13] = [
        (-0.889311333920205, 0.325584765003961),
        (-1.58538865720143, 0.194581121398144),
        (-1.34807314829969, 0.415367965367965),
        (-1.44155119002131, 0.0200100319022476),
        (-0.217547322211296, 0.0512101721696309),
        (-0.786115585818864, 0.00690561845590876),
        (-1.62089822359839, 0.223017247572315),
        (0.0119523335238405, 0.00396157929781773),
        (-0.469417648738149, 0.056434210463249),
        (-1.37134480347278, 0.0730247936130289),
        (-0.339358828338391, 0.0124122139715597),
        (0.445913400571379, 0.532505845200153),
        (-0.0173139482168798, 0.0714046596839863),
    ];

    fn centres(scale: Scale) -> Vec<Centre> {
        BCG.iter()
            .enumerate()
            .map(|(i, &(y, v))| Centre {
                label: format!("trial {}", i + 1),
                estimate: scale.back(y),
                se: v.sqrt(),
                se_on_scale: true,
            })
            .collect()
    }

    #[test]
    fn reml_and_hksj_equal_metafor_on_the_bcg_trials() {
        let p = pool(&centres(Scale::Identity), Scale::Identity).unwrap();
        let close = |what: &str, ours: f64, r: f64| {
            assert!((ours - r).abs() < 1e-6, "{what}: {ours} vs metafor {r}")
        };
        close("tau2", p.tau2, 0.313243325980895);
        close("estimate", p.estimate, -0.714532348365101);
        close("HKSJ se", p.se, 0.1807917455191);
        close("CI lower", p.lower, -1.10844372300005);
        close("CI upper", p.upper, -0.320620973730153);
        // beta ± qt(.975, k - 2) * sqrt(tau2 + se^2), computed in R from the same fit.
        let (lo, hi) = p.prediction.unwrap();
        close("PI lower", lo, -2.00905778448572);
        close("PI upper", hi, 0.579993087755517);
    }

    #[test]
    fn a_ratio_pools_on_the_log_scale_and_comes_back() {
        let p = pool(&centres(Scale::Log), Scale::Log).unwrap();
        assert!((p.estimate.ln() - -0.714532348365101).abs() < 1e-6);
        assert!((p.upper.ln() - -0.320620973730153).abs() < 1e-6);
        assert!((p.centres[0].estimate - (-0.889311333920205_f64).exp()).abs() < 1e-12);
    }

    #[test]
    fn too_few_or_unusable_centres_are_refused_in_words() {
        let one = &centres(Scale::Identity)[..1];
        assert_eq!(pool(one, Scale::Identity), Err(PoolingError::TooFew(1)));
        let mut bad = centres(Scale::Identity);
        bad[1].estimate = 1.2;
        bad[1].se_on_scale = false;
        let error = pool(&bad, Scale::Logit).unwrap_err().to_string();
        assert!(
            error.starts_with("trial 1: ") || error.starts_with("trial 2: "),
            "{error}"
        );
    }
}
