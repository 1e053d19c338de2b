//! Fuzzing what an import reads from users (issue 18): CSV text, workbooks and the mapping
//! TOML. cargo-fuzz needs a nightly compiler, so inputs are made by proptest strategies and
//! run for a fixed time per target: `CRMLENS_FUZZ_SECONDS` (default 1, a smoke test in the
//! suite; a campaign: `CRMLENS_FUZZ_SECONDS=150 cargo test --test it import_fuzz`). Properties:
//!
//! - `csv_records`: splitting CSV text never panics, and where it finds no stray quote it
//!   reads exactly what the `csv` crate reads;
//! - `csv_import`: importing a random CSV never panics; an import that succeeds accounts for
//!   every row (input = loaded + quarantined, loaded = new + merged + unchanged);
//! - `xlsx`: a workbook whose sheet XML was mutated, or whose bytes were: reading it never
//!   panics;
//! - `mapping`: a mapping mutated line by line: loading and planning it never panics.
//!
//! An input whose outcome (error kind, row accounting) was not seen before is kept in
//! `target/tmp/fuzz-corpus/<target>/`, the input of a panic in `target/tmp/fuzz-findings/`.

use std::collections::HashSet;
use std::io::{Cursor, Read, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crmlens::import::mapping::Mapping;
use crmlens::import::records::Records;
use crmlens::import::source::{self, EncodingChoice, ReadOptions};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;

use crate::common::tempdir;
use crate::import_props::import_dir;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/import")
        .join(name)
}

fn budget() -> Duration {
    let seconds = std::env::var("CRMLENS_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    Duration::from_secs(seconds)
}

/// Runs `check` on values of `strategy` until the time is up; keeps each input whose
/// outcome (the features `check` returns) adds something new, and every input that panics.
/// Returns (cases, corpus size, panics).
pub(crate) fn fuzz<S: Strategy>(
    target: &str,
    strategy: S,
    bytes: impl Fn(&S::Value) -> Vec<u8>,
    check: impl Fn(&S::Value) -> Vec<String>,
) -> (u64, usize, usize)
where
    S::Value: std::fmt::Debug,
{
    let root = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let corpus = root.join("fuzz-corpus").join(target);
    let findings = root.join("fuzz-findings").join(target);
    std::fs::create_dir_all(&corpus).unwrap();
    let mut seen: HashSet<String> = HashSet::new();
    let mut runner = TestRunner::default();
    let (started, budget) = (Instant::now(), budget());
    let (mut cases, mut panics) = (0u64, 0usize);
    while started.elapsed() < budget {
        let value = strategy.new_tree(&mut runner).unwrap().current();
        cases += 1;
        match catch_unwind(AssertUnwindSafe(|| check(&value))) {
            Ok(features) => {
                let new = features
                    .into_iter()
                    .filter(|f| seen.insert(f.clone()))
                    .count();
                if new > 0 {
                    std::fs::write(corpus.join(format!("{cases:08}")), bytes(&value)).unwrap();
                }
            }
            Err(_) => {
                panics += 1;
                std::fs::create_dir_all(&findings).unwrap();
                std::fs::write(findings.join(format!("{cases:08}")), bytes(&value)).unwrap();
            }
        }
    }
    let kept = std::fs::read_dir(&corpus).unwrap().count();
    eprintln!("fuzz {target}: {cases} cases, corpus {kept} inputs, {panics} panic(s)");
    (cases, kept, panics)
}

/// Fuzzes text files made by editing seed files line by line: up to `max` times, a line
/// replaced by or inserted before a line of `line`. `check` gets the seed's index and the text.
pub(crate) fn fuzz_edits(
    target: &str,
    seeds: &[String],
    line: impl Strategy<Value = String>,
    max: usize,
    check: impl Fn(usize, &str) -> Vec<String>,
) -> (u64, usize, usize) {
    let strategy = (
        0..seeds.len(),
        prop::collection::vec((0.0..1.0f64, any::<bool>(), line), 1..max),
    );
    let edited = |(seed, edits): &(usize, Vec<(f64, bool, String)>)| -> String {
        let mut lines: Vec<String> = seeds[*seed].lines().map(str::to_string).collect();
        for (at, replace, text) in edits {
            let i = ((lines.len() as f64) * at) as usize;
            if *replace && i < lines.len() {
                lines[i] = text.clone();
            } else {
                lines.insert(i.min(lines.len()), text.clone());
            }
        }
        lines.join("\n")
    };
    fuzz(
        target,
        strategy,
        |v| edited(v).into_bytes(),
        |v| check(v.0, &edited(v)),
    )
}

/// A message with its numbers and quoted values blanked: one feature per kind of message.
pub(crate) fn shape(message: &str) -> String {
    let mut out = String::new();
    let mut quoted = false;
    for c in message.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                out.push('"');
            }
            _ if quoted => {}
            '0'..='9' => {
                if !out.ends_with('#') {
                    out.push('#');
                }
            }
            _ => out.push(c),
        }
    }
    out.chars().take(120).collect()
}

