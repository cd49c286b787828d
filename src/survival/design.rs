//! From a cohort table and the roles chosen for its columns to the numbers a model is
//! fitted on: survival times, event codes, covariates (transformed as written: `log(x)`,
//! `rcs(x, k)`, `factor(x)`), strata and groups. Rows are used only when complete (the
//! default of R's `na.action = na.omit`); every left-out row is listed with its line,
//! its column and the reason, so nothing is dropped silently.

use std::fmt;

use super::table::{level_order, read_cell, Cell, CohortTable, Column, MAX_LEVELS};
use crate::stats::quantile;

/// What happened to a patient at the end of follow-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Censored,
    Event,
    /// An event that prevents the one studied (transplant before death, in cirrhosis).
    Competing,
}

/// The outcome columns and which codes mean what.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Outcome {
    pub time: String,
    pub event: String,
    /// The event indicator's value for the event studied (death: `2` in `pbc`).
    pub event_value: String,
    pub competing_value: Option<String>,
    /// The codes that mean censored. `None`: every other code is censored (as R's
    /// `status == 2`), and the summary says which codes those were.
    pub censored_values: Option<Vec<String>>,
}

/// How a column enters the model.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Transform {
    Linear,
    /// Natural logarithm; a value of zero or below leaves the row out, with a reason.
    Log,
    /// Restricted cubic spline with `knots` knots at Harrell's quantiles (rms::rcs).
    Spline {
        knots: usize,
    },
    /// One indicator per level but the reference (the first level unless named).
    Factor {
        reference: Option<String>,
    },
}

/// One covariate as written: a column and its transformation.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TermSpec {
    pub column: String,
    pub transform: Transform,
}

/// Why a covariate list cannot be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SpecError {
    #[error(
        "'{0}' is not a covariate: write a column name, log(name), rcs(name, k) or factor(name)"
    )]
    Unreadable(String),
    #[error("rcs(…, {0}): a restricted cubic spline takes 3 to 7 knots")]
    Knots(usize),
    #[error("no covariates given")]
    Empty,
}

impl TermSpec {
    /// Parses `age, log(bili), rcs(albumin, 4), factor(edema, ref=0)`.
    pub fn parse_list(text: &str) -> Result<Vec<TermSpec>, SpecError> {
        let mut terms = Vec::new();
        let mut depth = 0;
        let mut start = 0;
        for (k, c) in text.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                ',' if depth == 0 => {
                    terms.push(TermSpec::parse(&text[start..k])?);
                    start = k + 1;
                }
                _ => {}
            }
        }
        if !text[start..].trim().is_empty() || !terms.is_empty() {
            terms.push(TermSpec::parse(&text[start..])?);
        }
        if terms.is_empty() {
            return Err(SpecError::Empty);
        }
        Ok(terms)
    }

    pub fn parse(text: &str) -> Result<TermSpec, SpecError> {
        let text = text.trim();
        let bad = || SpecError::Unreadable(text.to_string());
        let Some((function, rest)) = text.split_once('(') else {
            if text.is_empty() {
                return Err(bad());
            }
            return Ok(TermSpec {
                column: text.to_string(),
                transform: Transform::Linear,
            });
        };
        let inner = rest.strip_suffix(')').ok_or_else(bad)?;
        let mut args = inner.split(',').map(str::trim);
        let column = args.next().filter(|c| !c.is_empty()).ok_or_else(bad)?;
        let second = args.next();
        if args.next().is_some() {
            return Err(bad());
        }
        let transform = match (function.trim(), second) {
            ("log", None) => Transform::Log,
            ("rcs", Some(k)) => {
                let knots: usize = k.parse().map_err(|_| bad())?;
                if !(3..=7).contains(&knots) {
                    return Err(SpecError::Knots(knots));
                }
                Transform::Spline { knots }
            }
            ("factor", None) => Transform::Factor { reference: None },
            ("factor", Some(r)) => Transform::Factor {
                reference: Some(r.strip_prefix("ref=").unwrap_or(r).trim().to_string()),
            },
            _ => return Err(bad()),
        };
        Ok(TermSpec {
            column: column.to_string(),
            transform,
        })
    }
}

