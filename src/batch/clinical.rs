//! A clinical table joined to the cohort table by case code (the Cohort view, and
//! `sarcoscope join`): a height fills SMI, the other indices, BMI and the calls;
//! laboratory values fill every score (the columns and units of `sarcoscope scores`);
//! every other column — the outcomes — comes along after the cohort's. The joined table
//! is what the Statistics view and R read. It holds no identifier: the hospital links
//! its records to case codes with the key table, which stays in its hands.
//!
//! A study with a clinical row is remade from its row (areas as the table has them, to
//! 0.01 cm²) by the single-patient view's code ([`CaseReport`]), so a joined row is what
//! that view shows for the same numbers; a study without one keeps its row as it was.

use std::collections::HashMap;

use thiserror::Error;

use super::keys::KeyRow;
use super::row::{self, Row, BATCH_COLUMNS};
use super::Settings;
use crate::body::{
    sarcopenia, Anthropometry, Composition, Height, HeightSource, Indices, MyosteatosisCutoffs,
    SmiCutoffs,
};
use crate::clinical::eligibility::{self, Answers};
use crate::clinical::labs::parse_number;
use crate::clinical::{table, ScoreSheet, Units};
use crate::csv::{self, CsvError};
use crate::l3::{L3Choice, L3Method, L3Status};
use crate::report::{CaseInputs, CaseReport, ScanFacts, SegmentationFacts, Severity};
use crate::sex::Sex;
use crate::survival::table::{CohortTable, Dialect, TableError, MISSING};

/// The column of the clinical table that names the study: the cohort table's case code,
/// or else the PatientID, linked to case codes by the key table (every study of the
/// patient gets the row). The PatientID never comes along into the joined table.
pub const KEY: &str = "case";
pub const PATIENT_KEY: &str = "patient_id";
/// The body columns the join reads, besides `sarcoscope scores`' columns.
pub const BODY: [&str; 3] = ["height_cm", "height_m", "weight_kg"];
/// QC flags that depend on the body (remade); the others stay as the row has them.
const BODY_FLAGS: [&str; 3] = ["height", "smi_plausibility", "sma_plausibility"];

