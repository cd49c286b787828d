//! Laboratory values as entered, in SI or conventional units, checked against what is
//! physiologically possible before any score sees them.
//!
//! Values are held in the units the scores are defined in (MELD: mg/dL and g/dL;
//! CLINICAL.md §1.1) and converted back for ALBI, which is defined in SI units.

use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Which unit system a laboratory value was entered in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Units {
    /// µmol/L for bilirubin and creatinine, g/L for albumin.
    #[default]
    Si,
    /// mg/dL for bilirubin and creatinine, g/dL for albumin.
    Conventional,
}

impl FromStr for Units {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "si" => Ok(Units::Si),
            "conventional" | "us" => Ok(Units::Conventional),
            other => Err(format!(
                "unknown units \"{other}\": use \"si\" or \"conventional\""
            )),
        }
    }
}

/// One laboratory quantity the scores use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lab {
    Bilirubin,
    Creatinine,
    Inr,
    Sodium,
    Albumin,
    Platelets,
    Ast,
    Alt,
    /// The site's upper limit of normal for AST, which APRI divides by.
    AstUpperLimit,
}

impl Lab {
    pub const ALL: [Lab; 9] = [
        Lab::Bilirubin,
        Lab::Creatinine,
        Lab::Inr,
        Lab::Sodium,
        Lab::Albumin,
        Lab::Platelets,
        Lab::Ast,
        Lab::Alt,
        Lab::AstUpperLimit,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Lab::Bilirubin => "bilirubin",
            Lab::Creatinine => "creatinine",
            Lab::Inr => "INR",
            Lab::Sodium => "sodium",
            Lab::Albumin => "albumin",
            Lab::Platelets => "platelets",
            Lab::Ast => "AST",
            Lab::Alt => "ALT",
            Lab::AstUpperLimit => "AST upper limit of normal",
        }
    }

    /// A stable key for forms, CSV columns and JSON.
    pub fn key(self) -> &'static str {
        match self {
            Lab::Bilirubin => "bili",
            Lab::Creatinine => "creat",
            Lab::Inr => "inr",
            Lab::Sodium => "na",
            Lab::Albumin => "alb",
            Lab::Platelets => "platelets",
            Lab::Ast => "ast",
            Lab::Alt => "alt",
            Lab::AstUpperLimit => "ast_uln",
        }
    }

    pub fn unit(self, units: Units) -> &'static str {
        match (self, units) {
            (Lab::Bilirubin | Lab::Creatinine, Units::Si) => "µmol/L",
            (Lab::Bilirubin | Lab::Creatinine, Units::Conventional) => "mg/dL",
            (Lab::Albumin, Units::Si) => "g/L",
            (Lab::Albumin, Units::Conventional) => "g/dL",
            (Lab::Inr, _) => "",
            (Lab::Sodium, _) => "mmol/L",
            (Lab::Platelets, _) => "×10⁹/L",
            (Lab::Ast | Lab::Alt | Lab::AstUpperLimit, _) => "U/L",
        }
    }

    /// Entered value per held (conventional) value: mg/dL = µmol/L ÷ 17.1 for
    /// bilirubin, ÷ 88.4 for creatinine; g/dL = g/L ÷ 10 (CLINICAL.md §1.1, [V]).
    fn per_held(self, units: Units) -> f64 {
        match (self, units) {
            (Lab::Bilirubin, Units::Si) => 17.1,
            (Lab::Creatinine, Units::Si) => 88.4,
            (Lab::Albumin, Units::Si) => 10.0,
            _ => 1.0,
        }
    }

    /// What can be measured in a living adult, in held units. Anything outside is a
    /// typing or unit mistake (a bilirubin of 900 "mg/dL" is 900 µmol/L entered as
    /// conventional), so it is refused rather than scored.
    fn possible(self) -> (f64, f64) {
        match self {
            Lab::Bilirubin => (0.05, 100.0),
            Lab::Creatinine => (0.1, 30.0),
            Lab::Inr => (0.5, 20.0),
            Lab::Sodium => (90.0, 200.0),
            Lab::Albumin => (0.5, 7.0),
            Lab::Platelets => (1.0, 2000.0),
            Lab::Ast | Lab::Alt => (1.0, 30000.0),
            Lab::AstUpperLimit => (5.0, 200.0),
        }
    }

    /// A typed value re-expressed in other units (for a unit switch on a form, so the
    /// quantity stays what was typed): up to three decimals, trailing zeros dropped.
    /// `None` when the text is not a number.
    pub fn convert_text(self, text: &str, from: Units, to: Units) -> Option<String> {
        let value = parse_number(self.name(), text).ok()??;
        Some(three_places(
            value / self.per_held(from) * self.per_held(to),
        ))
    }

    /// Converts an entered value to held units, refusing the impossible.
    pub fn held(self, value: f64, units: Units) -> Result<f64, ClinicalError> {
        let held = value / self.per_held(units);
        let (low, high) = self.possible();
        if value.is_finite() && (low..=high).contains(&held) {
            Ok(held)
        } else {
            let factor = self.per_held(units);
            Err(ClinicalError::Impossible {
                what: self.name(),
                value,
                unit: self.unit(units),
                low: low * factor,
                high: high * factor,
            })
        }
    }
}