impl fmt::Display for TermSpec {
    /// As written in R: `age`, `log(bili)`, `rcs(albumin, 4)`, `factor(edema)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.column;
        match &self.transform {
            Transform::Linear => write!(f, "{c}"),
            Transform::Log => write!(f, "log({c})"),
            Transform::Spline { knots } => write!(f, "rcs({c}, {knots})"),
            Transform::Factor { reference: None } => write!(f, "factor({c})"),
            Transform::Factor { reference: Some(r) } => write!(f, "factor({c}, ref={r})"),
        }
    }
}

/// A term with what the data fixed about it (knots, levels), so that the same columns
/// are made again for another cohort or a single patient.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Term {
    pub spec: TermSpec,
    pub basis: Basis,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Basis {
    Linear,
    Log,
    Spline {
        knots: Vec<f64>,
    },
    Factor {
        reference: String,
        levels: Vec<String>,
    },
}

impl Term {
    /// The design columns' names: `age`, `log(bili)`, `rcs(x, 4)`, `rcs(x, 4)'`,
    /// `factor(edema)=0.5`.
    pub fn names(&self) -> Vec<String> {
        let written = self.spec.to_string();
        match &self.basis {
            Basis::Linear | Basis::Log => vec![written],
            Basis::Spline { knots } => (0..knots.len() - 1)
                .map(|j| format!("{written}{}", "'".repeat(j)))
                .collect(),
            Basis::Factor { levels, .. } => {
                levels.iter().map(|l| format!("{written}={l}")).collect()
            }
        }
    }

    /// The design columns for one value (already checked: positive for a log, one of
    /// the levels for a factor).
    pub fn columns(&self, value: &Value) -> Vec<f64> {
        match (&self.basis, value) {
            (Basis::Linear, Value::Number(x)) => vec![*x],
            (Basis::Log, Value::Number(x)) => vec![x.ln()],
            (Basis::Spline { knots }, Value::Number(x)) => spline_basis(*x, knots),
            (Basis::Factor { levels, .. }, Value::Level(l)) => {
                levels.iter().map(|k| f64::from(u8::from(k == l))).collect()
            }
            _ => vec![f64::NAN; self.names().len()],
        }
    }
}

/// A covariate's raw value: a number, or a level of a factor.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Number(f64),
    Level(String),
}

/// Harrell's restricted cubic spline basis (rms::rcspline.eval, norm = 2): x itself,
/// then k − 2 cubic terms that are linear beyond the outer knots.
pub fn spline_basis(x: f64, knots: &[f64]) -> Vec<f64> {
    let k = knots.len();
    let (last, before) = (knots[k - 1], knots[k - 2]);
    let scale = (last - knots[0]).powi(2);
    let cube = |v: f64| v.max(0.0).powi(3);
    let mut out = vec![x];
    for &t in &knots[..k - 2] {
        out.push(
            (cube(x - t) - cube(x - before) * (last - t) / (last - before)
                + cube(x - last) * (before - t) / (last - before))
                / scale,
        );
    }
    out
}

/// Harrell's default knot quantiles for 3 to 7 knots (Regression Modeling Strategies,
/// 2nd ed., table 2.3; rms::rcspline.eval). With fewer than 100 values the outer knots
/// move to the 5th smallest and 5th largest, as rms does.
pub fn spline_knots(values: &[f64], k: usize) -> Vec<f64> {
    let probs: &[f64] = match k {
        3 => &[0.10, 0.5, 0.90],
        4 => &[0.05, 0.35, 0.65, 0.95],
        5 => &[0.05, 0.275, 0.5, 0.725, 0.95],
        6 => &[0.05, 0.23, 0.41, 0.59, 0.77, 0.95],
        _ => &[0.025, 0.1833, 0.3417, 0.5, 0.6583, 0.8167, 0.975],
    };
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mut knots: Vec<f64> = probs.iter().map(|&p| quantile(&sorted, p)).collect();
    let n = sorted.len();
    if (10..100).contains(&n) {
        knots[0] = sorted[4];
        knots[k - 1] = sorted[n - 5];
    }
    knots
}

