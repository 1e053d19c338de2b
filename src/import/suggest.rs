//! `crmlens import --suggest`: a proposed mapping from the headers and a sample of the values
//! of the input files, for the user to check and edit. Headers are matched to canonical
//! columns by normalised name (lower case, letters and digits only, ё = е) against the
//! canonical name and common English and Russian names (exact, else Jaro-Winkler ≥ 0.93);
//! each file goes to the table whose columns it matches best. From the values it proposes
//! date formats that read every sample, the decimal separator, the default country of the
//! phones and value maps for enumerations (known words mapped, unknown ones left for the user
//! as comments). A suggestion for a clean export imports it as it is.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::path::PathBuf;

use super::normalize::{collapse_ws, parse_amount};
use super::source::{self, ReadOptions};
use crate::Result;
use crate::dataset::schema::{ColumnKind, TableSpec, tables};

const SAMPLE_ROWS: usize = 1000;
const FUZZY: f64 = 0.93;

/// Date and timestamp formats a suggestion may propose, most specific first.
const DATE_CANDIDATES: &[&str] = &[
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
    "%d.%m.%y",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
];

fn norm(s: &str) -> String {
    s.to_lowercase()
        .replace('ё', "е")
        .chars()
        .filter(|c| c.is_alphanumeric())
        .collect()
}

/// Other names of a canonical column, by table where they differ.
fn aliases(table: &str, column: &str) -> &'static [&'static str] {
    match (table, column) {
        ("customers", "customer_id") => &[
            "id",
            "код",
            "кодклиента",
            "idклиента",
            "clientid",
            "номерклиента",
        ],
        ("customers", "name") => &[
            "фио",
            "имя",
            "наименование",
            "название",
            "клиент",
            "покупатель",
            "контрагент",
            "customer",
            "client",
            "customername",
            "clientname",
            "fullname",
            "company",
        ],
        ("customers", "created_at") => &[
            "created",
            "datecreated",
            "registered",
            "датасоздания",
            "датарегистрации",
            "создан",
            "дата",
        ],
        ("orders", "order_id") => &[
            "id",
            "order",
            "ordernumber",
            "номер",
            "номерзаказа",
            "заказ",
            "кодзаказа",
            "номердокумента",
        ],
        ("orders", "ordered_at") => &[
            "orderdate",
            "date",
            "датазаказа",
            "дата",
            "датадокумента",
            "created",
            "createdat",
        ],
        ("orders", "status") => &["orderstatus", "статус", "статусзаказа", "состояние"],
        ("deals", "deal_id") => &["id", "deal", "сделка", "номерсделки"],
        ("deals", "status") => &["статус", "этап", "stage", "состояние"],
        ("deals", "created_at") => &["датасоздания", "дата", "created", "date"],
        ("managers", "manager_id") => &["id", "код", "табельныйномер", "managerid"],
        ("managers", "name") => &["фио", "имя", "сотрудник", "менеджер", "manager"],
        ("products", "product_id") => &["id", "sku", "артикул", "код"],
        ("products", "name") => &["наименование", "товар", "название", "product"],
        ("order_items", "product_id") => &["sku", "артикул", "товар", "product"],
        ("order_items", "order_id") => &["order", "заказ", "номерзаказа"],
        (_, "customer_id") => &[
            "customer",
            "client",
            "clientid",
            "клиент",
            "покупатель",
            "контрагент",
            "кодклиента",
            "idклиента",
        ],
        (_, "kind") => &[
            "type",
            "customertype",
            "тип",
            "типклиента",
            "вид",
            "видклиента",
        ],
        (_, "name") => &["фио", "имя", "наименование", "название"],
        (_, "email") => &[
            "mail",
            "emailaddress",
            "почта",
            "электроннаяпочта",
            "емейл",
            "имейл",
            "эпочта",
        ],
        (_, "phone") => &[
            "telephone",
            "phonenumber",
            "tel",
            "mobile",
            "телефон",
            "тел",
            "мобильный",
            "номертелефона",
            "сотовый",
        ],
        (_, "country") => &["страна", "countrycode", "кодстраны"],
        (_, "region") => &["state", "регион", "область", "край"],
        (_, "city") => &["town", "город", "населенныйпункт"],
        (_, "acquisition_source") => &[
            "source",
            "leadsource",
            "utmsource",
            "источник",
            "каналпривлечения",
            "источникпривлечения",
        ],
        (_, "owner_manager_id" | "manager_id") => &[
            "manager",
            "owner",
            "managerid",
            "менеджер",
            "ответственный",
            "кодменеджера",
            "продавец",
        ],
        (_, "amount" | "target_amount") => &[
            "total",
            "sum",
            "revenue",
            "sales",
            "сумма",
            "суммазаказа",
            "итого",
            "стоимость",
            "выручка",
            "план",
        ],
        (_, "currency") => &["валюта"],
        (_, "channel") => &["saleschannel", "канал", "каналпродаж"],
        (_, "department") => &["team", "отдел", "подразделение"],
        (_, "active") => &["активен", "работает"],
        (_, "source") => &["источник", "leadsource"],
        (_, "campaign_id") => &["campaign", "кампания"],
        (_, "closed_at") => &["датазакрытия", "closed", "closedate"],
        (_, "lost_reason") => &["причинаотказа", "причинапроигрыша"],
        (_, "product_category" | "category") => &["категория", "категориятовара", "группа"],
        (_, "unit_cost") => &["cost", "себестоимость"],
        (_, "quantity") => &["qty", "количество", "колво"],
        (_, "unit_price") => &["price", "цена"],
        _ => &[],
    }
}

