//! `sarcoscope join`: a clinical table joined to a cohort table by case code, or by
//! PatientID through the key table (the work is `sarcoscope::batch::clinical`, which the
//! Cohort view runs too).

use std::path::Path;

use sarcoscope::batch::clinical::{join, read_cohort};
use sarcoscope::clinical::Units;

use super::{write_file, Failure};

pub fn run(
    cohort: &Path,
    clinical: &Path,
    keys: Option<&Path>,
    units: Units,
    out: Option<&Path>,
) -> Result<(), Failure> {
    let read = |path: &Path| {
        std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
    };
    let (settings, rows) =
        read_cohort(&read(cohort)?).map_err(|e| format!("{}: {e}", cohort.display()))?;
    let keys = match keys {
        Some(path) => sarcoscope::batch::keys::parse(&read(path)?)
            .map_err(|e| format!("{}: {e}", path.display()))?,
        None => Vec::new(),
    };
    let joined = join(settings, &rows, &read(clinical)?, units, &keys)
        .map_err(|e| format!("{}: {e}", clinical.display()))?;
    match out {
        Some(path) => write_file(path, &joined.csv)?,
        None => print!("{}", joined.csv),
    }
    eprintln!(
        "joined {} of {} studies with their clinical row",
        joined.matched,
        rows.len()
    );
    if !joined.without_clinical.is_empty() {
        eprintln!(
            "  without a clinical row: {}",
            joined.without_clinical.join(", ")
        );
    }
    if !joined.not_in_cohort.is_empty() {
        eprintln!(
            "  cases not in the cohort: {}",
            joined.not_in_cohort.join(", ")
        );
    }
    for (line, what) in &joined.disagreements {
        eprintln!("  {}: line {line}: {what}", clinical.display());
    }
    for (line, why) in &joined.problems {
        eprintln!("  {}: line {line} not used: {why}", clinical.display());
    }
    Ok(())
}
