//! A cohort table as people hand it over: a CSV from a spreadsheet or from R (comma or
//! semicolon, decimal point or decimal comma, with or without a byte-order mark, quoted
//! fields), or the cohort CSV Sarcoscope itself exports. Cells stay text until a column
//! is given a role, so that a bad cell is reported where it is used, with its line.

use std::fmt;

/// How the file separates fields and writes decimals, guessed from its first lines and
/// shown so that a wrong guess can be seen and overridden.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Dialect {
    pub delimiter: u8,
    /// `1,5` means one and a half (European spreadsheets, which then separate fields
    /// with semicolons).
    pub decimal_comma: bool,
}

impl Dialect {
    /// The delimiter that splits the header line into the most fields (outside quotes);
    /// a decimal comma only where fields are not comma-separated and some cell reads
    /// as digits, a comma and digits.
    pub fn sniff(text: &str) -> Dialect {
        let header = text.lines().next().unwrap_or("");
        let count = |d: char| {
            let mut quoted = false;
            header
                .chars()
                .filter(|&c| {
                    if c == '"' {
                        quoted = !quoted;
                    }
                    !quoted && c == d
                })
                .count()
        };
        let delimiter = [b';', b'\t', b','].into_iter().fold(b',', |best, d| {
            if count(d as char) > count(best as char) {
                d
            } else {
                best
            }
        });
        let decimal_comma = delimiter != b','
            && text.lines().skip(1).take(200).any(|line| {
                line.split(delimiter as char)
                    .any(|cell| is_comma_decimal(cell.trim().trim_matches('"')))
            });
        Dialect {
            delimiter,
            decimal_comma,
        }
    }
}

fn is_comma_decimal(cell: &str) -> bool {
    let cell = cell.strip_prefix(['-', '+']).unwrap_or(cell);
    match cell.split_once(',') {
        Some((whole, frac)) => {
            !whole.is_empty()
                && !frac.is_empty()
                && whole.bytes().all(|b| b.is_ascii_digit())
                && frac.bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fields = match self.delimiter {
            b';' => "semicolons",
            b'\t' => "tabs",
            _ => "commas",
        };
        let decimals = if self.decimal_comma {
            "decimal comma"
        } else {
            "decimal point"
        };
        write!(f, "fields separated by {fields}, {decimals}")
    }
}

/// Why a cohort file could not be read as a table at all.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    #[error(
        "the file is empty: it needs a header line naming the columns, then one line per patient"
    )]
    Empty,
    #[error("the file has a header line but no patients")]
    HeaderOnly,
    #[error("the file is not text in UTF-8 (save it from the spreadsheet as 'CSV UTF-8')")]
    NotText,
    #[error("line {line}: {found} fields where the header names {expected} — a missing or extra separator?")]
    Ragged {
        line: usize,
        found: usize,
        expected: usize,
    },
    #[error("two columns are both called '{0}': rename one")]
    DuplicateColumn(String),
    #[error("a column has no name (column {0}): give it one in the header line")]
    UnnamedColumn(usize),
    #[error("line {line}: the file cannot be read as CSV")]
    Csv {
        line: usize,
        #[source]
        source: csv::Error,
    },
}

/// One cohort: named columns of text cells, and the file line of each row.
#[derive(Debug, Clone)]
pub struct CohortTable {
    pub dialect: Dialect,
    pub columns: Vec<Column>,
    /// The file line each row starts on (1 is the header), for messages.
    pub lines: Vec<usize>,
}

#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    pub cells: Vec<String>,
}

/// What a cell holds once read as a number.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell<'a> {
    Missing,
    Number(f64),
    Text(&'a str),
}

/// Marks that mean "not recorded" in the files people send (R writes `NA`).
pub const MISSING: [&str; 7] = ["", "NA", "N/A", "na", "n/a", "NaN", "."];

impl CohortTable {
    /// Reads a whole file, guessing its dialect.
    pub fn from_bytes(bytes: &[u8]) -> Result<CohortTable, TableError> {
        let text = std::str::from_utf8(bytes).map_err(|_| TableError::NotText)?;
        CohortTable::parse(text, Dialect::sniff(text))
    }