/// Why a row was left out of the analysis.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    Missing,
    /// Text in a column used as a number.
    NotANumber {
        text: String,
    },
    NegativeTime {
        value: f64,
    },
    /// An event indicator value that is neither the event, the competing event nor a
    /// declared censoring code.
    UndeclaredCode {
        code: String,
    },
    /// `log(x)` of zero or a negative value.
    NotPositive {
        value: f64,
    },
    /// A factor level that the model (fitted elsewhere) does not know.
    UnknownLevel {
        level: String,
    },
}

impl Reason {
    /// A bad cell, as opposed to a missing one: something to correct in the file.
    pub fn is_bad_cell(&self) -> bool {
        !matches!(self, Reason::Missing)
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Missing => write!(f, "missing"),
            Reason::NotANumber { text } => write!(f, "'{text}' is not a number"),
            Reason::NegativeTime { value } => {
                write!(f, "a follow-up time of {value} is negative")
            }
            Reason::UndeclaredCode { code } => write!(
                f,
                "'{code}' is not one of the declared event, competing-event or censoring codes"
            ),
            Reason::NotPositive { value } => {
                write!(f, "log({value}) is undefined: the value must be above zero")
            }
            Reason::UnknownLevel { level } => {
                write!(f, "level '{level}' is not one the model was fitted with")
            }
        }
    }
}

/// A row left out, with the first column that made it so.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Exclusion {
    /// The file line of the row (1 is the header).
    pub line: usize,
    pub column: String,
    pub reason: Reason,
}

impl fmt::Display for Exclusion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.reason
        )
    }
}

/// The roles given to the table's columns.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Roles {
    pub outcome: Outcome,
    pub covariates: Vec<TermSpec>,
    pub strata: Option<String>,
    pub group: Option<String>,
}

impl Outcome {
    /// The event studied is `event == event_value`; every other code is censored (and
    /// counted, so that a forgotten code is seen); no competing event.
    pub fn new(time: &str, event: &str, event_value: &str) -> Outcome {
        Outcome {
            time: time.into(),
            event: event.into(),
            event_value: event_value.into(),
            competing_value: None,
            censored_values: None,
        }
    }
}

impl Roles {
    /// Covariates for `outcome`, without strata or groups.
    pub fn new(outcome: Outcome, covariates: Vec<TermSpec>) -> Roles {
        Roles {
            outcome,
            covariates,
            strata: None,
            group: None,
        }
    }
}

/// Why the roles cannot be applied to this table.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DesignError {
    #[error("there is no column '{0}' in the file")]
    NoColumn(String),
    #[error("no row is complete: every patient misses a value the analysis needs (first: {0})")]
    NoCompleteRow(Exclusion),
    #[error("factor({column}): there is no level '{reference}' to compare with")]
    NoReference { column: String, reference: String },
    #[error("factor({0}) has a single level among the complete rows: it cannot be compared")]
    OneLevel(String),
    #[error(
        "{column} has more than {max} levels: is it a number? (write {column} without factor)"
    )]
    TooManyLevels { column: String, max: usize },
    #[error(
        "rcs({column}, {knots}): too few distinct values among the complete rows for {knots} knots"
    )]
    FewValues { column: String, knots: usize },
}

