//! Small hand-made datasets written with arrow directly, so that expectations are computed by
//! hand and independent of the generator and the engine.
//!
//! `variants`: every table column in a non-canonical but accepted physical type (large utf8
//! ids, dictionary-encoded foreign keys, float64 and decimal(10,3) money, int32 quantities,
//! naive millisecond and zoned nanosecond timestamps), names in Cyrillic, Arabic and Hebrew,
//! and `events/` as a hive-partitioned folder (`month=2024-03/`, `month=2024-04/`) beside a
//! stray `_SUCCESS` marker that must be ignored.

use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::*;
use datafusion::arrow::datatypes::*;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::ArrowWriter;

pub fn write(path: &Path, columns: Vec<(&str, ArrayRef)>) {
    let batch = RecordBatch::try_from_iter(columns).unwrap();
    let file = std::fs::File::create(path).unwrap();
    let mut w = ArrowWriter::try_new(file, batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

fn large(values: &[&str]) -> ArrayRef {
    Arc::new(LargeStringArray::from(values.to_vec()))
}

fn text(values: &[&str]) -> ArrayRef {
    Arc::new(StringArray::from(values.to_vec()))
}

fn dict(values: &[&str]) -> ArrayRef {
    Arc::new(
        values
            .iter()
            .copied()
            .collect::<DictionaryArray<Int32Type>>(),
    )
}

/// Milliseconds since the epoch of a UTC wall-clock time.
fn ms(s: &str) -> i64 {
    chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M")
        .unwrap()
        .and_utc()
        .timestamp_millis()
}

pub fn variants(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    write(
        &dir.join("customers.parquet"),
        vec![
            ("customer_id", large(&["C1", "C2", "C3"])),
            ("kind", dict(&["person", "organization", "person"])),
            ("name", text(&["Анна Иванова", "شركة النور", "דוד כהן"])),
            ("country", text(&["RU", "AE", "IL"])),
            (
                "created_at",
                Arc::new(TimestampMillisecondArray::from(vec![
                    ms("2024-01-01 09:00"),
                    ms("2024-01-05 12:00"),
                    ms("2024-02-01 08:30"),
                ])),
            ),
        ],
    );
    // Orders in nanoseconds, zoned Europe/Moscow (UTC+3): O4 is 2024-03-31 23:30 in Moscow,
    // 20:30 UTC. The dictionary-encoded customer_id must still join the large-utf8 key.
    let ns = |s: &str| ms(s) * 1_000_000;
    write(
        &dir.join("orders.parquet"),
        vec![
            ("order_id", text(&["O1", "O2", "O3", "O4", "O5"])),
            ("customer_id", dict(&["C1", "C1", "C2", "C3", "C2"])),
            (
                "ordered_at",
                Arc::new(
                    TimestampNanosecondArray::from(vec![
                        ns("2024-03-01 07:00"),
                        ns("2024-03-15 09:00"),
                        ns("2024-03-20 10:00"),
                        ns("2024-03-31 20:30"),
                        ns("2024-04-01 06:00"),
                    ])
                    .with_timezone("Europe/Moscow"),
                ),
            ),
            (
                "amount",
                Arc::new(Float64Array::from(vec![100.25, 50.0, 1000.48, 20.0, 300.0])),
            ),
            (
                "status",
                text(&["paid", "paid", "paid", "refunded", "cancelled"]),
            ),
        ],
    );
    write(
        &dir.join("products.parquet"),
        vec![
            ("product_id", text(&["P1", "P2"])),
            ("name", text(&["Чайник", "Kettle"])),
            ("category", text(&["kitchen", "kitchen"])),
            (
                "unit_cost",
                Arc::new(
                    Decimal128Array::from(vec![12_500, 7_125])
                        .with_precision_and_scale(10, 3)
                        .unwrap(),
                ),
            ),
        ],
    );
    write(
        &dir.join("order_items.parquet"),
        vec![
            ("order_id", text(&["O1", "O1", "O3"])),
            ("product_id", text(&["P1", "P2", "P1"])),
            ("quantity", Arc::new(Int32Array::from(vec![2, 1, 40]))),
            (
                "unit_price",
                Arc::new(
                    Decimal128Array::from(vec![40_000, 20_250, 25_012])
                        .with_precision_and_scale(10, 3)
                        .unwrap(),
                ),
            ),
        ],
    );
    for (month, rows) in [
        (
            "2024-03",
            vec![("C1", "visit"), ("C1", "signup"), ("C2", "visit")],
        ),
        ("2024-04", vec![("C3", "visit")]),
    ] {
        let part = dir.join(format!("events/month={month}"));
        std::fs::create_dir_all(&part).unwrap();
        let ids: Vec<&str> = rows.iter().map(|r| r.0).collect();
        let names: Vec<&str> = rows.iter().map(|r| r.1).collect();
        let at = ms(&format!("{month}-10 12:00"));
        write(
            &part.join("part-0.parquet"),
            vec![
                ("customer_id", text(&ids)),
                ("event", text(&names)),
                (
                    "occurred_at",
                    Arc::new(
                        TimestampMicrosecondArray::from(vec![at * 1000; ids.len()])
                            .with_timezone("UTC"),
                    ),
                ),
            ],
        );
    }
    std::fs::write(dir.join("events/_SUCCESS"), "").unwrap();
}

/// The CDNOW sample (`datasets/cdnow/CDNOW_sample.txt`: customer id, sample id, date
/// YYYYMMDD, number of CDs, dollar value) as a canonical dataset: one customer per sample id
/// (the ids of the published summaries), one paid order per line at midnight of its date.
pub fn cdnow(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let sample = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/cdnow/CDNOW_sample.txt"),
    )
    .unwrap();
    let mut order_ids = Vec::new();
    let mut order_customers = Vec::new();
    let mut ordered_at = Vec::new();
    let mut amounts = Vec::new();
    let mut first: std::collections::BTreeMap<String, i64> = Default::default();
    for (i, line) in sample.lines().enumerate() {
        let f: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(f.len(), 5, "CDNOW_sample.txt line {}: {line:?}", i + 1);
        let id = f[1].trim_start_matches('0').to_string();
        let day = chrono::NaiveDate::parse_from_str(f[2], "%Y%m%d").unwrap();
        let ts = day
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp_millis();
        let e = first.entry(id.clone()).or_insert(ts);
        *e = (*e).min(ts);
        order_ids.push(format!("O{}", i + 1));
        order_customers.push(id);
        ordered_at.push(ts);
        amounts.push(f[4].parse::<f64>().unwrap());
    }
    let n = first.len();
    let ids: Vec<&str> = first.keys().map(String::as_str).collect();
    let names: Vec<String> = ids.iter().map(|i| format!("CDNOW customer {i}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    write(
        &dir.join("customers.parquet"),
        vec![
            ("customer_id", text(&ids)),
            ("kind", text(&vec!["person"; n])),
            ("name", text(&names)),
            ("country", text(&vec!["US"; n])),
            (
                "created_at",
                Arc::new(TimestampMillisecondArray::from(
                    first.values().copied().collect::<Vec<_>>(),
                )),
            ),
        ],
    );
    let m = order_ids.len();
    let order_ids: Vec<&str> = order_ids.iter().map(String::as_str).collect();
    let order_customers: Vec<&str> = order_customers.iter().map(String::as_str).collect();
    write(
        &dir.join("orders.parquet"),
        vec![
            ("order_id", text(&order_ids)),
            ("customer_id", text(&order_customers)),
            (
                "ordered_at",
                Arc::new(TimestampMillisecondArray::from(ordered_at)),
            ),
            ("amount", Arc::new(Float64Array::from(amounts))),
            ("currency", text(&vec!["USD"; m])),
            ("status", text(&vec!["paid"; m])),
            ("channel", text(&vec!["web"; m])),
            (
                "manager_id",
                Arc::new(StringArray::from(vec![None::<&str>; m])),
            ),
        ],
    );
}