/// A value as people write it: up to three decimals, trailing zeros dropped (0.855,
/// 1710 — not 0.8550000000000001 and 1710.0000000000002, the floating-point products).
fn three_places(value: f64) -> String {
    let shown = format!("{value:.3}");
    shown
        .trim_end_matches('0')
        .trim_end_matches('.')
        .to_string()
}

/// Why an entered value was not used. The message is what the page and the CLI show.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ClinicalError {
    #[error("{what} {value} {unit} is outside what is physiologically possible ({}–{} {unit}); check the value and its unit", three_places(*low), three_places(*high))]
    Impossible {
        what: &'static str,
        value: f64,
        unit: &'static str,
        low: f64,
        high: f64,
    },
    #[error("{what} \"{text}\" is not a number")]
    NotANumber { what: &'static str, text: String },
    #[error("{what} \"{text}\" is not one of: {expected}")]
    NotAChoice {
        what: &'static str,
        text: String,
        expected: &'static str,
    },
}

/// Parses a number as people type it: a decimal comma is accepted, blank means absent.
pub fn parse_number(what: &'static str, text: &str) -> Result<Option<f64>, ClinicalError> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    t.replace(',', ".")
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .map(Some)
        .ok_or_else(|| ClinicalError::NotANumber {
            what,
            text: t.to_string(),
        })
}

/// The laboratory panel in held units: mg/dL (bilirubin, creatinine), g/dL (albumin),
/// mmol/L (sodium), ×10⁹/L (platelets), U/L (enzymes).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Labs {
    pub bilirubin_mg_dl: Option<f64>,
    pub creatinine_mg_dl: Option<f64>,
    pub inr: Option<f64>,
    pub sodium_mmol_l: Option<f64>,
    pub albumin_g_dl: Option<f64>,
    pub platelets_10e9_l: Option<f64>,
    pub ast_u_l: Option<f64>,
    pub alt_u_l: Option<f64>,
    pub ast_upper_limit_u_l: Option<f64>,
}

impl Labs {
    fn slot(&mut self, lab: Lab) -> &mut Option<f64> {
        match lab {
            Lab::Bilirubin => &mut self.bilirubin_mg_dl,
            Lab::Creatinine => &mut self.creatinine_mg_dl,
            Lab::Inr => &mut self.inr,
            Lab::Sodium => &mut self.sodium_mmol_l,
            Lab::Albumin => &mut self.albumin_g_dl,
            Lab::Platelets => &mut self.platelets_10e9_l,
            Lab::Ast => &mut self.ast_u_l,
            Lab::Alt => &mut self.alt_u_l,
            Lab::AstUpperLimit => &mut self.ast_upper_limit_u_l,
        }
    }

    /// Sets a value entered in `units`; an impossible value leaves the slot empty.
    pub fn set(&mut self, lab: Lab, value: f64, units: Units) -> Result<(), ClinicalError> {
        let slot = self.slot(lab);
        *slot = None;
        *slot = Some(lab.held(value, units)?);
        Ok(())
    }

    /// Parses and sets a typed value; blank clears the slot.
    pub fn enter(&mut self, lab: Lab, text: &str, units: Units) -> Result<(), ClinicalError> {
        match parse_number(lab.name(), text) {
            Ok(Some(value)) => self.set(lab, value, units),
            Ok(None) => {
                *self.slot(lab) = None;
                Ok(())
            }
            Err(e) => {
                *self.slot(lab) = None;
                Err(e)
            }
        }
    }

    /// The value in `units`, as it would be typed.
    pub fn shown(&self, lab: Lab, units: Units) -> Option<f64> {
        // `slot` on a copy: one place maps a lab to its field.
        let held = (*self.clone().slot(lab))?;
        Some(held * lab.per_held(units))
    }
}

/// Ascites as Child–Pugh grades it (Pugh 1973).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ascites {
    None,
    /// Mild or easily controlled.
    Mild,
    /// Moderate to severe, or poorly controlled.
    ModerateSevere,
}

impl Ascites {
    pub const CHOICES: &'static str = "none/0, mild/1, moderate/severe/2/3";

    pub fn parse(text: &str) -> Result<Option<Ascites>, ClinicalError> {
        Ok(Some(match text.trim().to_ascii_lowercase().as_str() {
            "" => return Ok(None),
            "none" | "no" | "0" => Ascites::None,
            "mild" | "1" => Ascites::Mild,
            "moderate" | "severe" | "moderate-severe" | "2" | "3" => Ascites::ModerateSevere,
            other => {
                return Err(ClinicalError::NotAChoice {
                    what: "ascites",
                    text: other.to_string(),
                    expected: Self::CHOICES,
                })
            }
        }))
    }
}

