//! Property test of `crmlens import`: for random messy CSV inputs (random ids that collide,
//! garbage amounts and dates, broken rows, quotes, delimiters and newlines inside fields),
//! every row is accounted for: input = loaded + quarantined, loaded = new + merged +
//! unchanged, and the written tables and quarantine files hold exactly those rows.

use std::path::Path;
use std::time::Duration;

use crmlens::import::report::Summary;
use crmlens::import::source::{EncodingChoice, ReadOptions};
use crmlens::import::{ImportOptions, import};
use proptest::prelude::*;

use crate::common::{parquet_rows, tempdir};

const MAPPING: &str = r#"
default_country = "RU"
[customers]
file = "c.csv"
columns = { id = "customer_id", name = "name", phone = "phone", email = "email", city = "city", kind = "kind" }
[orders]
file = "o.csv"
columns = { id = "order_id", customer = "customer_id", date = "ordered_at", sum = "amount", status = "status" }
"#;

fn field() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[A-C][0-9]".prop_map(|s| s),
        "[a-z]{1,6}(@[a-z]{1,4}\\.ru)?",
        "\\+?[78]? ?\\(?[0-9]{3}\\)? ?[0-9]{3}-?[0-9]{2}-?[0-9]{2}",
        "[0-9]{1,2}\\.[0-9]{1,2}\\.20[0-9]{2}",
        "-?[0-9 ]{1,7}[,.]?[0-9]{0,3}",
        Just("paid".to_string()),
        Just("person".to_string()),
        Just("a;b,\"c\"\nd".to_string()),
        "\\PC{0,8}",
    ]
}

fn rows(width: usize) -> impl Strategy<Value = Vec<Vec<String>>> {
    prop::collection::vec(
        prop_oneof![
            8 => prop::collection::vec(field(), width..=width),
            1 => prop::collection::vec(field(), 2..width + 3),
        ],
        0..40,
    )
}

fn write_csv(path: &Path, header: &[&str], rows: &[Vec<String>], delimiter: u8) {
    let mut w = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_path(path)
        .unwrap();
    w.write_record(header).unwrap();
    for r in rows {
        w.write_record(r).unwrap();
    }
    w.flush().unwrap();
}

fn quarantined(path: &Path) -> u64 {
    if !path.exists() {
        return 0;
    }
    csv::Reader::from_path(path).unwrap().records().count() as u64
}

/// Imports `c.csv` and `o.csv` of `dir` with the mapping `m.toml` into `dir/out`.
pub(crate) fn import_dir(dir: &Path) -> crmlens::Result<Summary> {
    import(&ImportOptions {
        inputs: vec![dir.join("c.csv"), dir.join("o.csv")],
        mapping: dir.join("m.toml"),
        out: dir.join("out"),
        append: false,
        overwrite: false,
        no_merge: false,
        allow_empty: false,
        read: ReadOptions {
            encoding: EncodingChoice::Auto,
            delimiter: None,
            sheet: None,
        },
        progress: false,
        wait: Duration::ZERO,
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn every_row_is_loaded_or_quarantined(
        customers in rows(6),
        orders in rows(5),
        semicolon in any::<bool>(),
    ) {
        let tmp = tempdir();
        let dir = tmp.path();
        let delimiter = if semicolon { b';' } else { b',' };
        write_csv(&dir.join("c.csv"), &["id", "name", "phone", "email", "city", "kind"], &customers, delimiter);
        write_csv(&dir.join("o.csv"), &["id", "customer", "date", "sum", "status"], &orders, delimiter);
        std::fs::write(dir.join("m.toml"), MAPPING).unwrap();
        let summary = import_dir(dir).unwrap();
        for (t, n) in [("customers", customers.len()), ("orders", orders.len())] {
            let s = summary.tables.iter().find(|s| s.table == t).unwrap();
            // A record of one empty field is a blank line: no row at all.
            let blank = if t == "customers" { &customers } else { &orders }
                .iter()
                .filter(|r| r.len() == 1 && r[0].is_empty())
                .count();
            prop_assert_eq!(s.input as usize, n - blank);
            prop_assert_eq!(s.input, s.loaded + s.quarantined);
            prop_assert_eq!(s.loaded, s.new + s.merged + s.unchanged);
            prop_assert_eq!(parquet_rows(&dir.join(format!("out/{t}.parquet"))) as u64, s.new);
            prop_assert_eq!(quarantined(&dir.join(format!("out/quarantine/{t}.csv"))), s.quarantined);
        }
    }
}
