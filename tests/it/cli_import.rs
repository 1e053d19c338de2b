//! `crmlens import`: the committed messy fixtures of tests/data/import with hand-computed
//! expectations (encodings, delimiters, decimal commas, mixed dates, the three phone shapes,
//! duplicates by e-mail, phone and name, a conflicting pair, broken rows, an empty file, a
//! missing sheet), append mode, the suggest → import round trip on a clean export, and a
//! realistic messy export built from generated data: every row accounted for, `validate` clean.

use std::path::{Path, PathBuf};

use crate::common::{crmlens, parquet_rows, run, tempdir};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/import")
}

fn fixture(name: &str) -> String {
    fixtures().join(name).to_str().unwrap().to_string()
}

const ALL: &[&str] = &[
    "managers.xlsx",
    "clients_cp1251.csv",
    "products_cp1252.tsv",
    "orders_utf8bom.csv",
    "events.jsonl",
    "empty.csv",
];

fn import_json(
    dir: &Path,
    inputs: &[String],
    mapping: &str,
    extra: &[&str],
) -> (i32, serde_json::Value, String) {
    let mut cmd = crmlens(dir);
    cmd.args([
        "--format",
        "json",
        "import",
        "--mapping",
        mapping,
        "--out",
        "out",
        "--input",
    ]);
    cmd.args(inputs);
    cmd.args(extra);
    let r = run(&mut cmd);
    let json = serde_json::from_str(&r.stdout).unwrap_or(serde_json::Value::Null);
    (r.code, json, r.stderr)
}

/// Writes the mapping `m.toml` and imports the inputs with it.
fn import_with(
    dir: &Path,
    mapping: &str,
    inputs: &[String],
    extra: &[&str],
) -> (i32, serde_json::Value, String) {
    std::fs::write(dir.join("m.toml"), mapping).unwrap();
    import_json(dir, inputs, "m.toml", extra)
}

pub(crate) fn table<'a>(summary: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    summary["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"] == name)
        .unwrap_or_else(|| panic!("no {name} in {summary}"))
}

fn counts(t: &serde_json::Value) -> [u64; 6] {
    [
        "input",
        "loaded",
        "new",
        "merged",
        "unchanged",
        "quarantined",
    ]
    .map(|k| t[k].as_u64().unwrap())
}

fn csv_rows(path: &Path) -> Vec<Vec<String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    r.records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

