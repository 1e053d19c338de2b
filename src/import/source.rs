//! Reading raw exports into header + rows of text, whatever the container: CSV (delimiter
//! sniffed among `,` `;` tab `|`, quoted newlines, BOM, UTF-8 / Windows-1251 / CP-1252 given
//! or detected; split by [`super::records`], which reports a stray quote as one broken row), XLSX/XLS/ODS workbooks (calamine; a named sheet that the workbook lacks is an
//! error naming the sheets it has) and JSON lines. Every row keeps its line (CSV, JSON lines)
//! or sheet row number, so a quarantined row can be found in the source.

use std::path::{Path, PathBuf};

use calamine::{Data, Reader};
use encoding_rs::Encoding;

use super::records::Records;

use crate::{Error, Result};

/// Text encoding of a CSV file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EncodingChoice {
    /// BOM, else valid UTF-8, else detected (Windows-1251 or CP-1252 and others).
    Auto,
    #[value(name = "utf-8")]
    Utf8,
    #[value(name = "windows-1251")]
    Windows1251,
    #[value(name = "windows-1252")]
    Windows1252,
}

/// How input files are read (the command-line options).
#[derive(Debug, Clone)]
pub struct ReadOptions {
    pub encoding: EncodingChoice,
    /// `None` = sniff.
    pub delimiter: Option<u8>,
    /// Overrides the mapping's sheet.
    pub sheet: Option<String>,
}

/// One row of a source.
#[derive(Debug, Clone)]
pub struct RawRow {
    /// Line (CSV, JSON lines: where the record starts) or sheet row number, 1-based.
    pub line: u64,
    pub fields: Vec<String>,
    /// Why the row cannot even be split into the header's fields.
    pub problem: Option<String>,
}

/// An opened input: its header and its rows.
pub struct Source {
    pub path: PathBuf,
    pub headers: Vec<String>,
    /// What was detected, for the summary (`windows-1251, ';'`).
    pub detected: String,
    /// Size in bytes, for the progress bar.
    pub bytes: u64,
    rows: Rows,
}

enum Rows {
    /// The records and the header's width.
    Csv(Records, usize),
    Table(std::vec::IntoIter<RawRow>),
}

impl Source {
    /// The next row and the byte offset reached (for progress).
    pub fn next_row(&mut self) -> Option<(RawRow, u64)> {
        match &mut self.rows {
            Rows::Csv(records, width) => loop {
                let r = records.next()?;
                if r.problem.is_none() && r.fields.len() == 1 && r.fields[0].trim().is_empty() {
                    continue;
                }
                let problem = r.problem.or_else(|| {
                    (r.fields.len() != *width).then(|| {
                        format!(
                            "broken row: {} field(s), the header has {width}",
                            r.fields.len()
                        )
                    })
                });
                let row = RawRow {
                    line: r.line,
                    fields: r.fields,
                    problem,
                };
                return Some((row, records.offset()));
            },
            Rows::Table(rows) => rows.next().map(|r| (r, 0)),
        }
    }
}

fn kind_of(path: &Path) -> &'static str {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    match ext.as_str() {
        "xlsx" | "xlsm" | "xlsb" | "xls" | "ods" => "workbook",
        "jsonl" | "ndjson" => "jsonl",
        _ => "csv",
    }
}

/// Opens an input file. `sheet` applies to workbooks.
pub fn open(path: &Path, options: &ReadOptions, sheet: Option<&str>) -> Result<Source> {
    match kind_of(path) {
        "workbook" => open_workbook(path, options.sheet.as_deref().or(sheet)),
        "jsonl" => open_jsonl(path),
        _ => open_csv(path, options),
    }
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::io(path, e))
}