    pub fn parse(text: &str, dialect: Dialect) -> Result<CohortTable, TableError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        if text.trim().is_empty() {
            return Err(TableError::Empty);
        }
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(dialect.delimiter)
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes());
        let mut records = reader.records();
        let mut counter = LineCounter::new(text);
        let header = match records.next() {
            Some(Ok(record)) => record,
            Some(Err(source)) => return Err(csv_error(&mut counter, source)),
            None => return Err(TableError::Empty),
        };
        let mut columns: Vec<Column> = Vec::with_capacity(header.len());
        for (k, name) in header.iter().enumerate() {
            let name = name.trim();
            if name.is_empty() {
                // A trailing separator after the last name adds an empty column.
                if k + 1 == header.len() && k > 0 {
                    break;
                }
                return Err(TableError::UnnamedColumn(k + 1));
            }
            if columns.iter().any(|c| c.name == name) {
                return Err(TableError::DuplicateColumn(name.to_string()));
            }
            columns.push(Column {
                name: name.to_string(),
                cells: Vec::new(),
            });
        }
        let mut lines = Vec::new();
        for record in records {
            let record = record.map_err(|e| csv_error(&mut counter, e))?;
            let line = record.position().map_or(0, |p| counter.line_at(p.byte()));
            if record.iter().all(|f| f.trim().is_empty()) {
                continue;
            }
            let fields: Vec<&str> = record.iter().collect();
            // Spreadsheets add empty fields at the end of a line; those are harmless.
            let used = fields
                .iter()
                .rposition(|f| !f.trim().is_empty())
                .map_or(0, |k| k + 1);
            if fields.len() < columns.len() || used > columns.len() {
                return Err(TableError::Ragged {
                    line,
                    found: fields.len(),
                    expected: columns.len(),
                });
            }
            for (column, field) in columns.iter_mut().zip(&fields) {
                column.cells.push(field.trim().to_string());
            }
            lines.push(line);
        }
        if lines.is_empty() {
            return Err(TableError::HeaderOnly);
        }
        Ok(CohortTable {
            dialect,
            columns,
            lines,
        })
    }

    pub fn rows(&self) -> usize {
        self.lines.len()
    }

    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// A cell read as a number in this table's dialect.
    pub fn cell<'a>(&self, column: &'a Column, row: usize) -> Cell<'a> {
        read_cell(&column.cells[row], self.dialect)
    }

    /// Type, missing count, range and levels of every column.
    pub fn summaries(&self) -> Vec<ColumnSummary> {
        self.columns.iter().map(|c| self.summary(c)).collect()
    }

    fn summary(&self, column: &Column) -> ColumnSummary {
        let mut numbers = Vec::new();
        let mut texts = 0;
        let mut missing = 0;
        for row in 0..self.rows() {
            match self.cell(column, row) {
                Cell::Missing => missing += 1,
                Cell::Number(v) => numbers.push(v),
                Cell::Text(_) => texts += 1,
            }
        }
        let kind = if texts == 0 && !numbers.is_empty() {
            ColumnKind::Number
        } else {
            ColumnKind::Text
        };
        let mut levels: Vec<(String, usize)> = Vec::new();
        for cell in &column.cells {
            if MISSING.contains(&cell.as_str()) {
                continue;
            }
            match levels.iter_mut().find(|(l, _)| l == cell) {
                Some((_, n)) => *n += 1,
                None => levels.push((cell.clone(), 1)),
            }
        }
        levels.sort_by(|a, b| level_order(&a.0, &b.0, self.dialect));
        numbers.sort_by(f64::total_cmp);
        let range = (!numbers.is_empty() && kind == ColumnKind::Number).then(|| NumberRange {
            min: numbers[0],
            median: crate::stats::quantile(&numbers, 0.5),
            max: numbers[numbers.len() - 1],
        });
        ColumnSummary {
            name: column.name.clone(),
            kind,
            missing,
            distinct: levels.len(),
            range,
            levels: if levels.len() <= MAX_LEVELS {
                levels
            } else {
                Vec::new()
            },
        }
    }
}

fn csv_error(lines: &mut LineCounter<'_>, source: csv::Error) -> TableError {
    let line = source.position().map_or(0, |p| lines.line_at(p.byte()));
    TableError::Csv { line, source }
}

/// Line numbers (from 1) of byte offsets met in increasing order, counted as the
/// reader goes (once over the text, however long). The reader's own count is off after
/// a Windows line end, where a record's position is the `\n` that ends the line before
/// (hence the byte itself is counted too).
struct LineCounter<'a> {
    text: &'a [u8],
    counted_to: usize,
    line: usize,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a str) -> LineCounter<'a> {
        LineCounter {
            text: text.as_bytes(),
            counted_to: 0,
            line: 1,
        }
    }

    fn line_at(&mut self, offset: u64) -> usize {
        let end = (offset as usize + 1)
            .min(self.text.len())
            .max(self.counted_to);
        self.line += self.text[self.counted_to..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        self.counted_to = end;
        self.line
    }
}