/// CSV-ish text: fields, delimiters, quotes, line ends and odd characters.
fn csv_text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            4 => "[a-zA-Z0-9@.]{0,6}",
            2 => Just(",".to_string()),
            1 => Just(";".to_string()),
            2 => Just("\"".to_string()),
            1 => Just("\"\"".to_string()),
            2 => Just("\n".to_string()),
            1 => Just("\r\n".to_string()),
            1 => Just("\r".to_string()),
            1 => Just(" ".to_string()),
            1 => Just("\t".to_string()),
            1 => "\\PC{0,3}",
            1 => Just("01.02.2024".to_string()),
            1 => Just("\"1 234,50\"".to_string()),
            1 => Just("+7 (495) 123-45-67".to_string()),
        ],
        0..120,
    )
    .prop_map(|parts| parts.concat())
}

fn csv_crate_records(text: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect::<Vec<_>>())
        .filter(|f: &Vec<String>| !(f.len() == 1 && f[0].is_empty()))
        .collect()
}

#[test]
fn csv_records() {
    let (_, _, panics) = fuzz(
        "csv_records",
        csv_text(),
        |t| t.as_bytes().to_vec(),
        |text| {
            let records: Vec<_> = Records::new(text.as_bytes().to_vec(), b',').collect();
            let mut features: Vec<String> = records
                .iter()
                .map(|r| match &r.problem {
                    Some(p) => shape(p),
                    None => format!("fields {}", r.fields.len().min(8)),
                })
                .collect();
            if records.iter().all(|r| r.problem.is_none()) {
                let ours: Vec<Vec<String>> = records.into_iter().map(|r| r.fields).collect();
                assert_eq!(ours, csv_crate_records(text), "{text:?}");
                features.push("same as the csv crate".into());
            }
            features
        },
    );
    assert_eq!(panics, 0);
}

const MAPPING: &str = r#"
default_country = "RU"
date_formats = ["%d.%m.%Y"]
[customers]
file = "c.csv"
columns = { id = "customer_id", name = "name", phone = "phone", email = "email" }
constants = { kind = "person", country = "RU", created_at = "01.01.2024" }
[orders]
file = "o.csv"
columns = { id = "order_id", customer = "customer_id", date = "ordered_at", sum = "amount", status = "status" }
"#;

#[test]
fn csv_import() {
    let strategy = (csv_text(), csv_text(), any::<bool>());
    let (_, _, panics) = fuzz(
        "csv_import",
        strategy,
        |(c, o, _)| format!("{c}\n=====\n{o}").into_bytes(),
        |(customers, orders, semicolon)| {
            let tmp = tempdir();
            let dir = tmp.path();
            let d = if *semicolon { ";" } else { "," };
            let c = format!("id{d}name{d}phone{d}email\n{customers}");
            let o = format!("id{d}customer{d}date{d}sum{d}status\n{orders}");
            std::fs::write(dir.join("c.csv"), c).unwrap();
            std::fs::write(dir.join("o.csv"), o).unwrap();
            std::fs::write(dir.join("m.toml"), MAPPING).unwrap();
            let result = import_dir(dir);
            match result {
                Err(e) => vec![format!(
                    "error {}: {}",
                    e.exit_code(),
                    shape(&e.to_string())
                )],
                Ok(summary) => {
                    let mut features = Vec::new();
                    for t in &summary.tables {
                        assert_eq!(t.input, t.loaded + t.quarantined, "{t:?}");
                        assert_eq!(t.loaded, t.new + t.merged + t.unchanged, "{t:?}");
                        features.push(format!(
                            "{} in {} loaded {} quarantined {}",
                            t.table,
                            t.input.min(3),
                            t.loaded.min(3),
                            t.quarantined.min(3)
                        ));
                    }
                    let q = dir.join("out/quarantine");
                    for name in ["customers.csv", "orders.csv"] {
                        if let Ok(mut r) = csv::Reader::from_path(q.join(name)) {
                            for row in r.records() {
                                features.push(shape(&row.unwrap()[2]));
                            }
                        }
                    }
                    features
                }
            }
        },
    );
    assert_eq!(panics, 0);
}