/// The text of a CSV file and the name of its encoding.
pub fn decode(bytes: Vec<u8>, choice: EncodingChoice) -> (String, &'static str) {
    let forced = match choice {
        EncodingChoice::Auto => None,
        EncodingChoice::Utf8 => Some(encoding_rs::UTF_8),
        EncodingChoice::Windows1251 => Some(encoding_rs::WINDOWS_1251),
        EncodingChoice::Windows1252 => Some(encoding_rs::WINDOWS_1252),
    };
    let encoding: &'static Encoding = match forced {
        Some(e) => e,
        None => match Encoding::for_bom(&bytes) {
            Some((e, _)) => e,
            None if std::str::from_utf8(&bytes).is_ok() => encoding_rs::UTF_8,
            None => {
                let mut detector =
                    chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
                detector.feed(&bytes[..bytes.len().min(1 << 20)], true);
                detector.guess(None, chardetng::Utf8Detection::Allow)
            }
        },
    };
    if encoding == encoding_rs::UTF_8 {
        let start = if bytes.starts_with(b"\xEF\xBB\xBF") {
            3
        } else {
            0
        };
        let text = match String::from_utf8(bytes) {
            Ok(mut s) => {
                s.drain(..start);
                s
            }
            Err(e) => String::from_utf8_lossy(&e.into_bytes()[start..]).into_owned(),
        };
        return (text, "utf-8");
    }
    let (text, used, _) = encoding.decode(&bytes);
    (text.into_owned(), used.name())
}

const DELIMITERS: &[u8] = b",;\t|";

/// The delimiter that splits the header into the most fields among those whose first
/// records mostly (80%) agree with the header's width; when none agrees, the one with the
/// widest header.
pub fn sniff_delimiter(text: &str) -> u8 {
    let sample = &text.as_bytes()[..text.len().min(64 * 1024)];
    let mut best = (b',', false, 1usize);
    for &d in DELIMITERS {
        let counts: Vec<usize> = Records::new(sample.to_vec(), d)
            .take(20)
            .filter(|r| r.problem.is_none())
            .map(|r| r.fields.len())
            .collect();
        let Some(&width) = counts.first() else {
            continue;
        };
        let same = counts.iter().filter(|c| **c == width).count();
        // A truncated last record of the sample may differ; most must agree.
        let agrees = same * 10 >= counts.len() * 8;
        if width > 1 && (agrees, width) > (best.1, best.2) {
            best = (d, agrees, width);
        }
    }
    best.0
}

fn open_csv(path: &Path, options: &ReadOptions) -> Result<Source> {
    let bytes = read(path)?;
    let size = bytes.len() as u64;
    let (text, encoding) = decode(bytes, options.encoding);
    let delimiter = options.delimiter.unwrap_or_else(|| sniff_delimiter(&text));
    let mut records = Records::new(text.into_bytes(), delimiter);
    let headers: Vec<String> = match records.next() {
        None => vec![],
        Some(r) => match r.problem {
            None => r.fields.iter().map(|s| s.trim().to_string()).collect(),
            Some(p) => {
                return Err(Error::dataset(path, format!("unreadable CSV header: {p}")));
            }
        },
    };
    let headers = if headers.iter().all(String::is_empty) {
        vec![]
    } else {
        headers
    };
    let shown = match delimiter {
        b'\t' => "tab".to_string(),
        d => format!("'{}'", d as char),
    };
    Ok(Source {
        path: path.to_path_buf(),
        detected: format!("{encoding}, {shown}"),
        bytes: size,
        rows: Rows::Csv(records, headers.len()),
        headers,
    })
}