/// Hepatic encephalopathy by West Haven grade, as Child–Pugh groups it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Encephalopathy {
    None,
    /// Grade 1–2 (minimal).
    Grade1To2,
    /// Grade 3–4 (advanced).
    Grade3To4,
}

impl Encephalopathy {
    pub const CHOICES: &'static str = "none/0, grade 1, 2, 3 or 4";

    pub fn parse(text: &str) -> Result<Option<Encephalopathy>, ClinicalError> {
        Ok(Some(match text.trim().to_ascii_lowercase().as_str() {
            "" => return Ok(None),
            "none" | "no" | "0" => Encephalopathy::None,
            "1" | "2" | "grade 1" | "grade 2" | "1-2" => Encephalopathy::Grade1To2,
            "3" | "4" | "grade 3" | "grade 4" | "3-4" => Encephalopathy::Grade3To4,
            other => {
                return Err(ClinicalError::NotAChoice {
                    what: "encephalopathy",
                    text: other.to_string(),
                    expected: Self::CHOICES,
                })
            }
        }))
    }
}

/// Whether renal replacement counts for MELD: at least two dialysis sessions, or 24 h
/// of CVVHD, in the week before the creatinine (OPTN policy 9.1.D).
pub fn parse_dialysis(text: &str) -> Result<Option<bool>, ClinicalError> {
    match text.trim().to_ascii_lowercase().as_str() {
        "" => Ok(None),
        "0" | "no" | "false" | "n" => Ok(Some(false)),
        "1" | "yes" | "true" | "y" => Ok(Some(true)),
        other => Err(ClinicalError::NotAChoice {
            what: "dialysis",
            text: other.to_string(),
            expected: "0 or 1",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn si_and_conventional_hold_the_same_value() {
        let mut a = Labs::default();
        let mut b = Labs::default();
        a.set(Lab::Bilirubin, 34.2, Units::Si).unwrap();
        b.set(Lab::Bilirubin, 2.0, Units::Conventional).unwrap();
        assert!((a.bilirubin_mg_dl.unwrap() - b.bilirubin_mg_dl.unwrap()).abs() < 1e-12);
        a.set(Lab::Creatinine, 176.8, Units::Si).unwrap();
        assert!((a.creatinine_mg_dl.unwrap() - 2.0).abs() < 1e-12);
        a.set(Lab::Albumin, 35.0, Units::Si).unwrap();
        assert!((a.shown(Lab::Albumin, Units::Conventional).unwrap() - 3.5).abs() < 1e-12);
    }

    #[test]
    fn impossible_values_are_refused_in_the_unit_they_were_typed_in() {
        let mut labs = Labs::default();
        // 900 µmol/L typed as mg/dL.
        let e = labs
            .set(Lab::Bilirubin, 900.0, Units::Conventional)
            .unwrap_err();
        assert!(e.to_string().contains("900 mg/dL"), "{e}");
        assert!(labs.bilirubin_mg_dl.is_none());
        assert!(labs.set(Lab::Sodium, 13.7, Units::Si).is_err());
        assert!(labs.set(Lab::Inr, 0.0, Units::Si).is_err());
        assert!(labs.set(Lab::Platelets, -5.0, Units::Si).is_err());
        assert!(labs.set(Lab::Albumin, f64::NAN, Units::Si).is_err());
        // 35 g/dL is g/L typed as conventional.
        assert!(labs.set(Lab::Albumin, 35.0, Units::Conventional).is_err());
        assert!(labs.set(Lab::Albumin, 35.0, Units::Si).is_ok());
        // The limits as people write them, not as floating point multiplies them.
        let e = labs.set(Lab::Bilirubin, 9000.0, Units::Si).unwrap_err();
        assert!(e.to_string().contains("(0.855–1710 µmol/L)"), "{e}");
    }

    #[test]
    fn typed_text_accepts_decimal_commas_and_blank() {
        let mut labs = Labs::default();
        labs.enter(Lab::Inr, "1,4", Units::Si).unwrap();
        assert_eq!(labs.inr, Some(1.4));
        labs.enter(Lab::Inr, "  ", Units::Si).unwrap();
        assert_eq!(labs.inr, None);
        assert!(labs.enter(Lab::Inr, "1.4.2", Units::Si).is_err());
        assert_eq!(Ascites::parse("3").unwrap(), Some(Ascites::ModerateSevere));
        assert!(Encephalopathy::parse("5").is_err());
        assert_eq!(parse_dialysis("1").unwrap(), Some(true));
        let b = Lab::Bilirubin;
        assert_eq!(
            b.convert_text("71.82", Units::Si, Units::Conventional)
                .as_deref(),
            Some("4.2")
        );
        assert_eq!(
            b.convert_text("4,2", Units::Conventional, Units::Si)
                .as_deref(),
            Some("71.82")
        );
        assert_eq!(
            Lab::Albumin
                .convert_text("30", Units::Si, Units::Conventional)
                .as_deref(),
            Some("3")
        );
        assert_eq!(b.convert_text("", Units::Si, Units::Conventional), None);
        assert_eq!(b.convert_text("high", Units::Si, Units::Conventional), None);
    }
}