/// Known source words of enumerations: (table or "" for any, column, canonical, words).
#[rustfmt::skip]
const KNOWN_VALUES: &[(&str, &str, &str, &[&str])] = &[
    ("", "kind", "organization", &["юр. лицо", "юрлицо", "юр лицо", "юридическое лицо", "организация", "компания", "юл", "company", "organisation", "b2b", "legal entity"]),
    ("", "kind", "person", &["физ. лицо", "физлицо", "физ лицо", "физическое лицо", "частное лицо", "фл", "individual", "b2c", "private"]),
    ("orders", "status", "paid", &["оплачен", "оплачено", "оплата", "выполнен", "выполнено", "completed", "complete", "done", "успешно"]),
    ("orders", "status", "cancelled", &["отменен", "отменено", "отмена", "canceled"]),
    ("orders", "status", "refunded", &["возврат", "возвращен", "refund", "returned"]),
    ("deals", "status", "won", &["выиграна", "успешно", "успешна", "закрыта успешно", "сделка заключена"]),
    ("deals", "status", "lost", &["проиграна", "отказ", "закрыта неуспешно", "провалена"]),
    ("deals", "status", "open", &["в работе", "открыта", "новая", "in progress"]),
    ("activities", "kind", "call", &["звонок"]),
    ("activities", "kind", "meeting", &["встреча"]),
    ("activities", "kind", "email", &["письмо", "e-mail"]),
    ("activities", "kind", "task", &["задача"]),
    ("tickets", "kind", "bug", &["ошибка"]),
    ("tickets", "kind", "wish", &["пожелание"]),
    ("tickets", "kind", "question", &["вопрос"]),
    ("", "direction", "inbound", &["входящий", "входящее"]),
    ("", "direction", "outbound", &["исходящий", "исходящее"]),
];

/// The canonical value a known source word of an enumeration stands for.
fn known_value(table: &str, column: &str, value: &str) -> Option<&'static str> {
    let v = collapse_ws(value).to_lowercase().replace('ё', "е");
    let v = v.trim_end_matches('.');
    KNOWN_VALUES
        .iter()
        .find(|(t, c, _, words)| {
            (t.is_empty() || *t == table) && *c == column && words.contains(&v)
        })
        .map(|k| k.2)
}

/// The best canonical column for each header of a table: (header index, column index, score).
fn match_headers(spec: &TableSpec, headers: &[String]) -> Vec<(usize, usize, f64)> {
    let mut candidates = Vec::new();
    for (h, header) in headers.iter().enumerate() {
        let n = norm(header);
        if n.is_empty() {
            continue;
        }
        for (c, col) in spec.columns.iter().enumerate() {
            let names = std::iter::once(norm(col.name))
                .chain(aliases(spec.name, col.name).iter().map(|a| norm(a)));
            let score = names
                .map(|a| {
                    if a == n {
                        1.0
                    } else {
                        strsim::jaro_winkler(&a, &n)
                    }
                })
                .fold(0.0, f64::max);
            if score >= FUZZY {
                candidates.push((h, c, score));
            }
        }
    }
    candidates.sort_by(|a, b| b.2.total_cmp(&a.2).then(a.0.cmp(&b.0)));
    let (mut used_h, mut used_c, mut out) = (BTreeSet::new(), BTreeSet::new(), Vec::new());
    for (h, c, s) in candidates {
        if !used_h.contains(&h) && !used_c.contains(&c) {
            used_h.insert(h);
            used_c.insert(c);
            out.push((h, c, s));
        }
    }
    out.sort_by_key(|x| (x.0, x.1));
    out
}

