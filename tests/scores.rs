//! `sarcoscope scores` run as a user would, on a table in SI units built from the
//! published vectors (CLINICAL.md §1.2–1.6) converted to µmol/L and g/L: the scores must
//! come out as published, bad rows must say why, and the good rows must still be scored.

use std::process::Command;

fn run(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sarcoscope"))
        .args(args)
        .output()
        .expect("run sarcoscope");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn cell(rows: &[Vec<String>], row: usize, column: &str) -> String {
    let i = rows[0]
        .iter()
        .position(|h| h == column)
        .unwrap_or_else(|| panic!("no column {column} in {:?}", rows[0]));
    rows[row][i].clone()
}

#[test]
fn scores_a_table_in_si_units_and_reports_bad_rows() {
    let dir = std::env::temp_dir().join(format!("sarcoscope-scores-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let input = dir.join("patients.csv");
    // bili mg/dL × 17.1, creat mg/dL × 88.4, alb g/dL × 10.
    let si = |bili: f64, creat: f64| format!("{:.3},{:.3}", bili * 17.1, creat * 88.4);
    let text = format!(
        "id,bili,creat,inr,na,alb,sex,dialysis,platelets,ast,alt,age,ascites,encephalopathy\n\
         ameld,{},1.2,125,35,M,0,80,90,36,60,mild,0\n\
         kim1,{},1.0,131,38,M,0,,,,,,\n\
         kim2,{},1.0,131,38,F,0,,,,,,\n\
         kim8,{},2.2,128,20,F,0,,,,,,\n\
         typo,{},1.2,125,35,M,0,80,90,36,60,mild,0\n\
         albi,{},1.0,137,35,M,0,,,,,none,0\n",
        si(4.2, 1.9),
        si(2.5, 1.2),
        si(2.5, 1.2),
        si(12.0, 2.8),
        // Bilirubin 4.2 typed in mg/dL into an SI table: 4.2 µmol/L is possible, but
        // creatinine 1.9 "µmol/L" is not.
        "4.2,1.9",
        si(1.0, 1.0),
    );
    std::fs::write(&input, text).expect("write input");
    let (ok, stdout, stderr) = run(&["scores", input.to_str().expect("path"), "--units", "si"]);
    assert!(ok, "{stderr}");
    let rows = sarcoscope::csv::parse(&stdout).expect("CSV out");
    assert_eq!(rows.len(), 7, "{stdout}");
    assert_eq!(cell(&rows, 1, "meld"), "20");
    assert_eq!(cell(&rows, 1, "meld_na"), "28");
    assert_eq!(cell(&rows, 1, "error"), "");
    assert_eq!(cell(&rows, 2, "meld3"), "16");
    assert_eq!(cell(&rows, 3, "meld3"), "17");
    assert_eq!(cell(&rows, 4, "meld3"), "39");
    // Kim 2021 supplementary table 5 / computed: MELD 3.0 = 16 → 0.97.
    let s: f64 = cell(&rows, 2, "meld3_90d_survival")
        .parse()
        .expect("survival");
    assert!((s - 0.972).abs() < 0.005, "{s}");
    // Child–Pugh: bili 4.2 → 3, alb 35 g/L → 2, INR 1.2 → 1, mild ascites 2, no HE 1.
    assert_eq!(cell(&rows, 1, "child_pugh"), "9");
    assert_eq!(cell(&rows, 1, "child_pugh_class"), "B");
    // APRI with the default ULN 40: 90/40/80·100.
    assert_eq!(cell(&rows, 1, "apri"), "2.81");
    assert_eq!(cell(&rows, 1, "fib4"), "11.25");
    assert_eq!(cell(&rows, 5, "meld"), "");
    assert!(
        cell(&rows, 5, "error").contains("creatinine 1.9 µmol/L"),
        "{:?}",
        rows[5]
    );
    // ALBI vector: bili 17.1 µmol/L, albumin 35 g/L → −2.161, grade 2.
    assert_eq!(cell(&rows, 6, "albi"), "-2.161");
    assert_eq!(cell(&rows, 6, "albi_grade"), "2");
    assert_eq!(cell(&rows, 6, "id"), "albi");
    assert!(stderr.contains("scored 5 of 6 rows"), "{stderr}");
    assert!(stderr.contains("line 6"), "{stderr}");

    // The same table read as conventional units is refused row by row, in words.
    let (ok, stdout, _) = run(&[
        "scores",
        input.to_str().expect("path"),
        "--units",
        "conventional",
    ]);
    assert!(ok);
    let rows = sarcoscope::csv::parse(&stdout).expect("CSV out");
    assert!(cell(&rows, 1, "error").contains("mg/dL"), "{:?}", rows[1]);

    let (ok, _, stderr) = run(&["scores", input.to_str().expect("path"), "--units", "metric"]);
    assert!(
        !ok && stderr.contains("\"si\" or \"conventional\""),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `sarcoscope join` as a coordinator runs it: a cohort table (here one study that was
/// not measured) and a clinical table in SI units; the study's scores are filled, its
/// outcome comes along, and a table without case codes is refused in words.
#[test]
fn join_fills_the_scores_of_a_cohort_table_and_refuses_a_table_without_case_codes() {
    use sarcoscope::batch::row::{self, Outcome, Row};
    use sarcoscope::batch::{Settings, StudyError};
    use sarcoscope::body::{MyosteatosisCutoffs, SmiCutoffs};

    let dir = std::env::temp_dir().join(format!("sarcoscope-join-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let settings = Settings {
        smi_cutoffs: SmiCutoffs::Carey2017,
        myosteatosis_cutoffs: MyosteatosisCutoffs::Ebadi2022,
    };
    let outcome = Outcome {
        folder: "mr",
        level: None,
        series: "",
        seconds: 0.0,
    };
    let study = Row::failed("S0001", settings, &StudyError::NoCt("MR".into()), &outcome);
    let cohort = dir.join("cohort.csv");
    std::fs::write(&cohort, row::table(settings, &[study])).expect("write cohort");
    let clinical = dir.join("clinical.csv");
    // MELD 20 (CLINICAL.md §1.2's vector) in µmol/L: bilirubin 4.2 × 17.1, creatinine 1.9 × 88.4.
    std::fs::write(
        &clinical,
        "case,bili,creat,inr,na,alb,sex,dialysis,time_days\nS0001,71.82,167.96,1.2,125,35,M,0,400\n",
    )
    .expect("write clinical");
    let (ok, stdout, stderr) = run(&[
        "join",
        cohort.to_str().expect("path"),
        clinical.to_str().expect("path"),
        "--units",
        "si",
    ]);
    assert!(ok, "{stderr}");
    assert!(stderr.contains("joined 1 of 1 studies"), "{stderr}");
    let rows = sarcoscope::csv::parse(&stdout).expect("CSV out");
    assert_eq!(cell(&rows, 1, "meld"), "20");
    assert_eq!(cell(&rows, 1, "status"), "failed");
    assert_eq!(cell(&rows, 1, "time_days"), "400");

    std::fs::write(&clinical, "id,bili\n1,2\n").expect("write clinical");
    let (ok, _, stderr) = run(&[
        "join",
        cohort.to_str().expect("path"),
        clinical.to_str().expect("path"),
        "--units",
        "si",
    ]);
    assert!(!ok);
    assert!(
        stderr.contains("the clinical table has no \"case\" column"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