#[derive(Debug, Error)]
pub enum JoinError {
    #[error("{0}")]
    Csv(#[from] CsvError),
    #[error("{0}")]
    Table(#[from] TableError),
    #[error("the clinical table has no \"case\" column (the case codes of the cohort table: S0001, S0002, …) and no \"patient_id\" column (linked to case codes by the key table)")]
    NoCase,
    #[error("case {case} is on lines {first} and {second} of the clinical table: each study once")]
    Twice {
        case: String,
        first: usize,
        second: usize,
    },
    #[error("this is not a Sarcoscope cohort table: {0}")]
    NotACohortTable(String),
}

/// The joined table and what became of each side.
#[derive(Debug, Clone, PartialEq)]
pub struct Joined {
    pub csv: String,
    /// Studies remade with their clinical row.
    pub matched: usize,
    /// Case codes of the cohort without a clinical row (their rows are as they were).
    pub without_clinical: Vec<String>,
    /// Cases of the clinical table that are not in the cohort.
    pub not_in_cohort: Vec<String>,
    /// Clinical rows not used, with their line and every reason (the study's row is as
    /// it was; its outcome columns still come along).
    pub problems: Vec<(usize, String)>,
    /// Clinical rows used whose sex differs from the DICOM header's (the table's is used:
    /// the site's records are the reference), with their line.
    pub disagreements: Vec<(usize, String)>,
}

/// Joins `clinical` (CSV text, laboratory values in `units`) to the cohort's rows, by
/// case code, or by PatientID through the key table `keys`.
pub fn join(
    settings: Settings,
    cohort: &[Row],
    clinical: &str,
    units: Units,
    keys: &[KeyRow],
) -> Result<Joined, JoinError> {
    // A spreadsheet's CSV as it comes: commas or semicolons, decimal commas, R's NA.
    let table = CohortTable::parse(clinical, Dialect::sniff(clinical))?;
    let names: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
    let header: Vec<String> = names.iter().map(|h| h.to_ascii_lowercase()).collect();
    let column = |name: &str| header.iter().position(|h| h == name);
    let by_patient = column(KEY).is_none();
    let key = column(KEY)
        .or_else(|| column(PATIENT_KEY))
        .ok_or(JoinError::NoCase)?;
    // Each study's value of the key column.
    let patients: HashMap<&str, &str> = keys
        .iter()
        .map(|k| (k.case.as_str(), k.patient_id.as_str()))
        .collect();
    let key_of = |code: &str| -> Option<String> {
        if by_patient {
            patients
                .get(code)
                .filter(|id| !id.is_empty())
                .map(|id| (*id).to_owned())
        } else {
            Some(code.to_owned())
        }
    };
    let records: Vec<(usize, Vec<String>)> = (0..table.rows())
        .map(|k| {
            let cells = table.columns.iter().map(|c| {
                let cell = &c.cells[k];
                if MISSING.contains(&cell.as_str()) {
                    String::new()
                } else {
                    cell.clone()
                }
            });
            (table.lines[k], cells.collect())
        })
        .collect();
    let read: Vec<&str> = table::REQUIRED
        .iter()
        .chain(&table::OPTIONAL)
        .chain(&BODY)
        .copied()
        .collect();
    let along: Vec<usize> = (0..header.len())
        .filter(|&i| {
            let name = header[i].as_str();
            i != key && name != PATIENT_KEY && !read.contains(&name)
        })
        .collect();
    let cohort_names = row::names(settings);
    let along_names = along.iter().map(|&i| {
        if cohort_names.contains(&names[i]) {
            format!("clinical_{}", names[i])
        } else {
            names[i].to_owned()
        }
    });

    let mut problems = Vec::new();
    let mut by_case: HashMap<&str, (usize, &[String])> = HashMap::new();
    let mut order = Vec::new();
    for (line, record) in &records {
        let case = record[key].as_str();
        if case.is_empty() {
            let what = if by_patient { "PatientID" } else { "case code" };
            problems.push((*line, format!("the row has no {what}")));
            continue;
        }
        if let Some((first, _)) = by_case.insert(case, (*line, record)) {
            return Err(JoinError::Twice {
                case: case.to_owned(),
                first,
                second: *line,
            });
        }
        order.push(case);
    }

    let mut lines = vec![csv::line(
        &cohort_names
            .iter()
            .map(|n| (*n).to_owned())
            .chain(along_names)
            .collect::<Vec<_>>(),
    )];
    let (mut matched, mut without_clinical, mut disagreements) = (0, Vec::new(), Vec::new());
    for study in cohort {
        let code = study.value(KEY).unwrap_or_default();
        let found = key_of(code).and_then(|k| by_case.get(k.as_str()).copied());
        let joined = match found {
            None => {
                without_clinical.push(code.to_owned());
                study.clone()
            }
            Some((line, record)) => match remade(study, settings, &header, record, units) {
                Ok((joined, disagreement)) => {
                    matched += 1;
                    disagreements.extend(disagreement.map(|d| (line, d)));
                    joined
                }
                Err(why) => {
                    problems.push((line, why.join("; ")));
                    study.clone()
                }
            },
        };
        let mut values: Vec<String> = joined.values().into_iter().map(str::to_owned).collect();
        values.extend(
            along
                .iter()
                .map(|&i| found.map_or(String::new(), |(_, r)| r[i].clone())),
        );
        lines.push(csv::line(&values));
    }
    let known: Vec<String> = cohort
        .iter()
        .filter_map(|r| key_of(r.value(KEY)?))
        .collect();
    let not_in_cohort = order
        .into_iter()
        .filter(|case| !known.iter().any(|k| k == case))
        .map(str::to_owned)
        .collect();
    problems.sort_by_key(|(line, _)| *line);
    Ok(Joined {
        csv: lines.join("\r\n") + "\r\n",
        matched,
        without_clinical,
        not_in_cohort,
        problems,
        disagreements,
    })
}

/// The study's row remade with its clinical record (and how its sex disagrees with the
/// DICOM header's, if it does), or every problem in the record.
fn remade(
    study: &Row,
    settings: Settings,
    header: &[String],
    record: &[String],
    units: Units,
) -> Result<(Row, Option<String>), Vec<String>> {
    let get = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .map_or("", |i| record[i].trim())
    };
    let mut problems = Vec::new();
    let mut clinical = match table::inputs(header, record, units, None) {
        Ok(x) => Some(x),
        Err(p) => {
            problems.extend(p);
            None
        }
    };
    let height_m = match (get("height_cm"), get("height_m")) {
        ("", metres) => parse_number("height", metres),
        (cm, _) => parse_number("height", cm).map(|v| v.map(|cm| cm / 100.0)),
    };
    let height = height_m
        .map_err(|e| e.to_string())
        .and_then(|m| {
            m.map(|m| Height::new(m, HeightSource::Entered))
                .transpose()
                .map_err(|e| e.to_string())
        })
        .unwrap_or_else(|e| {
            problems.push(e);
            None
        });
    let weight = parse_number("weight", get("weight_kg"))
        .map_err(|e| e.to_string())
        .and_then(|w| {
            w.map(Anthropometry::checked_weight)
                .transpose()
                .map_err(|e| e.to_string())
        })
        .unwrap_or_else(|e| {
            problems.push(e);
            None
        });
    let Some(mut clinical) = clinical.take().filter(|_| problems.is_empty()) else {
        return Err(problems);
    };

    let text = |name: &str| study.value(name).unwrap_or_default();
    let num = |name: &str| text(name).parse::<f64>().ok();
    let source = if text("height_source") == "entered" {
        HeightSource::Entered
    } else {
        HeightSource::Recorded
    };
    let header_sex = Sex::parse(text("sex"));
    let disagreement = clinical
        .sex
        .zip(header_sex)
        .filter(|(table, dicom)| table != dicom)
        .map(|(table, dicom)| {
            format!(
                "sex {} differs from the DICOM header's {}; the clinical table's is used",
                table.code(),
                dicom.code()
            )
        });
    let body = Anthropometry {
        sex: clinical.sex.or(header_sex),
        height: height.or_else(|| num("height_m").and_then(|m| Height::new(m, source).ok())),
        weight_kg: weight.or_else(|| num("weight_kg")),
    };
    clinical.sex = body.sex;
    // "90+" is how the table shows 90 and over.
    let row_age = (text("age_years") == "90+").then_some(90.0);
    clinical.age_years = clinical.age_years.or(row_age).or_else(|| num("age_years"));

    let measured = text("status") == "measured";
    let composition = measured.then(|| {
        let area = |name: &str| num(name).unwrap_or_default();
        let indices = num("smi_cm2_m2").map(|smi| Indices {
            smi,
            imat: area("imat_index_cm2_m2"),
            vat: area("vat_index_cm2_m2"),
            sat: area("sat_index_cm2_m2"),
        });
        let kept = Composition {
            tissues: Vec::new(),
            sma_cm2: area("sma_cm2"),
            muscle_hu: num("muscle_hu"),
            low_attenuation_muscle_pct: num("low_attenuation_muscle_pct"),
            imat_cm2: area("imat_cm2"),
            vat_cm2: area("vat_cm2"),
            sat_cm2: area("sat_cm2"),
            vat_sat_ratio: num("vat_sat_ratio"),
            indices,
            bmi: num("bmi"),
        };
        // Indices and BMI are remade only from a height or weight the table gives.
        if height.is_some() || weight.is_some() {
            kept.with_body(&body)
        } else {
            kept
        }
    });
    // MELD-Sarcopenia's call uses Martin 2013's cut-offs, as in the single-patient view.
    let sarcopenic = composition
        .as_ref()
        .and_then(|c| sarcopenia(c, &body, SmiCutoffs::Martin2013).present);
    let report = CaseReport::new(CaseInputs {
        case_code: Some(text(KEY).to_owned()),
        identifiers: None,
        age_years: clinical.age_years,
        scan: scan_facts(study),
        segmentation: measured.then(|| segmentation_facts(study)),
        body,
        composition,
        smi_cutoffs: settings.smi_cutoffs,
        myosteatosis_cutoffs: settings.myosteatosis_cutoffs,
        scores: ScoreSheet::compute(&clinical, sarcopenic),
        eligibility: eligibility::assess(&clinical.labs, clinical.age_years, &Answers::default()),
    });
    // Flags of the scan and the mask stay as the row has them (its numbers were made from
    // unrounded values); those of the body are remade.
    let old_flags: Vec<&str> = text("qc_flags").split(';').collect();
    let flags = report
        .qc
        .iter()
        .filter(|f| {
            if BODY_FLAGS.contains(&f.key) {
                measured && f.severity > Severity::Info
            } else {
                old_flags.contains(&f.key)
            }
        })
        .map(|f| f.key)
        .collect::<Vec<_>>()
        .join(";");
    let mut columns = report.columns();
    for (name, value) in &mut columns {
        match *name {
            // The tool that measured the study, not the one that joined.
            "tool" => *value = text("tool").to_owned(),
            "qc_flags" => value.clone_from(&flags),
            _ => {}
        }
    }
    columns.extend(BATCH_COLUMNS.map(|name| (name, text(name).to_owned())));
    Ok((Row { columns }, disagreement))
}

/// The scan facts a row shows, read back.
fn scan_facts(study: &Row) -> ScanFacts {
    let text = |name: &str| study.value(name).unwrap_or_default();
    let num = |name: &str| text(name).parse::<f64>().ok();
    let method = match text("level_method") {
        "automatic" => L3Method::Automatic {
            confidence: num("level_confidence").unwrap_or_default(),
            status: match text("l3_status") {
                "uncertain" => L3Status::Uncertain,
                "not_in_scan" => L3Status::NotInScan,
                _ => L3Status::Found,
            },
        },
        "given" => L3Method::Given,
        _ => L3Method::Manual,
    };
    let level = text("level_slice")
        .parse()
        .ok()
        .map(|slice| L3Choice { slice, method });
    let spacing = text("pixel_spacing_mm")
        .split_once('x')
        .and_then(|(r, c)| Some([r.parse().ok()?, c.parse().ok()?]));
    ScanFacts {
        kvp: num("kvp"),
        slice_thickness_mm: num("slice_thickness_mm"),
        contrast_agent: Some(text("contrast").to_owned()).filter(|c| !c.is_empty()),
        pixel_spacing_mm: spacing,
        manufacturer: None,
        level,
        z_mm: num("slice_z_mm"),
    }
}

/// How the row's mask was made, read back.
fn segmentation_facts(study: &Row) -> SegmentationFacts {
    let text = |name: &str| study.value(name).unwrap_or_default().to_owned();
    SegmentationFacts {
        model: text("model"),
        model_sha256: text("model_sha256"),
        path: text("segmentation_path"),
        reviewed: text("reviewed") == "yes",
        edited_pixels: text("edited_pixels").parse().unwrap_or_default(),
        ..SegmentationFacts::default()
    }
}

/// A cohort table as `sarcoscope batch` or the Cohort view wrote it: the cut-offs it was
/// measured under (its first row's) and its rows.
pub fn read_cohort(text: &str) -> Result<(Settings, Vec<Row>), JoinError> {
    let table = csv::parse_numbered(text)?;
    let Some(((_, header), rows)) = table.split_first() else {
        return Err(JoinError::NotACohortTable("the table is empty".into()));
    };
    let first = |name: &str| {
        let at = header.iter().position(|h| h == name);
        at.and_then(|i| rows.first().and_then(|(_, r)| r.get(i)))
            .map_or("", String::as_str)
    };
    let settings = Settings {
        smi_cutoffs: SmiCutoffs::ALL
            .into_iter()
            .find(|c| c.key() == first("smi_cutoffs"))
            .unwrap_or(SmiCutoffs::Carey2017),
        myosteatosis_cutoffs: MyosteatosisCutoffs::ALL
            .into_iter()
            .find(|c| c.key() == first("myosteatosis_cutoffs"))
            .unwrap_or(MyosteatosisCutoffs::Ebadi2022),
    };
    let names = row::names(settings);
    let differs = (0..names.len().max(header.len()))
        .find(|&k| header.get(k).map(String::as_str) != names.get(k).copied());
    if let Some(k) = differs {
        return Err(JoinError::NotACohortTable(format!(
            "column {} is \"{}\" where \"{}\" is expected",
            k + 1,
            header.get(k).map_or("", String::as_str),
            names.get(k).copied().unwrap_or_default()
        )));
    }
    rows.iter()
        .map(|(line, values)| {
            Row::from_values(&names, values).ok_or_else(|| {
                JoinError::NotACohortTable(format!(
                    "line {line} has {} fields, the header {}",
                    values.len(),
                    names.len()
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(|rows| (settings, rows))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::row::Outcome;
    use crate::batch::{LevelStatus, StudyError};
    use crate::clinical::ClinicalInputs;

    const SETTINGS: Settings = Settings {
        smi_cutoffs: SmiCutoffs::Carey2017,
        myosteatosis_cutoffs: MyosteatosisCutoffs::Ebadi2022,
    };

    /// A measured study's row as the run makes it (areas exact in binary, so that the
    /// indices the row shows are those remade from it).
    fn measured(code: &str, sex: Sex, height_m: Option<f64>) -> Row {
        let body = Anthropometry {
            sex: Some(sex),
            height: height_m.map(|m| Height {
                metres: m,
                source: HeightSource::Recorded,
            }),
            weight_kg: Some(80.0),
        };
        let composition = Composition {
            tissues: Vec::new(),
            sma_cm2: 128.5,
            muscle_hu: Some(38.25),
            low_attenuation_muscle_pct: Some(21.5),
            imat_cm2: 6.25,
            vat_cm2: 140.0,
            sat_cm2: 160.0,
            vat_sat_ratio: Some(0.875),
            indices: None,
            bmi: None,
        }
        .with_body(&body);
        let clinical = ClinicalInputs {
            sex: body.sex,
            age_years: Some(63.0),
            ..ClinicalInputs::default()
        };
        let sarcopenic = sarcopenia(&composition, &body, SmiCutoffs::Martin2013).present;
        let report = CaseReport::new(CaseInputs {
            case_code: Some(code.to_owned()),
            identifiers: None,
            age_years: Some(63.0),
            scan: ScanFacts {
                kvp: Some(120.0),
                slice_thickness_mm: Some(3.0),
                contrast_agent: None,
                pixel_spacing_mm: Some([0.78125, 0.78125]),
                manufacturer: None,
                level: Some(L3Choice {
                    slice: 41,
                    method: L3Method::Automatic {
                        confidence: 0.75,
                        status: L3Status::Found,
                    },
                }),
                z_mm: Some(-420.5),
            },
            segmentation: Some(SegmentationFacts {
                model: "sarcoscope-unet".into(),
                model_sha256: "1c31c162".into(),
                path: "CPU".into(),
                ..SegmentationFacts::default()
            }),
            body,
            composition: Some(composition),
            smi_cutoffs: SETTINGS.smi_cutoffs,
            myosteatosis_cutoffs: SETTINGS.myosteatosis_cutoffs,
            scores: ScoreSheet::compute(&clinical, sarcopenic),
            eligibility: eligibility::assess(&clinical.labs, Some(63.0), &Answers::default()),
        });
        let outcome = Outcome {
            folder: "p01",
            level: Some(LevelStatus::Found),
            series: "abdomen",
            seconds: 2.5,
        };
        Row::measured(&report, &outcome)
    }

    fn failed(code: &str) -> Row {
        let outcome = Outcome {
            folder: "mr",
            level: None,
            series: "",
            seconds: 0.0,
        };
        let error = StudyError::NoCt("MR".into());
        Row::failed(code, SETTINGS, &error, &outcome)
    }

    /// The joined table's rows, by case code, as (column → value).
    fn joined_rows(joined: &Joined) -> HashMap<String, HashMap<String, String>> {
        let table = csv::parse(&joined.csv).expect("csv");
        let (header, rows) = table.split_first().expect("a header");
        rows.iter()
            .map(|r| {
                let row: HashMap<String, String> =
                    header.iter().cloned().zip(r.iter().cloned()).collect();
                (row["case"].clone(), row)
            })
            .collect()
    }

    #[test]
    fn a_clinical_row_without_clinical_values_leaves_the_row_as_it_was() {
        let study = measured("S0001", Sex::Male, Some(1.75));
        let joined = join(
            SETTINGS,
            std::slice::from_ref(&study),
            "case,time_days,died\nS0001,400,1\n",
            Units::Si,
            &[],
        )
        .expect("joined");
        assert_eq!(joined.matched, 1);
        let table = csv::parse(&joined.csv).expect("csv");
        let values: Vec<&str> = study.values();
        assert_eq!(
            table[1][..values.len()],
            values,
            "the row read back and remade"
        );
        assert_eq!(table[0][values.len()..], ["time_days", "died"]);
        assert_eq!(table[1][values.len()..], ["400", "1"]);
    }

    #[test]
    fn heights_fill_smi_and_the_call_and_labs_fill_the_scores() {
        let cohort = vec![
            measured("S0001", Sex::Female, None),
            failed("S0002"),
            measured("S0003", Sex::Male, Some(1.75)),
            measured("S0004", Sex::Male, Some(1.75)),
        ];
        assert_eq!(cohort[0].value("smi_cm2_m2"), Some(""));
        assert!(cohort[0]
            .value("qc_flags")
            .unwrap_or_default()
            .contains("height"));
        let clinical = "Case;height_cm;bili;creat;inr;na;alb;sex;dialysis;outcome\n\
                        S0001;160;2,0;1,0;1,5;130;3,0;F;0;alive\n\
                        S0002;;1,2;0,9;1,1;138;3,9;M;0;dead\n\
                        S0003;;900;1;1;130;3;M;0;alive\n\
                        S9999;170;1;1;1;140;4;M;0;alive\n";
        let joined = join(SETTINGS, &cohort, clinical, Units::Conventional, &[]).expect("joined");
        assert_eq!(joined.matched, 2);
        assert_eq!(joined.without_clinical, ["S0004"]);
        assert_eq!(joined.not_in_cohort, ["S9999"]);
        assert_eq!(joined.problems.len(), 1);
        assert_eq!(joined.problems[0].0, 4, "the line of S0003");
        assert_eq!(joined.disagreements, []);
        assert!(joined.problems[0].1.contains("bilirubin 900 mg/dL"));
        let rows = joined_rows(&joined);

        // S0001: 128.5 cm² / 1.60² m² = 50.20 cm²/m², not below Carey's 39 for women.
        let s1 = &rows["S0001"];
        assert_eq!(s1["height_m"], "1.600");
        assert_eq!(s1["height_source"], "entered");
        assert_eq!(s1["smi_cm2_m2"], "50.20");
        assert_eq!(s1["sarcopenia"], "no");
        assert_eq!(s1["bmi"], "31.2");
        assert!(!s1["qc_flags"].contains("height"), "{}", s1["qc_flags"]);
        assert_eq!(s1["outcome"], "alive");
        assert_eq!(
            s1["sma_cm2"],
            cohort[0].value("sma_cm2").unwrap_or_default()
        );
        // The scores are `sarcoscope scores`' for the same labs.
        let scored = table::score_table(
            "bili,creat,inr,na,alb,sex,dialysis,age\n2.0,1.0,1.5,130,3.0,F,0,63\n",
            Units::Conventional,
            None,
        )
        .expect("scored");
        let scored = csv::parse(&scored.csv).expect("csv");
        for name in ["meld", "meld_na", "meld3", "albi", "albi_grade"] {
            let k = scored[0].iter().position(|h| h == name).expect(name);
            assert_eq!(s1[name], scored[1][k], "{name}");
            assert!(!s1[name].is_empty(), "{name}");
        }
        assert!(!s1["meld_sarcopenia"].is_empty());

        // A study without a measurement still gets its scores; its reason stays.
        let s2 = &rows["S0002"];
        assert_eq!(s2["status"], "failed");
        assert_eq!(s2["reason"], cohort[1].value("reason").unwrap_or_default());
        assert!(!s2["meld"].is_empty());
        assert_eq!(
            (s2["smi_cm2_m2"].as_str(), s2["qc_flags"].as_str()),
            ("", "")
        );
        assert_eq!(s2["outcome"], "dead");

        // A clinical row with a bad value is not used; its outcome still comes along.
        let s3 = &rows["S0003"];
        assert_eq!(s3["meld"], "");
        assert_eq!(s3["outcome"], "alive");
        let s4 = &rows["S0004"];
        assert_eq!(s4["outcome"], "");
        assert_eq!(
            s4["smi_cm2_m2"],
            cohort[3].value("smi_cm2_m2").unwrap_or_default()
        );
    }

    #[test]
    fn a_table_without_case_codes_or_with_a_case_twice_is_refused_and_a_sex_mismatch_named() {
        let cohort = [measured("S0001", Sex::Male, Some(1.75))];
        let no_case = join(SETTINGS, &cohort, "id,bili\n1,2\n", Units::Si, &[]);
        assert!(matches!(no_case, Err(JoinError::NoCase)));
        let female =
            join(SETTINGS, &cohort, "case,sex\nS0001,F\n", Units::Si, &[]).expect("joined");
        assert_eq!(
            female.disagreements,
            [(
                2,
                "sex F differs from the DICOM header's M; the clinical table's is used".to_owned()
            )]
        );
        let twice = join(
            SETTINGS,
            &cohort,
            "case,x\nS0001,1\nS0001,2\n",
            Units::Si,
            &[],
        );
        let error = twice.expect_err("refused").to_string();
        assert_eq!(
            error,
            "case S0001 is on lines 2 and 3 of the clinical table: each study once"
        );
    }

    #[test]
    fn a_table_kept_by_patient_id_joins_through_the_key_table_and_never_copies_the_id() {
        let cohort = vec![
            measured("S0001", Sex::Male, None),
            measured("S0002", Sex::Male, None),
            measured("S0003", Sex::Female, None),
        ];
        let key = |case: &str, patient_id: &str| KeyRow {
            case: case.into(),
            patient_id: patient_id.into(),
            ..KeyRow::default()
        };
        // Two studies of one patient, and a study whose files carried no PatientID.
        let keys = [key("S0001", "MRN7"), key("S0002", "MRN7"), key("S0003", "")];
        let clinical = "patient_id,height_m,died\nMRN7,1.80,1\nMRN9,1.70,0\n";
        let joined = join(SETTINGS, &cohort, clinical, Units::Si, &keys).expect("joined");
        assert_eq!(joined.matched, 2);
        assert_eq!(joined.without_clinical, ["S0003"]);
        assert_eq!(joined.not_in_cohort, ["MRN9"]);
        assert!(!joined.csv.contains("MRN"), "{}", joined.csv);
        let rows = joined_rows(&joined);
        for case in ["S0001", "S0002"] {
            assert_eq!(rows[case]["height_m"], "1.800");
            assert_eq!(rows[case]["died"], "1");
        }
        assert_eq!(rows["S0003"]["died"], "");
        // Without the key table, nothing joins, and the table says which IDs it had.
        let alone = join(SETTINGS, &cohort, clinical, Units::Si, &[]).expect("joined");
        assert_eq!((alone.matched, alone.not_in_cohort.len()), (0, 2));
    }

    #[test]
    fn a_cohort_table_is_read_back_as_written() {
        let cohort = vec![measured("S0001", Sex::Male, Some(1.75)), failed("S0002")];
        let text = row::table(SETTINGS, &cohort);
        let (settings, rows) = read_cohort(&text).expect("read");
        assert_eq!(settings, SETTINGS);
        assert_eq!(rows, cohort);
        let other = read_cohort("case,tool\nS0001,x\n").expect_err("not a cohort table");
        assert!(
            other
                .to_string()
                .starts_with("this is not a Sarcoscope cohort table: column 3"),
            "{other}"
        );
    }
}
