//! Figures as the page prints them: fixed decimals, "–" or words where a value is not
//! defined (never "NaN"), p-values and intervals as papers write them.

/// A figure as text; "–" where it is not defined (never "NaN").
pub fn figure(v: f64, digits: usize) -> String {
    if v.is_finite() {
        format!("{v:.digits$}")
    } else {
        "–".into()
    }
}

pub fn maybe(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "–".into(), |v| figure(v, digits))
}

/// A p-value for a table cell: "< 0.001", "0.042".
pub fn p_figure(p: Option<f64>) -> String {
    match p {
        Some(p) if p < 0.001 => "< 0.001".into(),
        Some(p) => figure(p, 3),
        None => "not defined".into(),
    }
}

/// A p-value in a sentence, with its relation: "p < 0.001", "p = 0.042".
pub fn p_value(p: Option<f64>) -> String {
    match p {
        Some(p) if p >= 0.001 => format!("p = {}", p_figure(Some(p))),
        _ => format!("p {}", p_figure(p)),
    }
}

/// An interval "lo–hi"; a limit that does not exist is named (`missing`: "not
/// reached" for a median whose limit the curve never crosses).
pub fn interval(lower: Option<f64>, upper: Option<f64>, digits: usize, missing: &str) -> String {
    match (lower, upper) {
        (None, None) => "not defined".into(),
        _ => format!(
            "{}–{}",
            lower.map_or_else(|| missing.to_owned(), |v| figure(v, digits)),
            upper.map_or_else(|| missing.to_owned(), |v| figure(v, digits))
        ),
    }
}