fn quote(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn country_of_phones(samples: &[&str]) -> Option<&'static str> {
    const CODES: &[(&str, &str)] = &[
        ("+7", "RU"),
        ("+1", "US"),
        ("+44", "GB"),
        ("+49", "DE"),
        ("+972", "IL"),
        ("+971", "AE"),
        ("+966", "SA"),
        ("+380", "UA"),
        ("+375", "BY"),
        ("+33", "FR"),
    ];
    let mut votes: BTreeMap<&str, usize> = BTreeMap::new();
    for s in samples {
        let t: String = s
            .chars()
            .filter(|c| c.is_ascii_digit() || *c == '+')
            .collect();
        if let Some((_, c)) = CODES
            .iter()
            .filter(|(p, _)| t.starts_with(p))
            .max_by_key(|(p, _)| p.len())
        {
            *votes.entry(c).or_default() += 1;
        } else if t.len() == 11 && t.starts_with('8') {
            *votes.entry("RU").or_default() += 1;
        }
    }
    votes.into_iter().max_by_key(|(_, n)| *n).map(|(c, _)| c)
}

/// A proposed mapping (TOML text) for the inputs.
pub fn suggest(inputs: &[PathBuf], read: &ReadOptions) -> Result<String> {
    let mut text = String::from(
        "# Proposed by `crmlens import --suggest`: check every line, then\n\
         #   crmlens import --input FILE… --mapping THIS.toml --out DIR\n\
         # Time zone of the dates and times in the files (IANA name).\n\
         timezone = \"UTC\"\n",
    );
    let mut sections = String::new();
    let mut taken: BTreeSet<&str> = BTreeSet::new();
    let mut countries = Vec::new();
    for path in inputs {
        let mut src = source::open(path, read, None)?;
        let mut samples: Vec<Vec<String>> = Vec::new();
        while let Some((row, _)) = src.next_row() {
            if row.problem.is_none() {
                samples.push(row.fields);
            }
            if samples.len() >= SAMPLE_ROWS {
                break;
            }
        }
        let best = tables()
            .iter()
            .map(|spec| {
                let m = match_headers(spec, &src.headers);
                let covered = spec
                    .columns
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| !c.nullable)
                    .all(|(i, _)| m.iter().any(|x| x.1 == i));
                let score: f64 =
                    m.iter().map(|x| x.2).sum::<f64>() + if covered { 2.0 } else { 0.0 };
                (score, spec, m)
            })
            .max_by(|a, b| a.0.total_cmp(&b.0));
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let Some((score, spec, matched)) = best.filter(|b| b.0 > 0.0) else {
            let _ = writeln!(
                sections,
                "\n# {file_name}: no header matches a canonical column"
            );
            continue;
        };
        let _ = score;
        if !taken.insert(spec.name) {
            let _ = writeln!(
                sections,
                "\n# {file_name} also looks like {}: widen that table's `file` glob to take it",
                spec.name
            );
            continue;
        }
        let values_of = |h: usize| {
            samples
                .iter()
                .filter_map(move |r| r.get(h))
                .map(String::as_str)
                .filter(|v| !v.trim().is_empty())
        };
        let _ = writeln!(sections, "\n[{}]\nfile = {}", spec.name, quote(&file_name));
        if let Some(sheet) = &read.sheet {
            let _ = writeln!(sections, "sheet = {}", quote(sheet));
        }
        let cols: Vec<String> = matched
            .iter()
            .map(|(h, c, _)| {
                format!(
                    "{} = {}",
                    quote(&src.headers[*h]),
                    quote(spec.columns[*c].name)
                )
            })
            .collect();
        let _ = writeln!(sections, "columns = {{ {} }}", cols.join(", "));
        let unmatched: Vec<&str> = src
            .headers
            .iter()
            .enumerate()
            .filter(|(h, name)| !name.is_empty() && !matched.iter().any(|m| m.0 == *h))
            .map(|(_, n)| n.as_str())
            .collect();
        if !unmatched.is_empty() {
            let _ = writeln!(sections, "# not mapped: {}", unmatched.join(", "));
        }
        for (i, c) in spec.columns.iter().enumerate() {
            if !c.nullable && !matched.iter().any(|m| m.1 == i) {
                let _ = writeln!(
                    sections,
                    "# required: no column found for {} — map one above or add constants = {{ {} = \"…\" }}",
                    c.name, c.name
                );
            }
        }
        let mut formats: Vec<&str> = Vec::new();
        let mut separator = None;
        for (h, c, _) in &matched {
            let col = &spec.columns[*c];
            match col.kind {
                ColumnKind::Timestamp | ColumnKind::Date => {
                    for f in DATE_CANDIDATES {
                        let reads = |v: &str| {
                            chrono::NaiveDateTime::parse_from_str(v.trim(), f).is_ok()
                                || chrono::NaiveDate::parse_from_str(v.trim(), f).is_ok()
                        };
                        let mut vals = values_of(*h).peekable();
                        if vals.peek().is_some() && vals.all(reads) && !formats.contains(f) {
                            formats.push(f);
                        }
                    }
                }
                ColumnKind::Number => {
                    for v in values_of(*h) {
                        let t = v.trim();
                        if let Some((_, tail)) = t.rsplit_once(',')
                            && !t.contains('.')
                            && (1..=2).contains(
                                &tail.trim_end_matches(|c: char| !c.is_ascii_digit()).len(),
                            )
                            && parse_amount(t, Some(',')).is_some()
                        {
                            separator = Some(",");
                        }
                    }
                }
                ColumnKind::Text if col.name == "phone" => {
                    countries.extend(values_of(*h).map(str::to_string))
                }
                _ => {}
            }
        }
        if !formats.is_empty() {
            let list: Vec<String> = formats.iter().map(|f| quote(f)).collect();
            let _ = writeln!(sections, "date_formats = [{}]", list.join(", "));
        }
        if let Some(s) = separator {
            let _ = writeln!(sections, "decimal_separator = {}", quote(s));
        }
        for (h, c, _) in &matched {
            let col = &spec.columns[*c];
            if col.values.is_empty() {
                continue;
            }
            let odd: BTreeSet<&str> = values_of(*h)
                .map(str::trim)
                .filter(|v| !col.values.iter().any(|a| a.eq_ignore_ascii_case(v)))
                .collect();
            if odd.is_empty() {
                continue;
            }
            let _ = writeln!(sections, "\n[{}.values.{}]", spec.name, col.name);
            for v in odd.iter().take(50) {
                match known_value(spec.name, col.name, v) {
                    Some(canonical) => {
                        let _ = writeln!(sections, "{} = {}", quote(v), quote(canonical));
                    }
                    None => {
                        let _ = writeln!(
                            sections,
                            "# {} = \"?\"   # one of {}",
                            quote(v),
                            col.values.join(", ")
                        );
                    }
                }
            }
        }
    }
    let samples: Vec<&str> = countries.iter().map(String::as_str).collect();
    match country_of_phones(&samples) {
        Some(c) => {
            let _ = writeln!(
                text,
                "# Country of phone numbers written without a country code.\ndefault_country = {}",
                quote(c)
            );
        }
        None => text
            .push_str("# default_country = \"RU\"   # country of phones without a country code\n"),
    }
    text.push_str(
        "\n# Duplicate customer cards: same e-mail or phone, or similar names in one city.\n\
         [dedup]\nname_threshold = 0.92\n# never = [[\"C1\", \"C2\"]]   # pairs never to merge (undo a merge)\n",
    );
    text.push_str(&sections);
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::schema::table_spec;

    #[test]
    fn russian_and_english_headers() {
        let h: Vec<String> = [
            "Номер заказа",
            "Клиент",
            "Дата заказа",
            "Сумма",
            "Статус",
            "Менеджер",
            "Комментарий",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let spec = table_spec("orders").unwrap();
        let m: Vec<(&str, &str)> = match_headers(spec, &h)
            .into_iter()
            .map(|(i, c, _)| (h[i].as_str(), spec.columns[c].name))
            .collect();
        assert_eq!(
            m,
            vec![
                ("Номер заказа", "order_id"),
                ("Клиент", "customer_id"),
                ("Дата заказа", "ordered_at"),
                ("Сумма", "amount"),
                ("Статус", "status"),
                ("Менеджер", "manager_id"),
            ]
        );
        let spec = table_spec("customers").unwrap();
        let h: Vec<String> = ["ID", "ФИО", "E-mail", "Телефон", "Город"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let cols: Vec<&str> = match_headers(spec, &h)
            .into_iter()
            .map(|(_, c, _)| spec.columns[c].name)
            .collect();
        assert_eq!(cols, vec!["customer_id", "name", "email", "phone", "city"]);
    }

    #[test]
    fn phone_countries() {
        assert_eq!(
            country_of_phones(&["+7 (495) 123-45-67", "8 495 1234567", "1234567"]),
            Some("RU")
        );
        assert_eq!(country_of_phones(&["1234567"]), None);
    }
}