fn open_jsonl(path: &Path) -> Result<Source> {
    let bytes = read(path)?;
    let size = bytes.len() as u64;
    let (text, _) = decode(bytes, EncodingChoice::Auto);
    let mut headers: Vec<String> = Vec::new();
    let mut parsed = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(line) {
            Ok(obj) => {
                for k in obj.keys() {
                    if !headers.contains(k) {
                        headers.push(k.clone());
                    }
                }
                parsed.push((i as u64 + 1, Ok(obj)));
            }
            Err(e) => parsed.push((i as u64 + 1, Err((e.to_string(), line.to_string())))),
        }
    }
    let rows: Vec<RawRow> = parsed
        .into_iter()
        .map(|(line, r)| match r {
            Ok(obj) => RawRow {
                line,
                fields: headers
                    .iter()
                    .map(|h| match obj.get(h) {
                        None | Some(serde_json::Value::Null) => String::new(),
                        Some(serde_json::Value::String(s)) => s.clone(),
                        Some(other) => other.to_string(),
                    })
                    .collect(),
                problem: None,
            },
            Err((e, raw)) => RawRow {
                line,
                fields: vec![raw],
                problem: Some(format!("not a JSON object: {e}")),
            },
        })
        .collect();
    Ok(Source {
        path: path.to_path_buf(),
        detected: "json lines".into(),
        bytes: size,
        headers,
        rows: Rows::Table(rows.into_iter()),
    })
}