/// `select … ` over the output dataset as CSV lines (header dropped).
fn sql(dir: &Path, dataset: &str, query: &str) -> Vec<String> {
    let r = run(crmlens(dir).args(["--dataset", dataset, "--format", "csv", "sql", query]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    r.stdout.lines().skip(1).map(str::to_string).collect()
}

/// `import --suggest` over the files, then `import` with the suggestion into `out`; the
/// suggested mapping and the import's JSON summary.
fn suggest_and_import(dir: &Path, files: &[&str]) -> (String, serde_json::Value) {
    let r = run(crmlens(dir)
        .args(["import", "--suggest", "--input"])
        .args(files));
    assert_eq!(r.code, 0, "{}", r.stderr);
    std::fs::write(dir.join("mapping.toml"), &r.stdout).unwrap();
    let inputs: Vec<String> = files.iter().map(|f| f.to_string()).collect();
    let (code, s, err) = import_json(dir, &inputs, "mapping.toml", &[]);
    assert_eq!(code, 0, "{err}\n{}", r.stdout);
    (r.stdout, s)
}

/// The generated and the imported orders hold the same revenue, and the import validates.
fn same_revenue_and_valid(dir: &Path) {
    let total = "select cast(sum(amount) as varchar) from orders";
    assert_eq!(sql(dir, "out", total), sql(dir, "gen", total));
    validate_clean(dir, "out");
}

fn validate_clean(dir: &Path, dataset: &str) {
    let r = run(crmlens(dir).args(["validate", "--dataset", dataset, "--format", "json"]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let report: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(report["errors"], 0, "{}", r.stdout);
}

#[test]
fn messy_fixtures_import_with_hand_computed_results() {
    let tmp = tempdir();
    let inputs: Vec<String> = ALL.iter().map(|f| fixture(f)).collect();
    let (code, s, err) = import_json(tmp.path(), &inputs, &fixture("mapping.toml"), &[]);
    assert_eq!(code, 0, "{err}");
    // input = loaded + quarantined; loaded = new + merged + unchanged.
    assert_eq!(counts(table(&s, "managers")), [3, 3, 3, 0, 0, 0]);
    assert_eq!(counts(table(&s, "customers")), [11, 9, 6, 3, 0, 2]);
    assert_eq!(counts(table(&s, "products")), [2, 2, 2, 0, 0, 0]);
    assert_eq!(counts(table(&s, "orders")), [10, 5, 4, 0, 1, 5]);
    assert_eq!(counts(table(&s, "deals")), [0, 0, 0, 0, 0, 0]);
    assert_eq!(counts(table(&s, "events")), [4, 2, 2, 0, 0, 2]);
    assert_eq!(
        table(&s, "customers")["files"][0]["read_as"],
        "windows-1251, ';'"
    );
    assert_eq!(
        table(&s, "products")["files"][0]["read_as"],
        "windows-1252, tab"
    );
    assert_eq!(table(&s, "orders")["files"][0]["read_as"], "utf-8, ','");
    assert_eq!(
        table(&s, "orders")["files"][0]["ignored_columns"][0],
        "Комментарий"
    );
    assert_eq!(s["merges"], 3);

    let out = tmp.path().join("out");
    // E-mail and phone normalised, the three phone shapes, names collapsed, dates in Moscow.
    assert_eq!(
        sql(
            tmp.path(),
            "out",
            "select customer_id, kind, name, email, phone, city, cast(created_at as varchar), owner_manager_id from customers order by 1"
        ),
        vec![
            "K001,person,Иван Петров,ivan.petrov@mail.ru,+74951234567,Москва,2023-03-04T21:00:00Z,M1",
            "K003,organization,\"ООО \"\"Ромашка\"\"\",info@romashka.ru,+74951234568,Москва,2023-01-31T21:00:00Z,M1",
            "K005,person,Анна Смирнова,,,Тверь,2023-01-19T21:00:00Z,M1",
            "K007,person,Олег Орлов,oleg@a.ru,,Омск,2022-12-31T21:00:00Z,M1",
            "K008,person,Олег Орлов,oleg@b.ru,,Омск,2023-01-01T21:00:00Z,M2",
            "K010,person,Мария Иванова,,+79165551234,Казань,2023-06-30T21:00:00Z,M1",
        ]
    );
    // Merged ids replaced in orders (K002 → K001, K004 → K003); decimal commas, thousands.
    assert_eq!(
        sql(
            tmp.path(),
            "out",
            "select order_id, customer_id, cast(ordered_at as varchar), cast(amount as varchar), status from orders order by 1"
        ),
        vec![
            "Z1,K001,2023-03-05T09:30:00Z,1234.56,paid",
            "Z2,K001,2023-03-05T21:00:00Z,99.90,paid",
            "Z3,K003,2023-03-06T21:00:00Z,1500.00,refunded",
            "Z8,K007,2023-03-11T06:15:00Z,12345.68,cancelled",
        ]
    );
    assert_eq!(
        sql(
            tmp.path(),
            "out",
            "select product_id, name, cast(unit_cost as varchar) from products order by 1"
        ),
        vec!["P1,Crème brûlée,12.50", "P2,Café au lait,3.20"]
    );
    assert_eq!(
        sql(
            tmp.path(),
            "out",
            "select manager_id, name, active from managers order by 1"
        ),
        vec![
            "3,Третий,true",
            "M1,Елена Кузнецова,true",
            "M2,Павел Соколов,false"
        ]
    );
    assert_eq!(
        sql(
            tmp.path(),
            "out",
            "select customer_id, event, cast(occurred_at as varchar) from events order by 3"
        ),
        vec![
            "K001,visit,2023-03-01T07:00:00Z",
            "K001,signup,2023-03-01T07:05:00Z"
        ]
    );
    assert_eq!(parquet_rows(&out.join("deals.parquet")), 0);

    // The conflicting pair K007/K008 (different e-mails, same name and city) stays apart.
    assert_eq!(
        csv_rows(&out.join("merges.csv")),
        vec![
            vec!["K001", "K002", "email", "1", "ivan.petrov@mail.ru"],
            vec!["K003", "K004", "phone", "1", "+74951234568"],
            vec![
                "K005",
                "K006",
                "name_city",
                "1",
                "Анна Смирнова ~ Анна Смирнова"
            ],
        ]
    );
    let q: Vec<(String, String)> = csv_rows(&out.join("quarantine/customers.csv"))
        .into_iter()
        .map(|r| (r[1].clone(), r[2].clone()))
        .collect();
    assert_eq!(
        q,
        vec![
            (
                "10".into(),
                "broken row: 2 field(s), the header has 9".into()
            ),
            ("12".into(), "customer_id: empty".into()),
        ]
    );
    let q: Vec<String> = csv_rows(&out.join("quarantine/orders.csv"))
        .into_iter()
        .map(|r| format!("{}: {}", r[1], r[2]))
        .collect();
    assert_eq!(q.len(), 5, "{q:?}");
    assert!(
        q[0].starts_with("6: customer_id: \"K999\" is not a customers.customer_id"),
        "{q:?}"
    );
    assert!(
        q[1].starts_with("7: status: \"Черновик\" is not one of"),
        "{q:?}"
    );
    assert!(q[2].starts_with("8: amount: \"abc\""), "{q:?}");
    assert!(q[3].starts_with("10: same order_id as line 2 of"), "{q:?}");
    assert!(q[4].starts_with("11: ordered_at: \"31.02.2023\""), "{q:?}");
    let raw: serde_json::Value =
        serde_json::from_str(&csv_rows(&out.join("quarantine/orders.csv"))[0][3]).unwrap();
    assert_eq!(raw["Комментарий"], "нет такого клиента");
    let notes: Vec<Vec<String>> = csv_rows(&out.join("quarantine/notes.csv"));
    assert_eq!(notes.len(), 2);
    assert_eq!(&notes[0][2..5], &["6", "phone", "1234567"]);
    assert_eq!(&notes[1][2..5], &["11", "email", "maria@@mail"]);
    validate_clean(tmp.path(), "out");

    // Without --append or --overwrite an existing dataset is not replaced.
    let (code, _, err) = import_json(tmp.path(), &inputs, &fixture("mapping.toml"), &[]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--append") && err.contains("--overwrite"),
        "{err}"
    );
    let (code, _, err) = import_json(
        tmp.path(),
        &inputs,
        &fixture("mapping.toml"),
        &["--overwrite"],
    );
    assert_eq!(code, 0, "{err}");
}

#[test]
fn no_merge_keeps_every_card_and_the_zone_hint_names_the_mapping_zone() {
    let tmp = tempdir();
    let inputs: Vec<String> = ALL.iter().map(|f| fixture(f)).collect();
    let (code, s, err) = import_json(
        tmp.path(),
        &inputs,
        &fixture("mapping.toml"),
        &["--no-merge"],
    );
    assert_eq!(code, 0, "{err}");
    // The same fixture as above: the 3 merged cards are now new ones.
    assert_eq!(counts(table(&s, "customers")), [11, 9, 9, 0, 0, 2]);
    assert_eq!(s["merges"], 0);
    assert_eq!(csv_rows(&tmp.path().join("out/merges.csv")).len(), 0);
    // Orders keep their source ids (merged, Z2 and Z3 went to K001 and K003).
    assert_eq!(
        sql(
            tmp.path(),
            "out",
            "select order_id || '|' || customer_id from orders where order_id in ('Z1', 'Z2', 'Z3') order by 1",
        ),
        vec!["Z1|K001", "Z2|K002", "Z3|K004"]
    );
    // The fixtures are in Moscow time; no crmlens.toml here, so days would be cut in UTC.
    assert!(
        err.contains("add `timezone = \"Europe/Moscow\"` to crmlens.toml"),
        "{err}"
    );
}

#[test]
fn a_table_kept_as_a_folder_is_refused_before_anything_is_written() {
    let tmp = tempdir();
    std::fs::create_dir_all(tmp.path().join("out/orders")).unwrap();
    let inputs: Vec<String> = ALL.iter().map(|f| fixture(f)).collect();
    let (code, _, err) = import_json(tmp.path(), &inputs, &fixture("mapping.toml"), &["--append"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("not yet supported") && err.contains("out/orders"),
        "{err}"
    );
    assert!(!tmp.path().join("out/customers.parquet").exists());
}

#[test]
fn append_adds_without_duplicating_and_never_overwrites() {
    let tmp = tempdir();
    let inputs: Vec<String> = ALL.iter().map(|f| fixture(f)).collect();
    let (code, _, err) = import_json(tmp.path(), &inputs, &fixture("mapping.toml"), &[]);
    assert_eq!(code, 0, "{err}");
    // A second delivery: K001 again (same), K003 changed, a new card that is K001 by phone,
    // and orders for the merged K002 and the new duplicate.
    std::fs::write(
        tmp.path().join("clients_march.csv"),
        "Код;ФИО;Тип;E-mail;Телефон;Страна;Город;Дата регистрации;Менеджер\n\
         K001;Иван Петров;Физ. лицо;ivan.petrov@mail.ru;+74951234567;RU;Москва;05.03.2023;M1\n\
         K003;ООО Ромашка;Юр. лицо;info@romashka.ru;;RU;Москва;01.02.2023;M1\n\
         K020;Иван Петров;Физ. лицо;;8-495-123-45-67;RU;Москва;01.03.2024;M2\n",
    )
    .unwrap();
    std::fs::write(
        tmp.path().join("orders_march.csv"),
        "Номер заказа,Клиент,Дата заказа,Сумма,Статус\n\
         Z1,K001,05.03.2023 12:30,\"1 234,56\",Оплачен\n\
         Z20,K002,01.03.2024,\"10,00\",Оплачен\n\
         Z21,K020,02.03.2024,\"20,00\",Оплачен\n",
    )
    .unwrap();
    let (code, s, err) = import_json(
        tmp.path(),
        &["clients_march.csv".into(), "orders_march.csv".into()],
        &fixture("mapping.toml"),
        &["--append"],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(counts(table(&s, "customers")), [3, 2, 0, 1, 1, 1]);
    assert_eq!(counts(table(&s, "orders")), [3, 3, 2, 0, 1, 0]);
    assert_eq!(table(&s, "customers")["rows_in_table"], 6);
    assert_eq!(table(&s, "orders")["rows_in_table"], 6);
    let out = tmp.path().join("out");
    let q = csv_rows(&out.join("quarantine/customers.csv"));
    assert_eq!(q.len(), 3, "the first run's 2 rows are kept: {q:?}");
    assert!(
        q[2][2].contains("same customer_id as a row already in the dataset"),
        "{q:?}"
    );
    let merges = csv_rows(&out.join("merges.csv"));
    assert_eq!(merges.len(), 4);
    assert_eq!(&merges[3][..3], &["K001", "K020", "phone"]);
    assert_eq!(
        sql(
            tmp.path(),
            "out",
            "select order_id, customer_id from orders where order_id in ('Z20', 'Z21') order by 1"
        ),
        vec!["Z20,K001", "Z21,K001"]
    );
    assert_eq!(
        sql(
            tmp.path(),
            "out",
            "select name from customers where customer_id = 'K003'"
        ),
        vec!["\"ООО \"\"Ромашка\"\"\""]
    );
    validate_clean(tmp.path(), "out");
}

#[test]
fn a_missing_sheet_names_the_sheets_there_are() {
    let tmp = tempdir();
    std::fs::write(
        tmp.path().join("m.toml"),
        "[managers]\nsheet = \"Клиенты\"\ncolumns = { \"Код\" = \"manager_id\" }\n",
    )
    .unwrap();
    let r = run(crmlens(tmp.path()).args([
        "import",
        "--mapping",
        "m.toml",
        "--out",
        "out",
        "--input",
        &fixture("managers.xlsx"),
    ]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("sheet \"Клиенты\" not found; the workbook has \"Менеджеры\", \"Заметки\""),
        "{}",
        r.stderr
    );
    let r = run(crmlens(tmp.path()).args([
        "import",
        "--mapping",
        "m.toml",
        "--out",
        "out",
        "--sheet",
        "Менеджеры",
        "--input",
        &fixture("managers.xlsx"),
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn a_wrong_mapping_fails_the_run() {
    let tmp = tempdir();
    // Dates in the wrong order for most rows: more than half quarantined → exit 1.
    std::fs::write(
        tmp.path().join("m.toml"),
        "date_formats = [\"%m/%d/%Y\"]\n[managers]\nfile = \"*.xlsx\"\ncolumns = { \"Код\" = \"manager_id\" }\n\
         [customers]\nfile = \"clients*\"\ncolumns = { \"Код\" = \"customer_id\", \"Дата регистрации\" = \"created_at\", \"Тип\" = \"kind\" }\n",
    )
    .unwrap();
    let inputs = vec![fixture("managers.xlsx"), fixture("clients_cp1251.csv")];
    let (code, s, err) = import_json(tmp.path(), &inputs, "m.toml", &[]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(table(&s, "customers")["failed"], true);
    assert_eq!(s["passed"], false);
    // A mapped column the file lacks, an unknown key: named.
    let xlsx = [fixture("managers.xlsx")];
    let m = "[managers]\ncolumns = { \"Кодд\" = \"manager_id\" }\n";
    let (code, _, err) = import_with(tmp.path(), m, &xlsx, &["--overwrite"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("\"Кодд\"") && err.contains("closest: \"Код\""),
        "{err}"
    );
    let (code, _, err) = import_with(tmp.path(), "[managers]\ncolumn = {}\n", &xlsx, &[]);
    assert_eq!(code, 2, "{err}");
    // An input no table takes.
    let m = "[managers]\nfile = \"*.xlsx\"\ncolumns = { \"Код\" = \"manager_id\" }\n";
    let (code, _, err) = import_with(tmp.path(), m, &[xlsx[0].clone(), fixture("empty.csv")], &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no table of the mapping takes"), "{err}");
}

/// Generated tables written as CSV with their canonical headers: a clean export.
fn export_csv(dir: &Path, dataset: &str, query: &str, file: &str) {
    let r = run(crmlens(dir).args([
        "--dataset",
        dataset,
        "--format",
        "csv",
        "--output",
        file,
        "sql",
        query,
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
}

fn generate(dir: &Path, customers: &str) {
    let r = run(crmlens(dir).args([
        "generate",
        "--out",
        "gen",
        "--customers",
        customers,
        "--seed",
        "5",
        "--months",
        "12",
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn a_suggested_mapping_imports_a_clean_export() {
    let tmp = tempdir();
    let dir = tmp.path();
    generate(dir, "200");
    export_csv(dir, "gen", "select * from managers", "managers.csv");
    export_csv(dir, "gen", "select * from customers", "customers.csv");
    export_csv(dir, "gen", "select * from orders", "orders.csv");
    let (mapping, s) = suggest_and_import(dir, &["managers.csv", "customers.csv", "orders.csv"]);
    assert!(
        mapping.contains("[customers]\nfile = \"customers.csv\""),
        "{mapping}"
    );
    assert!(
        mapping.contains("\"ordered_at\" = \"ordered_at\""),
        "{mapping}"
    );
    for t in ["managers", "customers", "orders"] {
        let c = counts(table(&s, t));
        assert_eq!(c[5], 0, "{t}: nothing quarantined in a clean export: {s}");
        assert_eq!(
            c[0],
            parquet_rows(&dir.join(format!("gen/{t}.parquet"))) as u64
        );
    }
    // The generator's duplicate cards (the same person entered twice) are found.
    assert!(s["merges"].as_u64().unwrap() >= 1, "{s}");
    same_revenue_and_valid(dir);
}

#[test]
fn a_realistic_messy_export_is_accounted_for_row_by_row() {
    let tmp = tempdir();
    let dir = tmp.path();
    generate(dir, "400");
    // Customers: Russian headers, Windows-1251, semicolons, dd.mm.yyyy, kinds in Russian; a
    // second manager re-entered 12 cards under new ids with the phone typed another way and
    // the e-mail in capitals.
    export_csv(
        dir,
        "gen",
        "select customer_id as \"Код\", case kind when 'person' then 'Физ. лицо' else 'Юр. лицо' end as \"Тип\", \
         name as \"Клиент\", email as \"E-mail\", phone as \"Телефон\", country as \"Страна\", city as \"Город\", \
         to_char(created_at, '%d.%m.%Y %H:%M') as \"Дата создания\", owner_manager_id as \"Менеджер\" from customers \
         union all \
         select 'D' || customer_id, 'Физ. лицо', '  ' || name || ' ', upper(email), phone, country, city, \
         to_char(created_at + interval '400 days', '%d.%m.%Y %H:%M'), owner_manager_id from customers \
         where kind = 'person' and email is not null and customer_id in (select customer_id from customers where kind = 'person' and email is not null order by customer_id limit 12)",
        "clients.csv",
    );
    export_csv(
        dir,
        "gen",
        "select order_id as \"Номер\", customer_id as \"Клиент\", to_char(ordered_at, '%d.%m.%Y %H:%M:%S') as \"Дата заказа\", \
         replace(cast(amount as varchar), '.', ',') as \"Сумма\", \
         case status when 'paid' then 'Оплачен' when 'cancelled' then 'Отменён' else 'Возврат' end as \"Статус\", \
         manager_id as \"Менеджер\" from orders order by order_id",
        "orders.csv",
    );
    let mut clients = Vec::new();
    {
        let mut w = csv::WriterBuilder::new()
            .delimiter(b';')
            .from_writer(&mut clients);
        for r in csv::Reader::from_path(dir.join("clients.csv"))
            .unwrap()
            .into_records()
        {
            w.write_record(&r.unwrap()).unwrap();
        }
    }
    let header = "Код;Тип;Клиент;E-mail;Телефон;Страна;Город;Дата создания;Менеджер\n";
    let mut clients = header.to_string() + &String::from_utf8(clients).unwrap();
    clients.push_str("BROKEN;Физ. лицо\n");
    // Arabic and Hebrew names (and umlauts) do not exist in Windows-1251: '?' as Excel writes.
    let clients: String = clients
        .chars()
        .map(|c| {
            let (_, _, unmappable) = encoding_rs::WINDOWS_1251.encode(c.encode_utf8(&mut [0; 4]));
            if unmappable { '?' } else { c }
        })
        .collect();
    let (cp1251, _, _) = encoding_rs::WINDOWS_1251.encode(&clients);
    std::fs::write(dir.join("clients.csv"), &cp1251).unwrap();
    let mut orders = std::fs::read_to_string(dir.join("orders.csv")).unwrap();
    orders.push_str("X1,NOBODY,01.01.2024 00:00:00,\"1,00\",Оплачен,\n");
    std::fs::write(dir.join("orders.csv"), &orders).unwrap();
    export_csv(dir, "gen", "select * from managers", "managers.csv");

    let (mapping, s) = suggest_and_import(dir, &["managers.csv", "clients.csv", "orders.csv"]);
    assert!(mapping.contains("\"Клиент\" = \"name\""), "{mapping}");
    assert!(
        mapping.contains("\"Клиент\" = \"customer_id\""),
        "{mapping}"
    );
    assert!(mapping.contains("\"Физ. лицо\" = \"person\""), "{mapping}");
    assert!(mapping.contains("\"Отменён\" = \"cancelled\""), "{mapping}");
    assert!(mapping.contains("decimal_separator = \",\""), "{mapping}");
    let generated = |t: &str| parquet_rows(&dir.join(format!("gen/{t}.parquet"))) as u64;
    let customers = counts(table(&s, "customers"));
    assert_eq!(customers[0], generated("customers") + 12 + 1);
    assert_eq!(
        customers[0],
        customers[1] + customers[5],
        "input = loaded + quarantined"
    );
    assert_eq!(customers[5], 1, "only the broken row: {s}");
    assert!(
        customers[3] >= 12,
        "the 12 re-entered cards are merged: {s}"
    );
    let orders_c = counts(table(&s, "orders"));
    assert_eq!(orders_c[0], generated("orders") + 1);
    assert_eq!(orders_c[0], orders_c[1] + orders_c[5]);
    assert_eq!(orders_c[5], 1, "only the order of an unknown customer: {s}");
    let merges = csv_rows(&dir.join("out/merges.csv"));
    let re_entered: Vec<&Vec<String>> = merges.iter().filter(|m| m[1].starts_with('D')).collect();
    assert_eq!(re_entered.len(), 12, "{merges:?}");
    assert!(
        re_entered.iter().all(|m| !m[0].starts_with('D')),
        "{re_entered:?}"
    );
    // Precision: every merged pair is one customer. The generator's own duplicate cards
    // copy the name, so the two names are equal; companies sharing a role address
    // (info@, office@) under other names stay apart.
    let names: std::collections::HashMap<String, String> = sql(
        dir,
        "gen",
        "select customer_id || '|' || coalesce(name, '') from customers",
    )
    .iter()
    .filter_map(|l| l.split_once('|'))
    .map(|(id, n)| (id.to_string(), n.to_string()))
    .collect();
    for m in &merges {
        let (a, b) = (&names[&m[0]], &names[m[1].trim_start_matches('D')]);
        assert_eq!(a, b, "{m:?}");
    }
    same_revenue_and_valid(dir);
}