/// The numbers a model is fitted on: complete rows only, each remembered by its line.
#[derive(Debug, Clone)]
pub struct Design {
    pub terms: Vec<Term>,
    /// One name per design column.
    pub names: Vec<String>,
    pub time: Vec<f64>,
    pub status: Vec<Status>,
    /// Row-major, `names.len()` values per row.
    pub x: Vec<f64>,
    /// The stratum of each row (an index into `strata_levels`; all 0 without strata).
    pub strata: Vec<usize>,
    pub strata_levels: Vec<String>,
    pub group: Vec<usize>,
    pub group_levels: Vec<String>,
    /// The file line of each row used.
    pub lines: Vec<usize>,
    pub excluded: Vec<Exclusion>,
    /// Codes of the event column read as censored, with their counts (shown, so that a
    /// forgotten code is seen).
    pub censored_codes: Vec<(String, usize)>,
}

impl Design {
    /// The design of the given rows (repeats allowed: a bootstrap sample), with the
    /// same terms, levels and strata labels.
    pub fn subset(&self, rows: &[usize]) -> Design {
        let p = self.columns();
        Design {
            terms: self.terms.clone(),
            names: self.names.clone(),
            time: rows.iter().map(|&i| self.time[i]).collect(),
            status: rows.iter().map(|&i| self.status[i]).collect(),
            x: rows
                .iter()
                .flat_map(|&i| self.x[i * p..(i + 1) * p].iter().copied())
                .collect(),
            strata: rows.iter().map(|&i| self.strata[i]).collect(),
            strata_levels: self.strata_levels.clone(),
            group: rows.iter().map(|&i| self.group[i]).collect(),
            group_levels: self.group_levels.clone(),
            lines: rows.iter().map(|&i| self.lines[i]).collect(),
            excluded: Vec::new(),
            censored_codes: Vec::new(),
        }
    }

    pub fn rows(&self) -> usize {
        self.time.len()
    }

    pub fn columns(&self) -> usize {
        self.names.len()
    }

    pub fn row(&self, i: usize) -> &[f64] {
        let p = self.columns();
        &self.x[i * p..(i + 1) * p]
    }

    pub fn events(&self) -> usize {
        self.status.iter().filter(|s| **s == Status::Event).count()
    }

    /// Each row's raw value of term `k`, undoing its transformation (the log, the
    /// spline's extra columns, the dummies): what a development range or a case-mix
    /// table describes.
    pub fn raw(&self, k: usize) -> Vec<Value> {
        let start: usize = self.terms[..k].iter().map(|t| t.names().len()).sum();
        let term = &self.terms[k];
        (0..self.rows())
            .map(|i| {
                let x = self.row(i);
                match &term.basis {
                    Basis::Log => Value::Number(x[start].exp()),
                    Basis::Factor { reference, levels } => {
                        let on = levels.iter().enumerate().find(|(j, _)| x[start + j] == 1.0);
                        Value::Level(on.map_or(reference, |(_, l)| l).clone())
                    }
                    Basis::Linear | Basis::Spline { .. } => Value::Number(x[start]),
                }
            })
            .collect()
    }

    /// Event (true) or not, for the methods that treat a competing event as censoring.
    pub fn event_flags(&self) -> Vec<bool> {
        self.status.iter().map(|s| *s == Status::Event).collect()
    }

    /// Builds the design, fixing knots and levels from the complete rows.
    pub fn build(table: &CohortTable, roles: &Roles) -> Result<Design, DesignError> {
        Design::assemble(table, roles, None)
    }

    /// Builds the design with the terms of a model fitted elsewhere (its knots and
    /// levels), as an external validation must.
    pub fn with_terms(
        table: &CohortTable,
        roles: &Roles,
        terms: &[Term],
    ) -> Result<Design, DesignError> {
        Design::assemble(table, roles, Some(terms))
    }

