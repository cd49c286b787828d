//! Figures that may not be finite, through JSON: JSON has no NaN or infinity, so
//! serde_json writes them as `null` (an upper hazard-ratio limit of a separating
//! covariate is infinite). Reading a `null` back as NaN lets the page receive such a
//! result from the worker, and a report read back, and show "–" or words where the figure
//! is not defined, instead of refusing the whole result.

use serde::{Deserialize, Deserializer};

/// `#[serde(deserialize_with = "nan_if_null")]` on an `f64` that may have been written
/// as `null`.
pub fn nan_if_null<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

#[cfg(test)]
mod tests {
    #[derive(serde::Serialize, serde::Deserialize)]
    struct Figure {
        #[serde(deserialize_with = "super::nan_if_null")]
        upper: f64,
    }

    #[test]
    fn an_infinite_figure_goes_out_as_null_and_comes_back_as_not_a_number() {
        let text = serde_json::to_string(&Figure {
            upper: f64::INFINITY,
        })
        .unwrap();
        assert_eq!(text, r#"{"upper":null}"#);
        let back: Figure = serde_json::from_str(&text).unwrap();
        assert!(back.upper.is_nan());
        let finite: Figure = serde_json::from_str(r#"{"upper":1.5}"#).unwrap();
        assert_eq!(finite.upper, 1.5);
    }
}
