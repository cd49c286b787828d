//! Scores for a whole table of patients (`sarcoscope scores`): every row is scored on
//! its own, a row with a bad value gets a plain `error` and no scores, and the others
//! go on. Input columns come back unchanged, in their order, with the scores after them.

use thiserror::Error;

use super::fibrosis::USUAL_AST_UPPER_LIMIT_U_L;
use super::labs::{parse_dialysis, parse_number, Ascites, Encephalopathy, Lab, Units};
use super::scores::{ClinicalInputs, ScoreSheet};
use crate::csv::{self, CsvError};
use crate::sex::Sex;

/// Columns every table needs.
pub const REQUIRED: [&str; 7] = ["bili", "creat", "inr", "na", "alb", "sex", "dialysis"];
/// Columns used when present.
pub const OPTIONAL: [&str; 7] = [
    "platelets",
    "ast",
    "alt",
    "age",
    "ascites",
    "encephalopathy",
    "ast_uln",
];
/// Columns added; an input column of the same name is replaced.
pub const ADDED: [&str; 12] = [
    "meld",
    "meld_na",
    "meld3",
    "meld3_uncapped",
    "meld3_90d_survival",
    "child_pugh",
    "child_pugh_class",
    "albi",
    "albi_grade",
    "apri",
    "fib4",
    "error",
];

#[derive(Debug, Clone, PartialEq, Error)]
pub enum TableError {
    #[error("{0}")]
    Csv(#[from] CsvError),
    #[error("the header has no column {missing}; a scores table needs: {}", REQUIRED.join(", "))]
    MissingColumns { missing: String },
}

#[derive(Debug, Clone, PartialEq)]
pub struct ScoredTable {
    pub csv: String,
    pub rows: usize,
    /// Rows that were not scored, with their line numbers and reasons.
    pub errors: Vec<(usize, String)>,
}

pub fn score_table(
    text: &str,
    units: Units,
    ast_upper_limit: Option<f64>,
) -> Result<ScoredTable, TableError> {
    let numbered = csv::parse_numbered(text)?;
    let rows: Vec<&Vec<String>> = numbered.iter().map(|(_, r)| r).collect();
    let header: Vec<String> = rows[0]
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    let missing: Vec<&str> = REQUIRED
        .into_iter()
        .filter(|r| !header.iter().any(|h| h == r))
        .collect();
    if !missing.is_empty() {
        return Err(TableError::MissingColumns {
            missing: missing.join(", "),
        });
    }
    let kept: Vec<usize> = (0..header.len())
        .filter(|&i| !ADDED.contains(&header[i].as_str()))
        .collect();
    let mut out = String::new();
    let names: Vec<&str> = kept
        .iter()
        .map(|&i| rows[0][i].as_str())
        .chain(ADDED)
        .collect();
    out.push_str(&csv::line(&names));
    out.push_str("\r\n");
    let mut errors = Vec::new();
    for &(line_no, ref row) in numbered.iter().skip(1) {
        let (scores, error) = if row.len() != header.len() {
            (
                None,
                format!(
                    "the row has {} fields but the header has {}",
                    row.len(),
                    header.len()
                ),
            )
        } else {
            match inputs(&header, row, units, ast_upper_limit) {
                Ok(x) => (Some(ScoreSheet::compute(&x, None)), String::new()),
                Err(problems) => (None, problems.join("; ")),
            }
        };
        if !error.is_empty() {
            errors.push((line_no, error.clone()));
        }
        let mut fields: Vec<String> = kept
            .iter()
            .map(|&i| row.get(i).cloned().unwrap_or_default())
            .collect();
        fields.extend(added(scores.as_ref()));
        fields.push(error);
        out.push_str(&csv::line(&fields));
        out.push_str("\r\n");
    }
    Ok(ScoredTable {
        csv: out,
        rows: rows.len() - 1,
        errors,
    })
}

/// One row's inputs (`header` lower-cased, the columns of [`REQUIRED`] and [`OPTIONAL`]
/// that are present), or every problem in it (so one pass fixes the row).
pub fn inputs(
    header: &[String],
    row: &[String],
    units: Units,
    ast_upper_limit: Option<f64>,
) -> Result<ClinicalInputs, Vec<String>> {
    let get = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .map_or("", |i| row[i].as_str())
    };
    let mut x = ClinicalInputs::default();
    let mut problems = Vec::new();
    let mut note = |r: Result<(), super::ClinicalError>| {
        if let Err(e) = r {
            problems.push(e.to_string());
        }
    };
    for (lab, column) in [
        (Lab::Bilirubin, "bili"),
        (Lab::Creatinine, "creat"),
        (Lab::Inr, "inr"),
        (Lab::Sodium, "na"),
        (Lab::Albumin, "alb"),
        (Lab::Platelets, "platelets"),
        (Lab::Ast, "ast"),
        (Lab::Alt, "alt"),
    ] {
        note(x.labs.enter(lab, get(column), units));
    }
    let uln = get("ast_uln");
    if uln.trim().is_empty() {
        let default = ast_upper_limit.unwrap_or(USUAL_AST_UPPER_LIMIT_U_L);
        note(x.labs.set(Lab::AstUpperLimit, default, units));
    } else {
        note(x.labs.enter(Lab::AstUpperLimit, uln, units));
    }
    let sex = get("sex");
    x.sex = Sex::parse(sex);
    if x.sex.is_none() && !sex.trim().is_empty() {
        problems.push(format!("sex \"{}\" is not M or F", sex.trim()));
    }
    match parse_number("age", get("age")) {
        Ok(Some(age)) if !(0.0..=120.0).contains(&age) => {
            problems.push(format!("age {age} is outside 0–120 years"))
        }
        Ok(age) => x.age_years = age,
        Err(e) => problems.push(e.to_string()),
    }
    match parse_dialysis(get("dialysis")) {
        Ok(d) => x.dialysis = d,
        Err(e) => problems.push(e.to_string()),
    }
    match Ascites::parse(get("ascites")) {
        Ok(a) => x.ascites = a,
        Err(e) => problems.push(e.to_string()),
    }
    match Encephalopathy::parse(get("encephalopathy")) {
        Ok(e) => x.encephalopathy = e,
        Err(e) => problems.push(e.to_string()),
    }
    if problems.is_empty() {
        Ok(x)
    } else {
        Err(problems)
    }
}