    fn assemble(
        table: &CohortTable,
        roles: &Roles,
        fixed: Option<&[Term]>,
    ) -> Result<Design, DesignError> {
        let column = |name: &str| {
            table
                .column(name)
                .ok_or_else(|| DesignError::NoColumn(name.to_string()))
        };
        let outcome = &roles.outcome;
        let time_col = column(&outcome.time)?;
        let event_col = column(&outcome.event)?;
        let term_cols: Vec<&Column> = roles
            .covariates
            .iter()
            .map(|t| column(&t.column))
            .collect::<Result<_, _>>()?;
        let strata_col = roles.strata.as_deref().map(column).transpose()?;
        let group_col = roles.group.as_deref().map(column).transpose()?;

        let mut excluded = Vec::new();
        let mut kept = Vec::new(); // (row, time, status, values)
        let mut censored_codes: Vec<(String, usize)> = Vec::new();
        'rows: for row in 0..table.rows() {
            let line = table.lines[row];
            let mut leave_out = |column: &Column, reason: Reason| {
                excluded.push(Exclusion {
                    line,
                    column: column.name.clone(),
                    reason,
                });
            };
            let time = match table.cell(time_col, row) {
                Cell::Number(t) if t >= 0.0 => t,
                Cell::Number(t) => {
                    leave_out(time_col, Reason::NegativeTime { value: t });
                    continue;
                }
                other => {
                    leave_out(time_col, reason_of(other));
                    continue;
                }
            };
            let code = &event_col.cells[row];
            let status = match status_of(code, outcome, table) {
                Some(s) => s,
                None if table.cell(event_col, row) == Cell::Missing => {
                    leave_out(event_col, Reason::Missing);
                    continue;
                }
                None => {
                    leave_out(event_col, Reason::UndeclaredCode { code: code.clone() });
                    continue;
                }
            };
            let mut values = Vec::with_capacity(term_cols.len());
            for (spec, col) in roles.covariates.iter().zip(&term_cols) {
                let value = match (&spec.transform, table.cell(col, row)) {
                    (_, Cell::Missing) => Err(Reason::Missing),
                    (Transform::Factor { .. }, _) => Ok(Value::Level(col.cells[row].clone())),
                    (Transform::Log, Cell::Number(v)) if v <= 0.0 => {
                        Err(Reason::NotPositive { value: v })
                    }
                    (_, Cell::Number(v)) => Ok(Value::Number(v)),
                    (_, Cell::Text(t)) => Err(Reason::NotANumber {
                        text: t.to_string(),
                    }),
                };
                match value {
                    Ok(v) => values.push(v),
                    Err(reason) => {
                        leave_out(col, reason);
                        continue 'rows;
                    }
                }
            }
            for col in [strata_col, group_col].into_iter().flatten() {
                if table.cell(col, row) == Cell::Missing {
                    leave_out(col, Reason::Missing);
                    continue 'rows;
                }
            }
            if status == Status::Censored {
                match censored_codes.iter_mut().find(|(c, _)| c == code) {
                    Some((_, n)) => *n += 1,
                    None => censored_codes.push((code.clone(), 1)),
                }
            }
            kept.push((row, time, status, values));
        }
        if kept.is_empty() {
            return Err(match excluded.first() {
                Some(first) => DesignError::NoCompleteRow(first.clone()),
                None => DesignError::NoCompleteRow(Exclusion {
                    line: 1,
                    column: outcome.time.clone(),
                    reason: Reason::Missing,
                }),
            });
        }

