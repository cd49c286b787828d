//! `sarcoscope scores`: prognosis scores for a CSV of patients.

use std::path::Path;

use sarcoscope::clinical::table::score_table;
use sarcoscope::clinical::Units;

use super::write_file;

pub fn scores(
    input: &Path,
    units: Units,
    ast_upper_limit: Option<f64>,
    out: Option<&Path>,
) -> Result<(), super::Failure> {
    let text = std::fs::read_to_string(input)
        .map_err(|e| format!("cannot read {}: {e}", input.display()))?;
    let table = score_table(&text, units, ast_upper_limit)
        .map_err(|e| format!("{}: {e}", input.display()))?;
    match out {
        Some(path) => write_file(path, &table.csv)?,
        None => print!("{}", table.csv),
    }
    eprintln!(
        "scored {} of {} rows{}",
        table.rows - table.errors.len(),
        table.rows,
        if table.errors.is_empty() {
            ""
        } else {
            "; not scored:"
        }
    );
    for (line, why) in &table.errors {
        eprintln!("  line {line}: {why}");
    }
    Ok(())
}
