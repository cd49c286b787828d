//! Which studies a person should look at first, and why: a study without a measurement,
//! a level that was uncertain or only given, a QC warning, or an SMI or muscle
//! attenuation far from the rest of the cohort (beyond 3 scaled median absolute
//! deviations: robust to the outliers it looks for). The reasons are words, the order
//! is by how many there are, failed studies first; a study a person has reviewed (opened
//! from the queue, corrected, saved) ranks with the studies without doubt, saying so.

use super::row::Row;

/// One study's reasons for a second look.
#[derive(Debug, Clone, PartialEq)]
pub struct Doubt {
    pub reasons: Vec<String>,
    /// Failed studies first, then by the number of reasons; a reviewed one has none.
    pub rank: (bool, usize),
    /// The pixels corrected by hand, once a person has reviewed the study's mask.
    pub reviewed: Option<usize>,
}

impl Doubt {
    /// Whether the study still waits for a person's look.
    pub fn to_look(&self) -> bool {
        self.reviewed.is_none() && !self.reasons.is_empty()
    }

    /// The table's words: why look, or that it was looked at.
    pub fn why(&self) -> String {
        match self.reviewed {
            Some(pixels) => format!("reviewed by hand ({pixels} pixels corrected)"),
            None => self.reasons.join("; "),
        }
    }
}

/// The QC flag every automatic mask carries until a person has looked: not a reason
/// to look at this study before another.
const NOT_YET_REVIEWED: &str = "review";

/// Beyond this many scaled MADs from the cohort's median, a value is an outlier.
const OUTLIER_MADS: f64 = 3.0;

/// The doubt of each row, in the rows' order.
pub fn doubts(rows: &[Row]) -> Vec<Doubt> {
    let outliers = |column: &str, what: &str| -> Vec<Option<String>> {
        let values: Vec<Option<f64>> = rows
            .iter()
            .map(|r| r.value(column).and_then(|v| v.parse().ok()))
            .collect();
        let Some((median, spread)) = median_and_scaled_mad(values.iter().flatten().copied()) else {
            return vec![None; rows.len()];
        };
        values
            .iter()
            .map(|v| {
                let v = (*v)?;
                ((v - median).abs() > OUTLIER_MADS * spread && spread > 0.0)
                    .then(|| format!("{what} {v} is far from this cohort's median {median:.1}"))
            })
            .collect()
    };
    let smi = outliers("smi_cm2_m2", "SMI");
    let hu = outliers("muscle_hu", "muscle HU");
    rows.iter()
        .enumerate()
        .map(|(k, row)| {
            let mut reasons = Vec::new();
            let failed = row.value("status") == Some("failed");
            if failed {
                reasons.push("not measured".to_owned());
            }
            match row.value("l3_status") {
                Some("uncertain") => reasons.push("L3 uncertain".to_owned()),
                Some("given") => reasons.push("level as given, not searched for".to_owned()),
                _ => {}
            }
            let flags: Vec<&str> = row
                .value("qc_flags")
                .unwrap_or_default()
                .split(';')
                .filter(|f| !f.is_empty() && *f != NOT_YET_REVIEWED)
                .collect();
            if !flags.is_empty() {
                reasons.push(format!("QC: {}", flags.join(", ")));
            }
            reasons.extend(smi[k].clone());
            reasons.extend(hu[k].clone());
            let reviewed = (row.value("reviewed") == Some("yes")).then(|| {
                row.value("edited_pixels")
                    .and_then(|p| p.parse().ok())
                    .unwrap_or_default()
            });
            Doubt {
                rank: if reviewed.is_some() {
                    (false, 0)
                } else {
                    (failed, reasons.len())
                },
                reasons,
                reviewed,
            }
        })
        .collect()
}

/// The rows' indices, those to look at first first (a stable order: equal doubts keep
/// the archive's order).
pub fn review_order(doubts: &[Doubt]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..doubts.len()).collect();
    order.sort_by(|&a, &b| doubts[b].rank.cmp(&doubts[a].rank));
    order
}

/// The median and 1.4826 × the median absolute deviation (a standard deviation's
/// equivalent for normal data); `None` for fewer than three values.
fn median_and_scaled_mad(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    let mut v: Vec<f64> = values.filter(|x| x.is_finite()).collect();
    if v.len() < 3 {
        return None;
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        let n = v.len();
        if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        }
    };
    let m = median(&mut v);
    let mut deviations: Vec<f64> = v.iter().map(|x| (x - m).abs()).collect();
    Some((m, 1.4826 * median(&mut deviations)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(status: &str, l3: &str, qc: &str, smi: &str) -> Row {
        reviewed_row(status, l3, qc, smi, "no", "0")
    }

    fn reviewed_row(status: &str, l3: &str, qc: &str, smi: &str, yes: &str, edited: &str) -> Row {
        let names = [
            "status",
            "l3_status",
            "qc_flags",
            "smi_cm2_m2",
            "muscle_hu",
            "reviewed",
            "edited_pixels",
        ];
        let values = [status, l3, qc, smi, "", yes, edited].map(String::from);
        Row::from_values(&names, &values).expect("a row")
    }

    #[test]
    fn failed_then_doubtful_studies_come_first_with_their_reasons() {
        let rows = vec![
            row("measured", "found", "review", "48.0"),
            row("measured", "found", "review", "50.0"),
            row("measured", "uncertain", "kvp;review", "47.0"),
            row("failed", "", "", ""),
            row("measured", "found", "review", "49.0"),
            row("measured", "given", "review", "120.0"),
        ];
        let doubts = doubts(&rows);
        assert_eq!(
            doubts[0].reasons,
            Vec::<String>::new(),
            "'review' alone is no reason"
        );
        assert_eq!(doubts[2].reasons, ["L3 uncertain", "QC: kvp"]);
        assert_eq!(doubts[3].reasons, ["not measured"]);
        assert_eq!(
            doubts[5].reasons,
            [
                "level as given, not searched for",
                "SMI 120 is far from this cohort's median 49.0"
            ]
        );
        assert_eq!(review_order(&doubts), [3, 2, 5, 0, 1, 4]);
        assert!(doubts[2].to_look() && !doubts[0].to_look());
        assert_eq!(doubts[2].why(), "L3 uncertain; QC: kvp");
    }

    #[test]
    fn a_reviewed_study_is_no_longer_one_to_look_at() {
        let mut rows = vec![
            row("measured", "found", "review", "48.0"),
            row("measured", "uncertain", "kvp;review", "47.0"),
            row("measured", "found", "review", "50.0"),
        ];
        assert_eq!(review_order(&doubts(&rows)), [1, 0, 2]);
        rows[1] = reviewed_row("measured", "manual", "kvp", "44.0", "yes", "312");
        let doubts = doubts(&rows);
        assert!(!doubts[1].to_look());
        assert_eq!(doubts[1].why(), "reviewed by hand (312 pixels corrected)");
        assert_eq!(review_order(&doubts), [0, 1, 2]);
    }
}