        let terms = match fixed {
            Some(terms) => terms.to_vec(),
            None => roles
                .covariates
                .iter()
                .enumerate()
                .map(|(k, spec)| resolve(spec, kept.iter().map(|r| &r.3[k]), table))
                .collect::<Result<_, _>>()?,
        };
        // A level the fitted model never saw cannot be scored: leave that row out too.
        kept.retain(|(row, _, _, values)| {
            for ((term, value), col) in terms.iter().zip(values).zip(&term_cols) {
                if let (Basis::Factor { reference, levels }, Value::Level(l)) = (&term.basis, value)
                {
                    if l != reference && !levels.contains(l) {
                        excluded.push(Exclusion {
                            line: table.lines[*row],
                            column: col.name.clone(),
                            reason: Reason::UnknownLevel { level: l.clone() },
                        });
                        return false;
                    }
                }
            }
            true
        });
        excluded.sort_by_key(|e| e.line);
        let names: Vec<String> = terms.iter().flat_map(Term::names).collect();
        let mut x = Vec::with_capacity(kept.len() * names.len());
        for (_, _, _, values) in &kept {
            for (term, value) in terms.iter().zip(values) {
                x.extend(term.columns(value));
            }
        }
        let (strata, strata_levels) = levels_of(strata_col, &kept, table);
        let (group, group_levels) = levels_of(group_col, &kept, table);
        Ok(Design {
            terms,
            names,
            time: kept.iter().map(|r| r.1).collect(),
            status: kept.iter().map(|r| r.2).collect(),
            x,
            strata,
            strata_levels,
            group,
            group_levels,
            lines: kept.iter().map(|r| table.lines[r.0]).collect(),
            excluded,
            censored_codes,
        })
    }
}

/// A complete row: its index in the table, time, status and raw covariate values.
type Kept = (usize, f64, Status, Vec<Value>);

fn reason_of(cell: Cell<'_>) -> Reason {
    match cell {
        Cell::Text(t) => Reason::NotANumber {
            text: t.to_string(),
        },
        _ => Reason::Missing,
    }
}

/// Codes compare as numbers when both are (`2` is `2.0`), else as text.
fn same_code(a: &str, b: &str, table: &CohortTable) -> bool {
    match (
        read_cell(a, table.dialect),
        read_cell(b.trim(), table.dialect),
    ) {
        (Cell::Number(x), Cell::Number(y)) => x == y,
        _ => a == b.trim(),
    }
}

fn status_of(code: &str, outcome: &Outcome, table: &CohortTable) -> Option<Status> {
    if read_cell(code, table.dialect) == Cell::Missing {
        return None;
    }
    if same_code(code, &outcome.event_value, table) {
        return Some(Status::Event);
    }
    if let Some(c) = &outcome.competing_value {
        if same_code(code, c, table) {
            return Some(Status::Competing);
        }
    }
    match &outcome.censored_values {
        None => Some(Status::Censored),
        Some(codes) => codes
            .iter()
            .any(|c| same_code(code, c, table))
            .then_some(Status::Censored),
    }
}

fn resolve<'a>(
    spec: &TermSpec,
    values: impl Iterator<Item = &'a Value>,
    table: &CohortTable,
) -> Result<Term, DesignError> {
    let basis = match &spec.transform {
        Transform::Linear => Basis::Linear,
        Transform::Log => Basis::Log,
        Transform::Spline { knots } => {
            let xs: Vec<f64> = values
                .filter_map(|v| match v {
                    Value::Number(x) => Some(*x),
                    Value::Level(_) => None,
                })
                .collect();
            let found = spline_knots(&xs, *knots);
            if found.windows(2).any(|w| w[1] <= w[0]) {
                return Err(DesignError::FewValues {
                    column: spec.column.clone(),
                    knots: *knots,
                });
            }
            Basis::Spline { knots: found }
        }
        Transform::Factor { reference } => {
            let mut levels: Vec<String> = Vec::new();
            for v in values {
                if let Value::Level(l) = v {
                    if !levels.contains(l) {
                        levels.push(l.clone());
                    }
                }
            }
            if levels.len() > MAX_LEVELS {
                return Err(DesignError::TooManyLevels {
                    column: spec.column.clone(),
                    max: MAX_LEVELS,
                });
            }
            levels.sort_by(|a, b| level_order(a, b, table.dialect));
            if levels.len() < 2 {
                return Err(DesignError::OneLevel(spec.column.clone()));
            }
            let reference = match reference {
                None => levels[0].clone(),
                Some(r) => levels
                    .iter()
                    .find(|l| same_code(l, r, table))
                    .cloned()
                    .ok_or_else(|| DesignError::NoReference {
                        column: spec.column.clone(),
                        reference: r.clone(),
                    })?,
            };
            levels.retain(|l| *l != reference);
            Basis::Factor { reference, levels }
        }
    };
    Ok(Term {
        spec: spec.clone(),
        basis,
    })
}

