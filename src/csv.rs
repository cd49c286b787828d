//! RFC 4180 CSV: the patient export and the `scores` command read and write it. Fields
//! are quoted when they hold a comma, quote or line break, and a field that a
//! spreadsheet would run as a formula (leading `=`, `+`, `-`, `@`) is prefixed with `'`
//! unless it is a number.

/// One CSV line (without its line break).
pub fn line<S: AsRef<str>>(fields: &[S]) -> String {
    fields
        .iter()
        .map(|f| field(f.as_ref()))
        .collect::<Vec<_>>()
        .join(",")
}

fn field(value: &str) -> String {
    // A lone "-" (a common "missing" mark) and numbers are left as they are.
    let formula = value.len() > 1
        && value.starts_with(['=', '+', '-', '@', '\t', '\r'])
        && value.parse::<f64>().is_err();
    let value = if formula {
        format!("'{value}")
    } else {
        value.to_string()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

/// Why a CSV could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CsvError {
    #[error("the file is empty: it needs a header line naming the columns")]
    Empty,
    #[error("line {line}: a quoted field is never closed")]
    OpenQuote { line: usize },
}

/// Parses a whole CSV text into rows of fields. Blank lines are skipped; a row may have
/// fewer or more fields than the header (the caller decides what that means).
pub fn parse(text: &str) -> Result<Vec<Vec<String>>, CsvError> {
    Ok(parse_numbered(text)?
        .into_iter()
        .map(|(_, row)| row)
        .collect())
}

/// As [`parse`], with the line each row starts on (for messages).
pub fn parse_numbered(text: &str) -> Result<Vec<(usize, Vec<String>)>, CsvError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut line = 1;
    let mut row_line = 1;
    let mut quote_line = 0;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cur.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => {
                if c == '\n' {
                    line += 1;
                }
                cur.push(c);
            }
            (false, '"') if cur.is_empty() => {
                quoted = true;
                quote_line = line;
            }
            (false, ',') => row.push(std::mem::take(&mut cur)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut cur));
                if !(row.len() == 1 && row[0].trim().is_empty()) {
                    rows.push((row_line, std::mem::take(&mut row)));
                }
                row.clear();
                line += 1;
                row_line = line;
            }
            (false, c) => cur.push(c),
        }
    }
    if quoted {
        return Err(CsvError::OpenQuote { line: quote_line });
    }
    if !cur.is_empty() || !row.is_empty() {
        row.push(cur);
        rows.push((row_line, row));
    }
    if rows.is_empty() {
        return Err(CsvError::Empty);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_quotes_commas_and_line_breaks() {
        let fields = ["a", "b,c", "say \"hi\"", "two\nlines", "", "-1.5", "=cmd()"];
        let text = format!("{}\r\n{}\n", line(&fields), line(&["x"]));
        let rows = parse(&text).unwrap();
        assert_eq!(rows[0][..6], fields[..6]);
        assert_eq!(rows[0][6], "'=cmd()");
        assert_eq!(rows[1], vec!["x"]);
        assert_eq!(parse("a,b\n\n1,2").unwrap().len(), 2);
        assert_eq!(parse("\u{feff}h\n1").unwrap()[0], vec!["h"]);
        assert_eq!(
            parse("a,\"b\n").unwrap_err(),
            CsvError::OpenQuote { line: 1 }
        );
        assert_eq!(parse("").unwrap_err(), CsvError::Empty);
        let numbered = parse_numbered("h\n\n\"two\nlines\"\nlast").unwrap();
        assert_eq!(
            numbered.iter().map(|(l, _)| *l).collect::<Vec<_>>(),
            vec![1, 3, 5]
        );
        assert_eq!(line(&["-", "-x", "\tcmd"]), "-,'-x,'\tcmd");
    }
}