/// The score columns of [`ADDED`] except `error`, blank where a score is missing.
fn added(s: Option<&ScoreSheet>) -> Vec<String> {
    let Some(s) = s else {
        return vec![String::new(); ADDED.len() - 1];
    };
    let num = |v: Option<f64>, places: usize| v.map_or(String::new(), |v| format!("{v:.places$}"));
    vec![
        s.meld.map_or(String::new(), |m| m.score.to_string()),
        s.meld_na.map_or(String::new(), |m| m.to_string()),
        s.meld3.map_or(String::new(), |m| m.score.to_string()),
        s.meld3.map_or(String::new(), |m| m.uncapped.to_string()),
        num(s.meld3.map(|m| m.survival_90_day), 3),
        s.child_pugh.map_or(String::new(), |c| c.points.to_string()),
        s.child_pugh
            .map_or(String::new(), |c| c.class.letter().to_string()),
        num(s.albi.map(|a| a.score), 3),
        s.albi.map_or(String::new(), |a| a.grade.to_string()),
        num(s.apri, 2),
        num(s.fib4, 2),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_rows_get_an_error_and_the_rest_are_scored() {
        let input = "id,bili,creat,inr,na,alb,sex,dialysis\n\
                     p1,4.2,1.9,1.2,125,3.0,M,0\n\
                     p2,900,1.9,1.2,125,3.0,M,0\n\
                     p3,4.2,1.9,1.2,125,3.0,X,maybe\n\
                     p4,2.5,1.2,1.0,131,3.8,F,0\n\
                     p5,1,1\n";
        let t = score_table(input, Units::Conventional, None).unwrap();
        let rows = csv::parse(&t.csv).unwrap();
        let col = |name: &str| rows[0].iter().position(|h| h == name).unwrap();
        assert_eq!(rows[0][0], "id");
        assert_eq!(rows[1][col("meld")], "20");
        assert_eq!(rows[1][col("meld_na")], "28");
        assert_eq!(rows[1][col("error")], "");
        assert_eq!(rows[2][col("meld")], "");
        assert!(
            rows[2][col("error")].contains("bilirubin 900 mg/dL"),
            "{:?}",
            rows[2]
        );
        assert!(rows[3][col("error")].contains("sex \"X\""));
        assert!(rows[3][col("error")].contains("dialysis \"maybe\""));
        assert_eq!(rows[4][col("meld3")], "17");
        assert!(rows[5][col("error")].contains("3 fields"));
        assert_eq!(t.rows, 5);
        assert_eq!(t.errors.len(), 3);
        assert_eq!(
            t.errors.iter().map(|(l, _)| *l).collect::<Vec<_>>(),
            vec![3, 4, 6]
        );
        // Child–Pugh needs ascites and encephalopathy: absent columns leave it blank.
        assert_eq!(rows[1][col("child_pugh")], "");
    }

    #[test]
    fn a_header_without_required_columns_is_refused_in_words() {
        let e = score_table("bili,creat\n1,1\n", Units::Si, None).unwrap_err();
        assert!(e.to_string().contains("inr, na, alb, sex, dialysis"), "{e}");
    }
}