fn levels_of(
    column: Option<&Column>,
    kept: &[Kept],
    table: &CohortTable,
) -> (Vec<usize>, Vec<String>) {
    let Some(column) = column else {
        return (vec![0; kept.len()], vec![String::new()]);
    };
    let mut levels: Vec<String> = Vec::new();
    for (row, ..) in kept {
        if !levels.contains(&column.cells[*row]) {
            levels.push(column.cells[*row].clone());
        }
    }
    levels.sort_by(|a, b| level_order(a, b, table.dialect));
    let index = kept
        .iter()
        .map(|(row, ..)| {
            levels
                .iter()
                .position(|l| *l == column.cells[*row])
                .unwrap_or(0)
        })
        .collect();
    (index, levels)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roles(covariates: &str) -> Roles {
        let outcome = Outcome::new("time", "status", "2");
        Roles::new(outcome, TermSpec::parse_list(covariates).unwrap())
    }

    #[test]
    fn reads_covariates_as_written_in_r() {
        let terms =
            TermSpec::parse_list("age, log(bili), rcs(alb, 4), factor(edema, ref=1)").unwrap();
        assert_eq!(terms.len(), 4);
        assert_eq!(terms[2].transform, Transform::Spline { knots: 4 });
        assert_eq!(terms[3].to_string(), "factor(edema, ref=1)");
        assert_eq!(TermSpec::parse_list("rcs(x, 9)"), Err(SpecError::Knots(9)));
        assert!(TermSpec::parse_list("exp(x)").is_err());
        assert_eq!(TermSpec::parse_list(" "), Err(SpecError::Empty));
    }

    #[test]
    fn leaves_out_incomplete_and_bad_rows_and_says_why() {
        let csv = "time,status,bili,sex\n10,2,1.5,f\n20,0,NA,m\n-3,2,1,f\n30,7,2,m\n40,1,0,f\n50,x,1,m\n60,0,abc,f\n70,2,2,m\n";
        let table = CohortTable::from_bytes(csv.as_bytes()).unwrap();
        let mut r = roles("log(bili), factor(sex)");
        r.outcome.censored_values = Some(vec!["0".into(), "1".into()]);
        let d = Design::build(&table, &r).unwrap();
        assert_eq!(d.lines, vec![2, 9]);
        assert_eq!(d.names, vec!["log(bili)", "factor(sex)=m"]);
        let why: Vec<String> = d.excluded.iter().map(ToString::to_string).collect();
        assert_eq!(
            why,
            vec![
                "line 3, column bili: missing",
                "line 4, column time: a follow-up time of -3 is negative",
                "line 5, column status: '7' is not one of the declared event, competing-event or censoring codes",
                "line 6, column bili: log(0) is undefined: the value must be above zero",
                "line 7, column status: 'x' is not one of the declared event, competing-event or censoring codes",
                "line 8, column bili: 'abc' is not a number",
            ]
        );
        assert_eq!(d.row(1), &[2f64.ln(), 1.0]);
    }

    #[test]
    fn spline_basis_is_linear_beyond_the_outer_knots() {
        let knots = [1.0, 2.0, 4.0, 8.0];
        let at = |x: f64| spline_basis(x, &knots);
        let slope = |x: f64| (at(x + 1.0)[1] - at(x)[1], at(x + 1.0)[2] - at(x)[2]);
        let (a, b) = (slope(10.0), slope(20.0));
        assert!((a.0 - b.0).abs() < 1e-9 && (a.1 - b.1).abs() < 1e-9);
        assert_eq!(at(0.5)[1..], [0.0, 0.0]);
    }
}