fn open_workbook(path: &Path, sheet: Option<&str>) -> Result<Source> {
    let bad = |m: String| Error::dataset(path, m);
    let mut workbook = calamine::open_workbook_auto(path)
        .map_err(|e| bad(format!("cannot open workbook: {e}")))?;
    let names = workbook.sheet_names();
    let name = match sheet {
        Some(s) => names
            .iter()
            .find(|n| n.as_str() == s)
            .or_else(|| {
                names
                    .iter()
                    .find(|n| n.trim().eq_ignore_ascii_case(s.trim()))
            })
            .cloned()
            .ok_or_else(|| {
                bad(format!(
                    "sheet {s:?} not found; the workbook has {}",
                    names
                        .iter()
                        .map(|n| format!("{n:?}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?,
        None => names
            .first()
            .cloned()
            .ok_or_else(|| bad("the workbook has no sheets".into()))?,
    };
    // calamine 0.38 panics on some malformed files (a row number past u32 in a debug
    // build, found by fuzzing): the file is bad, the import is not.
    let cells = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        sheet_cells(&mut workbook, &name)
    }))
    .map_err(|_| {
        bad(format!(
            "sheet {name:?}: the workbook reader failed on this file"
        ))
    })?
    .map_err(|e| bad(format!("sheet {name:?}: {e}")))?;
    let first_col = cells.iter().map(|c| c.1).min().unwrap_or(0);
    let mut lines = cells.chunk_by(|a, b| a.0 == b.0);
    // The header's last cell bounds every row: a value beyond it has no column name.
    let (headers, width) = match lines.next() {
        Some(header) => {
            let width = header
                .iter()
                .map(|c| c.1 - first_col + 1)
                .max()
                .unwrap_or(0) as usize;
            let mut names = vec![String::new(); width];
            for (_, c, value) in header {
                names[(c - first_col) as usize] = cell_text(value).trim().to_string();
            }
            (names, width)
        }
        None => (vec![], 0),
    };
    let rows_left = cells.last().map_or(0, |c| c.0) as usize;
    if width.saturating_mul(rows_left) > MAX_SHEET_CELLS {
        return Err(bad(format!(
            "sheet {name:?}: {width} columns up to row {rows_left} are more cells than an \
             import reads from a workbook ({MAX_SHEET_CELLS}); export the sheet as CSV"
        )));
    }
    let mut rows = Vec::new();
    for line in lines {
        let mut fields = vec![String::new(); width];
        let mut problem = None;
        for (_, c, value) in line {
            if let Some(field) = fields.get_mut((c - first_col) as usize) {
                *field = cell_text(value);
                if let Data::Error(e) = value {
                    problem.get_or_insert_with(|| format!("cell error {e}"));
                }
            }
        }
        if fields.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        rows.push(RawRow {
            line: line[0].0 as u64 + 1,
            fields,
            problem,
        });
    }
    Ok(Source {
        path: path.to_path_buf(),
        detected: format!("sheet {name:?}"),
        bytes: 0,
        headers,
        rows: Rows::Table(rows.into_iter()),
    })
}

/// Cells (columns × rows up to the last row) an import reads from one sheet at most.
const MAX_SHEET_CELLS: usize = 50_000_000;

/// The non-empty cells of a sheet, (row, column, value), in row order. An `.xlsx` sheet is read
/// cell by cell: calamine's `worksheet_range` allocates every cell of the rectangle the used
/// cells span, and one value in the last cell (XFD1048576) made that 549 GB, an abort
/// (found by fuzzing, tests/it/import_fuzz.rs).
fn sheet_cells(
    workbook: &mut calamine::Sheets<std::io::BufReader<std::fs::File>>,
    name: &str,
) -> std::result::Result<Vec<(u32, u32, Data)>, String> {
    let mut cells = Vec::new();
    if let calamine::Sheets::Xlsx(xlsx) = workbook {
        let mut reader = xlsx
            .worksheet_cells_reader(name)
            .map_err(|e| e.to_string())?;
        while let Some(cell) = reader.next_cell().map_err(|e| e.to_string())? {
            let (row, col) = cell.get_position();
            let value = Data::from(cell.get_value().clone());
            if value != Data::Empty {
                cells.push((row, col, value));
            }
        }
    } else {
        let range = workbook.worksheet_range(name).map_err(|e| e.to_string())?;
        let (top, left) = range.start().unwrap_or((0, 0));
        for (r, c, value) in range.used_cells() {
            cells.push((top + r as u32, left + c as u32, value.clone()));
        }
    }
    cells.sort_by_key(|c| (c.0, c.1));
    Ok(cells)
}

/// A cell as the text a user sees: whole numbers without `.0`, dates as ISO 8601 (local).
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(d) => {
            let (y, mo, da, h, mi, s, _) = d.to_ymd_hms_milli();
            if (h, mi, s) == (0, 0, 0) {
                format!("{y:04}-{mo:02}-{da:02}")
            } else {
                format!("{y:04}-{mo:02}-{da:02} {h:02}:{mi:02}:{s:02}")
            }
        }
        Data::Error(e) => format!("#{e:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_delimiters() {
        assert_eq!(sniff_delimiter("a;b;c\n1;\"x;y\";3\n"), b';');
        assert_eq!(sniff_delimiter("a,b\n1,2\n"), b',');
        assert_eq!(sniff_delimiter("a\tb\tc\n1\t2\t3\n"), b'\t');
        assert_eq!(sniff_delimiter("a|b\n\"1,5\"|2\n"), b'|');
        assert_eq!(sniff_delimiter("Сумма;Дата\n1,5;01.02.2024\n"), b';');
    }

    #[test]
    fn lines_of_records() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.csv");
        std::fs::write(&p, "a;b\r\nK1;x\r\n\r\nK2;\"y\r\nz\"\r\nK3\r\n").unwrap();
        let opts = ReadOptions {
            encoding: EncodingChoice::Auto,
            delimiter: None,
            sheet: None,
        };
        let mut s = open(&p, &opts, None).unwrap();
        let mut lines = vec![];
        while let Some((r, _)) = s.next_row() {
            lines.push((r.line, r.problem.is_some()));
        }
        assert_eq!(lines, vec![(2, false), (4, false), (6, true)]);
    }

    #[test]
    fn decodes() {
        let (cp1251, _, _) = encoding_rs::WINDOWS_1251.encode("Телефон;Имя\nИван;Петров\n");
        let (text, name) = decode(cp1251.into_owned(), EncodingChoice::Auto);
        assert_eq!(name, "windows-1251");
        assert!(text.starts_with("Телефон;"));
        let (text, name) = decode(b"\xEF\xBB\xBFa,b\n".to_vec(), EncodingChoice::Auto);
        assert_eq!((text.as_str(), name), ("a,b\n", "utf-8"));
        let (cp1252, _, _) = encoding_rs::WINDOWS_1252.encode("name\nJosé Müller\n");
        let (text, _) = decode(cp1252.into_owned(), EncodingChoice::Windows1252);
        assert!(text.contains("José Müller"));
    }
}