/// The entries of a zip file.
fn unzip(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut f = archive.by_index(i).unwrap();
            let mut data = Vec::new();
            f.read_to_end(&mut data).unwrap();
            (f.name().unwrap().to_string(), data)
        })
        .collect()
}

fn zip(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data) in entries {
        w.start_file(name.as_str(), zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// Pieces of sheet XML to splice in.
fn xml_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("<c r=\"A9\" t=\"s\"><v>0</v></c>".to_string()),
        Just("<c r=\"B2\" t=\"n\"><v>1e308</v></c>".to_string()),
        Just("<c r=\"XFD1048576\" t=\"str\"><v>x</v></c>".to_string()),
        Just("<c r=\"A1\" t=\"e\"><v>#DIV/0!</v></c>".to_string()),
        Just("<c r=\"A1\" t=\"d\"><v>2024-13-45</v></c>".to_string()),
        Just("<c r=\"C3\" s=\"99\"><v>45000.5</v></c>".to_string()),
        Just("<c r=\"C3\" t=\"b\"><v>2</v></c>".to_string()),
        Just("<row r=\"0\">".to_string()),
        Just("<row r=\"4294967296\">".to_string()),
        Just("</row>".to_string()),
        Just("<is><t>".to_string()),
        Just("</t></is>".to_string()),
        Just("&amp;&#0;&#xFFFF;".to_string()),
        Just("<![CDATA[x]]>".to_string()),
        Just("<dimension ref=\"A1:XFD1048576\"/>".to_string()),
        "[<>/=\"a-z0-9 ]{0,12}",
    ]
}

/// Edits of a text: (where, as a share of its length; bytes replaced; the bytes put there).
type Edits = Vec<(f64, usize, Vec<u8>)>;

/// A mutation: replace `len` bytes at a share of the text with `piece`.
fn splice(text: &[u8], at: f64, len: usize, piece: &[u8]) -> Vec<u8> {
    let start = ((text.len() as f64) * at) as usize;
    let end = (start + len).min(text.len());
    [&text[..start], piece, &text[end..]].concat()
}

#[test]
fn xlsx() {
    let original = std::fs::read(fixture("managers.xlsx")).unwrap();
    let entries = unzip(&original);
    let sheet = entries
        .iter()
        .position(|(n, _)| n == "xl/worksheets/sheet1.xml")
        .unwrap();
    let mutation = prop_oneof![
        // Sheet XML edits, re-zipped: the reader's XML and cell handling.
        3 => prop::collection::vec((0.0..1.0f64, 0usize..40, xml_piece()), 1..6)
            .prop_map(|edits| (true, edits.into_iter().map(|(a, l, p)| (a, l, p.into_bytes())).collect::<Vec<_>>())),
        // Raw byte edits of the workbook: the zip container.
        1 => prop::collection::vec((0.0..1.0f64, 0usize..4, prop::collection::vec(any::<u8>(), 0..4)), 1..4)
            .prop_map(|edits| (false, edits)),
    ];
    let build = |(xml, edits): &(bool, Edits)| -> Vec<u8> {
        if *xml {
            let mut entries = entries.clone();
            for (at, len, piece) in edits {
                entries[sheet].1 = splice(&entries[sheet].1, *at, *len, piece);
            }
            zip(&entries)
        } else {
            let mut bytes = original.clone();
            for (at, len, piece) in edits {
                bytes = splice(&bytes, *at, *len, piece);
            }
            bytes
        }
    };
    let (_, _, panics) = fuzz("xlsx", mutation, build, |m| {
        let tmp = tempdir();
        let path = tmp.path().join("m.xlsx");
        std::fs::write(&path, build(m)).unwrap();
        let opts = ReadOptions {
            encoding: EncodingChoice::Auto,
            delimiter: None,
            sheet: None,
        };
        match source::open(&path, &opts, None) {
            Err(e) => vec![shape(&e.to_string())],
            Ok(mut s) => {
                let mut features = vec![format!("headers {}", s.headers.len().min(8))];
                while let Some((row, _)) = s.next_row() {
                    features.push(format!(
                        "fields {} {}",
                        row.fields.len().min(8),
                        row.problem.as_deref().map(shape).unwrap_or_default()
                    ));
                }
                features
            }
        }
    });
    assert_eq!(panics, 0);
}