pub(crate) fn read_cell(text: &str, dialect: Dialect) -> Cell<'_> {
    if MISSING.contains(&text) {
        return Cell::Missing;
    }
    let parsed = if dialect.decimal_comma && is_comma_decimal(text) {
        text.replace(',', ".").parse::<f64>()
    } else {
        text.parse::<f64>()
    };
    match parsed {
        Ok(v) if v.is_finite() => Cell::Number(v),
        _ => Cell::Text(text),
    }
}

/// Levels in numeric order when they are numbers (0, 0.5, 1), else alphabetically.
pub(crate) fn level_order(a: &str, b: &str, dialect: Dialect) -> std::cmp::Ordering {
    match (read_cell(a, dialect), read_cell(b, dialect)) {
        (Cell::Number(x), Cell::Number(y)) => x.total_cmp(&y),
        _ => a.cmp(b),
    }
}

/// Up to this many levels are listed; a column with more is not a grouping.
pub const MAX_LEVELS: usize = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColumnKind {
    Number,
    Text,
}

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NumberRange {
    pub min: f64,
    pub median: f64,
    pub max: f64,
}

/// What the column-role chooser shows beside each column.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ColumnSummary {
    pub name: String,
    pub kind: ColumnKind,
    pub missing: usize,
    pub distinct: usize,
    pub range: Option<NumberRange>,
    /// Each level and its count, when there are at most [`MAX_LEVELS`].
    pub levels: Vec<(String, usize)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_european_spreadsheets_and_r_files_alike() {
        let r = "\"id\",\"time\",\"bili\"\n1,400,14.5\n2,4500,NA\n";
        let eu = "\u{feff}id;time;bili\r\n1;400;14,5\r\n2;4500;\r\n";
        for text in [r, eu] {
            let table = CohortTable::from_bytes(text.as_bytes()).unwrap();
            assert_eq!(table.rows(), 2);
            assert_eq!(table.lines, vec![2, 3]);
            let bili = table.column("bili").unwrap();
            assert_eq!(table.cell(bili, 0), Cell::Number(14.5));
            assert_eq!(table.cell(bili, 1), Cell::Missing);
        }
        let quoted = CohortTable::from_bytes(b"h\n\"two\nlines\"\nlast\n").unwrap();
        assert_eq!(quoted.lines, vec![2, 4]);
        let eu = CohortTable::from_bytes(b"a;b\n1,5;x\n").unwrap();
        assert_eq!(
            eu.dialect,
            Dialect {
                delimiter: b';',
                decimal_comma: true
            }
        );
        // A comma-separated file never reads "1,5" as one and a half.
        assert!(!Dialect::sniff("a,b\n\"1,5\",2\n").decimal_comma);
    }

    #[test]
    fn says_what_is_wrong_with_a_file_in_words() {
        let err = |text: &str| CohortTable::from_bytes(text.as_bytes()).unwrap_err();
        assert!(matches!(err(""), TableError::Empty));
        assert!(matches!(err("a,b\n"), TableError::HeaderOnly));
        assert!(matches!(
            err("a,b\n1,2\n3\n"),
            TableError::Ragged {
                line: 3,
                found: 1,
                expected: 2
            }
        ));
        assert!(matches!(err("a,a\n1,2\n"), TableError::DuplicateColumn(_)));
        assert!(matches!(
            CohortTable::from_bytes(&[0xff, 0xfe, 0]).unwrap_err(),
            TableError::NotText
        ));
        // Trailing empty fields from a spreadsheet are not a ragged row.
        assert_eq!(CohortTable::from_bytes(b"a,b,\n1,2,,\n").unwrap().rows(), 1);
    }

    #[test]
    fn summarises_each_column() {
        let table = CohortTable::from_bytes(b"x,sex\n3,f\n1,m\nNA,f\n2,x1\n").unwrap();
        let s = table.summaries();
        assert_eq!(s[0].kind, ColumnKind::Number);
        assert_eq!(s[0].missing, 1);
        assert_eq!(
            s[0].range,
            Some(NumberRange {
                min: 1.0,
                median: 2.0,
                max: 3.0
            })
        );
        assert_eq!(s[1].kind, ColumnKind::Text);
        assert_eq!(s[1].levels[0], ("f".to_string(), 2));
    }
}