/// The fuzzer's finding: one value in the last cell of a sheet (XFD1048576) made the
/// workbook reader allocate every cell of the sheet (549 GB) and the process abort.
#[test]
fn a_value_in_the_last_cell_of_a_sheet_is_read_alone() {
    let mut entries = unzip(&std::fs::read(fixture("managers.xlsx")).unwrap());
    let sheet = &mut entries
        .iter_mut()
        .find(|(n, _)| n == "xl/worksheets/sheet1.xml")
        .unwrap()
        .1;
    let far = "<row r=\"1048576\"><c r=\"XFD1048576\" t=\"inlineStr\"><is><t>x</t></is></c></row>";
    let text = String::from_utf8(sheet.clone()).unwrap();
    *sheet = text
        .replace("</sheetData>", &format!("{far}</sheetData>"))
        .into_bytes();
    let tmp = tempdir();
    let path = tmp.path().join("far.xlsx");
    std::fs::write(&path, zip(&entries)).unwrap();
    let opts = ReadOptions {
        encoding: EncodingChoice::Auto,
        delimiter: None,
        sheet: None,
    };
    let mut s = source::open(&path, &opts, None).unwrap();
    assert_eq!(s.headers.len(), 4);
    let mut lines = Vec::new();
    while let Some((row, _)) = s.next_row() {
        lines.push(row.line);
    }
    assert_eq!(lines, [2, 3, 4]);
}

#[test]
fn mapping() {
    let seeds = [
        std::fs::read_to_string(fixture("mapping.toml")).unwrap(),
        MAPPING.to_string(),
    ];
    let line = prop_oneof![
        Just(String::new()),
        Just("[customers]".to_string()),
        Just("[orders.values.status]".to_string()),
        Just("[dedup]".to_string()),
        Just("never = [[\"K1\"], [\"K1\", \"K2\", \"K3\"]]".to_string()),
        Just("name_threshold = 1.5".to_string()),
        Just("max_quarantined_share = -1".to_string()),
        Just("decimal_separator = \";\"".to_string()),
        Just("timezone = \"Mars/Olympus\"".to_string()),
        Just("date_formats = [\"%Q\", \"\"]".to_string()),
        Just("default_country = \"XX\"".to_string()),
        Just("file = \"[*\"".to_string()),
        Just("columns = { \"a\" = \"nope\", \"b\" = \"customer_id\" }".to_string()),
        Just("constants = { amount = \"abc\" }".to_string()),
        Just("sheet = 3".to_string()),
        "[a-z_]{1,12} = \"[^\"\\\\]{0,8}\"",
        "\\PC{0,20}",
    ];
    let (_, _, panics) = fuzz_edits("mapping", &seeds, line, 5, |_, text| {
        let tmp = tempdir();
        let path = tmp.path().join("m.toml");
        std::fs::write(&path, text).unwrap();
        let outcome = Mapping::load(&path).and_then(|m| m.plan(&path));
        vec![match outcome {
            Ok(plan) => format!("plan of {} table(s)", plan.tables.len()),
            Err(e) => format!("error {}: {}", e.exit_code(), shape(&e.to_string())),
        }]
    });
    assert_eq!(panics, 0);
}
