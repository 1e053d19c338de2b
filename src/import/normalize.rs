//! Normalisation of raw export values into canonical ones, one pure function per kind:
//!
//! - **phones** to E.164 (`+74951234567`) with the row's country, else the default country;
//!   a number that cannot be made valid (`1234567` without an area code) does not cost the
//!   row: the phone becomes NULL and the raw value is reported in `quarantine/notes.csv`;
//! - **e-mails** trimmed, `mailto:` dropped, lower-cased and checked (one `@`, a dotted
//!   domain, no spaces); an invalid one is cleared and noted like a phone;
//! - **text** (names included) with whitespace (NBSP too) collapsed to single spaces;
//! - **amounts** with either decimal separator, thousands separators (space, NBSP, `'`, the
//!   other separator) and currency signs around the number, rounded to cents;
//! - **dates and timestamps** in the configured formats, tried in order, then ISO 8601;
//!   a time without an offset is local time in the dataset time zone and stored as UTC.

use std::borrow::Cow;
use std::hash::Hash;

use chrono::format::{Item, StrftimeItems};
use chrono::{DateTime, LocalResult, NaiveDate, NaiveDateTime, TimeZone};

use crate::dataset::schema::{ColumnKind, ColumnSpec};

/// Time zone names (IANA) and fixed offsets, as arrow parses them.
pub type Tz = datafusion::arrow::array::timezone::Tz;

/// A canonical value, typed as the column's canonical Arrow type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Value {
    Null,
    Text(String),
    Int(i64),
    /// Cents (decimal128 with scale 2).
    Dec(i128),
    Bool(bool),
    /// Microseconds since the epoch, UTC.
    Ts(i64),
    /// Days since the epoch.
    Date(i32),
}

impl Value {
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }

    /// A stable text form for keys and messages.
    pub fn key_part(&self) -> String {
        match self {
            Value::Null => String::new(),
            Value::Text(s) => s.clone(),
            Value::Int(v) | Value::Ts(v) => v.to_string(),
            Value::Dec(v) => v.to_string(),
            Value::Bool(v) => v.to_string(),
            Value::Date(v) => v.to_string(),
        }
    }
}

/// What became of one raw value.
#[derive(Debug, PartialEq)]
pub enum Outcome {
    Ok(Value),
    /// Unusable but not worth the row: stored as NULL, reported with this note.
    Cleared(String),
    /// The row cannot be loaded: the reason.
    Rejected(String),
}

/// How one table's values are read.
#[derive(Debug, Clone)]
pub struct Normalizer {
    pub date_formats: DateFormats,
    pub decimal_separator: Option<char>,
    pub default_country: Option<phonenumber::country::Id>,
    pub tz: Tz,
}

impl Normalizer {
    /// Normalises one raw value of a column (after the value map). `country` is the row's
    /// country (ISO alpha-2) when it has one, for phones.
    pub fn value(&self, column: &ColumnSpec, raw: &str, country: Option<&str>) -> Outcome {
        let text = collapse_ws(raw);
        if text.is_empty() {
            return Outcome::Ok(Value::Null);
        }
        let name = column.name;
        let reject = |e: String| Outcome::Rejected(format!("{name}: {e}"));
        match column.kind {
            ColumnKind::Text if name == "email" => match normalize_email(&text) {
                Ok(e) => Outcome::Ok(Value::Text(e)),
                Err(e) => Outcome::Cleared(e),
            },
            ColumnKind::Text if name == "phone" => {
                let region = country
                    .and_then(|c| c.parse().ok())
                    .or(self.default_country);
                match normalize_phone(&text, region) {
                    Ok(p) => Outcome::Ok(Value::Text(p)),
                    Err(e) => Outcome::Cleared(e),
                }
            }
            ColumnKind::Text if name == "country" => {
                Outcome::Ok(Value::Text(text.to_ascii_uppercase()))
            }
            ColumnKind::Text if !column.values.is_empty() => {
                match column.values.iter().find(|v| v.eq_ignore_ascii_case(&text)) {
                    Some(v) => Outcome::Ok(Value::Text(v.to_string())),
                    None => reject(format!(
                        "{text:?} is not one of {} (add it to [<table>.values.{name}])",
                        column.values.join(" | ")
                    )),
                }
            }
            ColumnKind::Text => Outcome::Ok(Value::Text(text.into_owned())),
            ColumnKind::Json => match serde_json::from_str::<serde_json::Value>(raw) {
                Ok(_) => Outcome::Ok(Value::Text(raw.trim().to_string())),
                Err(e) => reject(format!("not valid JSON ({e})")),
            },
            ColumnKind::Integer => match parse_int(&text) {
                Some(v) => match column.range {
                    Some((lo, hi)) if v < lo || v > hi => {
                        reject(format!("{v} is outside {lo}..={hi}"))
                    }
                    _ => Outcome::Ok(Value::Int(v)),
                },
                None => reject(format!("{text:?} is not a whole number")),
            },
            ColumnKind::Number => match parse_amount(&text, self.decimal_separator) {
                Some(v) => Outcome::Ok(Value::Dec(v)),
                None => reject(format!("{text:?} is not an amount")),
            },
            ColumnKind::Boolean => match parse_bool(&text) {
                Some(v) => Outcome::Ok(Value::Bool(v)),
                None => reject(format!("{text:?} is not yes/no")),
            },
            ColumnKind::Timestamp => match parse_timestamp(&text, &self.date_formats, &self.tz) {
                Some(v) => Outcome::Ok(Value::Ts(v)),
                None => reject(format!(
                    "{text:?} matches none of the date formats {:?}",
                    self.date_formats.names()
                )),
            },
            ColumnKind::Date => match self.date_formats.parse(&text) {
                Some(Parsed::Local(t)) => Outcome::Ok(Value::Date(days(t.date()))),
                Some(Parsed::Utc(t)) => Outcome::Ok(Value::Date(days(t.date_naive()))),
                None => reject(format!(
                    "{text:?} matches none of the date formats {:?}",
                    self.date_formats.names()
                )),
            },
        }
    }
}

fn days(d: NaiveDate) -> i32 {
    (d - NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch")).num_days() as i32
}

fn is_space(c: char) -> bool {
    c.is_whitespace() || c == '\u{a0}' || c == '\u{202f}' || c == '\u{feff}'
}

/// Trims and collapses runs of whitespace (NBSP included) to one space; borrowed when the
/// text is already clean (most values are: no copy).
pub fn collapse_ws(s: &str) -> Cow<'_, str> {
    let mut previous_space = true; // a leading space is not clean
    let clean = s.chars().all(|c| {
        let space = is_space(c);
        let ok = !space || (c == ' ' && !previous_space);
        previous_space = space;
        ok
    }) && !previous_space;
    if clean || s.is_empty() {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    for part in s.split(is_space).filter(|p| !p.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(part);
    }
    Cow::Owned(out)
}

/// A lower-cased, checked e-mail address, or why it is not one.
pub fn normalize_email(s: &str) -> Result<String, String> {
    let e = s.trim();
    let e = e
        .strip_prefix("mailto:")
        .or_else(|| e.strip_prefix("MAILTO:"))
        .unwrap_or(e)
        .trim_matches(|c| c == '<' || c == '>')
        .to_lowercase();
    let valid = match e.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && !e.contains(char::is_whitespace)
                && !e.contains("..")
                && domain
                    .rsplit_once('.')
                    .is_some_and(|(host, tld)| !host.is_empty() && tld.chars().count() >= 2)
                && !domain.starts_with('.')
                && !local.starts_with('.')
                && !local.ends_with('.')
        }
        None => false,
    };
    if valid {
        Ok(e)
    } else {
        Err("not a valid e-mail address".into())
    }
}

/// phonenumber keeps its compiled patterns in an LRU cache of 100 regular expressions, fewer
/// than the patterns of a handful of countries: with a mixed customer base every number
/// recompiled patterns. A cache that holds them all makes phones several times faster.
fn enlarge_pattern_cache() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if let Ok(mut cache) = phonenumber::metadata::DATABASE.cache().lock() {
            *cache = regex_cache::RegexCache::new(20_000);
        }
    });
}

/// E.164 form of a phone number, or why it cannot be made valid.
pub fn normalize_phone(
    s: &str,
    region: Option<phonenumber::country::Id>,
) -> Result<String, String> {
    enlarge_pattern_cache();
    let digits = s.chars().filter(char::is_ascii_digit).count();
    if digits == 0 {
        return Err("not a phone number".into());
    }
    let cleaned = match s.trim().strip_prefix("00") {
        Some(rest) => format!("+{rest}"),
        None => s.trim().to_string(),
    };
    let number =
        phonenumber::parse(region, &cleaned).map_err(|_| "not a phone number".to_string())?;
    let code = number.code().value();
    let e164 = number.format().mode(phonenumber::Mode::E164).to_string();
    // The crate's own check matches a pattern at the start of the number only, so a number
    // with digits too many passes it (`+353 22 1234555`): the number must match whole.
    if phonenumber::is_valid(&number)
        && e164
            .strip_prefix(&format!("+{code}"))
            .is_some_and(|national| valid_for_code(code, national))
    {
        return Ok(e164);
    }
    if let Some(e164) = unstripped(&cleaned, code, region) {
        return Ok(e164);
    }
    Err(match region {
        Some(r) if !cleaned.starts_with('+') => format!(
            "not a valid number for {} (too short or no area code?)",
            r.as_ref()
        ),
        Some(_) | None if !cleaned.starts_with('+') => {
            "no country code and no default country".into()
        }
        _ => "not a valid phone number".into(),
    })
}

/// The E.164 form of a number the phonenumber crate called invalid because it cut a digit
/// off: its parser strips a leading national prefix from the national number even when the
/// number was complete (phonenumber 0.3.10 and 0.4.0, upstream issue 76 of
/// whisperfish/rust-phonenumber), so with Russia's prefix `8` every area code starting with
/// 8 (`+7 812 …` St Petersburg, 843 Kazan, 861 Krasnodar, 8-800 toll free) lost its first
/// digit. libphonenumber strips the prefix only when what remains is a number; here the
/// national number is read again from the digits as written (after the country code, or
/// after the national prefix when there is one and the rest is valid, else all of them)
/// and checked against the crate's metadata.
fn unstripped(
    cleaned: &str,
    code: u16,
    region: Option<phonenumber::country::Id>,
) -> Option<String> {
    let database = &*phonenumber::metadata::DATABASE;
    let digits: String = cleaned.chars().filter(char::is_ascii_digit).collect();
    let candidates: Vec<&str> = if cleaned.starts_with('+') {
        vec![digits.strip_prefix(&code.to_string())?]
    } else {
        let meta = database.by_id(region?.as_ref())?;
        if meta.country_code() != code {
            return None;
        }
        match meta.national_prefix().and_then(|p| digits.strip_prefix(p)) {
            Some(rest) => vec![rest, &digits],
            None => vec![&digits],
        }
    };
    candidates
        .into_iter()
        .find(|national| valid_for_code(code, national))
        .map(|national| format!("+{code}{national}"))
}

/// Whether a national significant number is valid in a region of a country code.
fn valid_for_code(code: u16, national: &str) -> bool {
    phonenumber::metadata::DATABASE
        .by_code(&code)
        .is_some_and(|regions| regions.iter().any(|meta| valid_national(meta, national)))
}

/// Whether a national significant number is a valid number of a region: it matches the
/// region's general pattern and the pattern of one kind of number, each as a whole
/// (libphonenumber's `isValidNumberForRegion`).
fn valid_national(meta: &phonenumber::Metadata, national: &str) -> bool {
    let d = meta.descriptors();
    whole_match(d.general(), national)
        && [
            d.fixed_line(),
            d.mobile(),
            d.toll_free(),
            d.premium_rate(),
            d.shared_cost(),
            d.personal_number(),
            d.voip(),
            d.pager(),
            d.uan(),
            d.voicemail(),
        ]
        .into_iter()
        .flatten()
        .any(|kind| whole_match(kind, national))
}

/// Whether a descriptor's pattern matches all of a national number, and its length is one
/// of the descriptor's possible lengths (as the crate checks). The anchored patterns are
/// compiled once, in the crate's pattern cache.
fn whole_match(d: &phonenumber::metadata::Descriptor, national: &str) -> bool {
    let lengths = d.possible_length();
    if !lengths.is_empty() && !lengths.contains(&(national.len() as u16)) {
        return false;
    }
    // The metadata's patterns are written across lines: whitespace is not part of them.
    let anchored = format!("^(?x:{})$", d.national_number().as_str());
    let cache = phonenumber::metadata::DATABASE.cache();
    let Ok(mut cache) = cache.lock() else {
        return false;
    };
    cache
        .compile(&anchored)
        .is_ok_and(|re| re.is_match(national))
}

/// A whole number (`1 200`, `12.0`).
pub fn parse_int(s: &str) -> Option<i64> {
    let t: String = s.chars().filter(|c| !is_space(*c)).collect();
    if let Ok(v) = t.parse::<i64>() {
        return Some(v);
    }
    let cents = parse_amount(&t, None)?;
    (cents % 100 == 0).then_some((cents / 100) as i64)
}

/// An amount in cents. `sep` is the decimal separator; `None` = auto: when both `,` and `.`
/// occur the later one is the decimal separator; a separator occurring once is decimal;
/// one occurring several times is a thousands separator. Spaces, NBSP, `'` and `_` are
/// thousands separators; currency signs and words around the number are ignored; a leading
/// `-` or `−`, or parentheses, make it negative. Rounded half away from zero to cents.
pub fn parse_amount(s: &str, sep: Option<char>) -> Option<i128> {
    let mut t: String = s
        .chars()
        .filter(|c| !is_space(*c) && *c != '\'' && *c != '_')
        .collect();
    let mut negative = false;
    if t.starts_with('(') && t.ends_with(')') {
        negative = true;
        t = t[1..t.len() - 1].to_string();
    }
    let t = t.trim_matches(|c: char| !(c.is_ascii_digit() || c == '-' || c == '−' || c == '+'));
    let t = match t.strip_prefix(['-', '−']) {
        Some(rest) => {
            negative = !negative;
            rest
        }
        None => t.strip_prefix('+').unwrap_or(t),
    };
    let t = t.trim_start_matches(|c: char| !c.is_ascii_digit());
    let sep = match sep {
        Some(c) => c,
        None => {
            let (commas, dots) = (t.matches(',').count(), t.matches('.').count());
            match (commas, dots) {
                (0, 0) => '.',
                (_, 0) => {
                    if commas == 1 {
                        ','
                    } else {
                        '.'
                    }
                }
                (0, _) => {
                    if dots == 1 {
                        '.'
                    } else {
                        ','
                    }
                }
                _ => {
                    if t.rfind(',') > t.rfind('.') {
                        ','
                    } else {
                        '.'
                    }
                }
            }
        }
    };
    let (int_part, frac) = match t.rsplit_once(sep) {
        Some((i, f)) => (i, f),
        None => (t, ""),
    };
    let int_digits: String = int_part
        .chars()
        .filter(|c| *c != ',' && *c != '.')
        .collect();
    if int_digits.is_empty() && frac.is_empty()
        || !int_digits.chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
        || int_digits.len() > 16
    {
        return None;
    }
    let whole: i128 = if int_digits.is_empty() {
        0
    } else {
        int_digits.parse().ok()?
    };
    let mut f = frac.chars().map(|c| c as i128 - '0' as i128);
    let (d1, d2, d3) = (
        f.next().unwrap_or(0),
        f.next().unwrap_or(0),
        f.next().unwrap_or(0),
    );
    let mut cents = whole * 100 + d1 * 10 + d2;
    if d3 >= 5 {
        cents += 1;
    }
    Some(if negative { -cents } else { cents })
}

/// Yes/no in English and Russian, digits and signs.
pub fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_lowercase().as_str() {
        "true" | "t" | "yes" | "y" | "1" | "+" | "да" | "д" | "истина" => Some(true),
        "false" | "f" | "no" | "n" | "0" | "-" | "нет" | "н" | "ложь" => Some(false),
        _ => None,
    }
}

enum Parsed {
    /// Local time in the dataset time zone.
    Local(NaiveDateTime),
    /// A time with its own offset.
    Utc(DateTime<chrono::Utc>),
}

/// ISO 8601 forms, tried after the configured formats.
const ISO: &[&str] = &[
    "%Y-%m-%d %H:%M:%S%.f%#z",
    "%Y-%m-%dT%H:%M:%S%.f%#z",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d",
];

/// One chrono format, read once: `NaiveDateTime::parse_from_str` re-reads its format string
/// on every call, which was most of the time of a large CSV import.
#[derive(Debug, Clone)]
struct Compiled {
    items: Vec<Item<'static>>,
    /// The format has an offset (`%z`, `%#z`, `%:z`): the value is an instant.
    zoned: bool,
}

impl Compiled {
    fn new(format: &str) -> Result<Compiled, String> {
        let items = StrftimeItems::new(format)
            .parse_to_owned()
            .map_err(|_| format!("date format {format:?} is not a valid chrono format"))?;
        Ok(Compiled {
            items,
            zoned: format.contains('z'),
        })
    }

    fn parse(&self, s: &str) -> Option<Parsed> {
        let mut p = chrono::format::Parsed::new();
        chrono::format::parse(&mut p, s, self.items.iter()).ok()?;
        if self.zoned {
            return p.to_datetime().ok().map(|t| Parsed::Utc(t.to_utc()));
        }
        match p.to_naive_datetime_with_offset(0) {
            Ok(t) => Some(Parsed::Local(t)),
            Err(_) => Some(Parsed::Local(p.to_naive_date().ok()?.and_hms_opt(0, 0, 0)?)),
        }
    }
}

/// The date formats of a table, read once, tried in order, then ISO 8601.
#[derive(Debug, Clone)]
pub struct DateFormats {
    names: Vec<String>,
    compiled: Vec<Compiled>,
}

impl DateFormats {
    /// Reads the formats; an invalid one is an error naming it.
    pub fn new(formats: &[String]) -> Result<DateFormats, String> {
        Ok(DateFormats {
            names: formats.to_vec(),
            compiled: formats
                .iter()
                .map(|f| Compiled::new(f))
                .collect::<Result<_, _>>()?,
        })
    }

    /// The formats as given, for messages.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    fn parse(&self, s: &str) -> Option<Parsed> {
        if let Some(p) = self.compiled.iter().find_map(|c| c.parse(s)) {
            return Some(p);
        }
        if let Some(p) = iso_fast(s.as_bytes()) {
            return Some(p);
        }
        static ISO_COMPILED: std::sync::OnceLock<Vec<Compiled>> = std::sync::OnceLock::new();
        let iso =
            ISO_COMPILED.get_or_init(|| ISO.iter().filter_map(|f| Compiled::new(f).ok()).collect());
        iso.iter().find_map(|c| c.parse(s)).or_else(|| {
            DateTime::parse_from_rfc3339(s)
                .ok()
                .map(|t| Parsed::Utc(t.to_utc()))
        })
    }
}

/// The common ISO shapes without chrono's general parser: `YYYY-MM-DD`, then optionally
/// ` ` or `T`, `HH:MM`, `:SS`, `.fraction` (up to 9 digits, kept to microseconds) and an
/// offset `Z`, `±HH`, `±HHMM` or `±HH:MM`. `None` for anything else (the general parser
/// then tries, so a shape missing here is slower, never rejected).
fn iso_fast(b: &[u8]) -> Option<Parsed> {
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let d = b.get(r)?;
        d.iter().try_fold(0u32, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
        })
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)?;
    if b.len() == 10 {
        return Some(Parsed::Local(date.and_hms_opt(0, 0, 0)?));
    }
    if !(b[10] == b' ' || b[10] == b'T') || b.len() < 16 || b[13] != b':' {
        return None;
    }
    let (hour, minute) = (num(11..13)?, num(14..16)?);
    let mut i = 16;
    let mut second = 0;
    if b.get(i) == Some(&b':') {
        second = num(i + 1..i + 3)?;
        i += 3;
    }
    let mut micro = 0;
    if b.get(i) == Some(&b'.') {
        let digits = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 || digits > 9 {
            return None;
        }
        let frac = num(i + 1..i + 1 + digits.min(6))?;
        micro = frac * 10u32.pow(6 - digits.min(6) as u32);
        i += 1 + digits;
    }
    let local = date.and_hms_micro_opt(hour, minute, second, micro)?;
    let offset_seconds: i32 = match b.get(i) {
        None => return Some(Parsed::Local(local)),
        Some(b'Z') if b.len() == i + 1 => 0,
        Some(&sign @ (b'+' | b'-')) => {
            let rest = &b[i + 1..];
            let (h, m) = match rest.len() {
                2 => (num(i + 1..i + 3)?, 0),
                4 => (num(i + 1..i + 3)?, num(i + 3..i + 5)?),
                5 if rest[2] == b':' => (num(i + 1..i + 3)?, num(i + 4..i + 6)?),
                _ => return None,
            };
            if h > 23 || m > 59 {
                return None;
            }
            let secs = (h * 3600 + m * 60) as i32;
            if sign == b'-' { -secs } else { secs }
        }
        _ => return None,
    };
    let t = local - chrono::Duration::seconds(i64::from(offset_seconds));
    Some(Parsed::Utc(t.and_utc()))
}

/// Microseconds since the epoch (UTC) of a local or offset time.
pub fn parse_timestamp(s: &str, formats: &DateFormats, tz: &Tz) -> Option<i64> {
    let utc = match formats.parse(s)? {
        Parsed::Utc(t) => t,
        Parsed::Local(t) => match tz.from_local_datetime(&t) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.to_utc(),
            // A time skipped by a DST change: read it as the hour after.
            LocalResult::None => tz
                .from_local_datetime(&(t + chrono::Duration::hours(1)))
                .earliest()?
                .to_utc(),
        },
    };
    Some(utc.timestamp_micros())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ru() -> Option<phonenumber::country::Id> {
        Some(phonenumber::country::Id::RU)
    }

    #[test]
    fn phones() {
        assert_eq!(
            normalize_phone("+7 (495) 123-45-67", ru()).unwrap(),
            "+74951234567"
        );
        assert_eq!(
            normalize_phone("8 495 1234567", ru()).unwrap(),
            "+74951234567"
        );
        assert_eq!(
            normalize_phone("8(916)555-12-34", ru()).unwrap(),
            "+79165551234"
        );
        assert!(normalize_phone("1234567", ru()).is_err());
        assert_eq!(
            normalize_phone("(212) 555-0134", Some(phonenumber::country::Id::US)).unwrap(),
            "+12125550134"
        );
        assert_eq!(
            normalize_phone("0049 30 1234567", ru()).unwrap(),
            "+49301234567"
        );
        assert!(normalize_phone("n/a", ru()).is_err());
        // Area codes starting with the national prefix 8 keep their 8 (issue 18, item 11).
        for (raw, e164) in [
            ("+78126265599", "+78126265599"),
            ("+7 (843) 212-34-56", "+78432123456"),
            ("8 861 234 56 78", "+78612345678"),
            ("88312345678", "+78312345678"),
            ("+7 846 123-45-67", "+78461234567"),
            ("8-800-555-35-35", "+78005553535"),
        ] {
            assert_eq!(normalize_phone(raw, ru()).as_deref(), Ok(e164), "{raw}");
        }
    }

    /// Agreement with libphonenumber (Python `phonenumbers` 9.0.43) over the corpus that
    /// `benches/peers/phones_corpus.py` wrote: numbers of 48 countries, of every kind, in
    /// E.164, international, national and digits-only forms, valid and not.
    #[test]
    fn phones_agree_with_libphonenumber() {
        let corpus = include_str!("../../tests/data/phones.csv");
        let mut reader = csv::Reader::from_reader(corpus.as_bytes());
        let (mut rows, mut valid) = (0, 0);
        let mut disagree = Vec::new();
        for record in reader.records() {
            let record = record.unwrap();
            let (raw, region, want) = (&record[0], &record[1], &record[2]);
            let region = (!region.is_empty()).then(|| region.parse().unwrap());
            let got = normalize_phone(raw, region).unwrap_or_default();
            rows += 1;
            valid += usize::from(!want.is_empty());
            if got != want {
                disagree.push(format!(
                    "{raw:?} ({region:?}): libphonenumber {want:?}, crmlens {got:?}"
                ));
            }
        }
        eprintln!(
            "{} of {rows} raw values ({valid} valid) normalised as libphonenumber does",
            rows - disagree.len()
        );
        assert!(rows > 3000, "{rows}");
        assert!(disagree.is_empty(), "{}", disagree.join("\n"));
    }

    #[test]
    fn emails() {
        assert_eq!(
            normalize_email(" Ivan.Petrov@Mail.RU ").unwrap(),
            "ivan.petrov@mail.ru"
        );
        assert_eq!(normalize_email("mailto:a@b.co").unwrap(), "a@b.co");
        for bad in [
            "ivan@",
            "@mail.ru",
            "a b@c.ru",
            "a@b",
            "a@@b.ru",
            "a..b@c.ru",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn amounts() {
        assert_eq!(parse_amount("1 234,56", None), Some(123456));
        assert_eq!(parse_amount("1\u{a0}234,5 руб.", None), Some(123450));
        assert_eq!(parse_amount("1,234.56", None), Some(123456));
        assert_eq!(parse_amount("1.234.567,8", None), Some(123456780));
        assert_eq!(parse_amount("1,234,567", None), Some(123456700));
        assert_eq!(parse_amount("$12.345", None), Some(1235));
        assert_eq!(parse_amount("-5", None), Some(-500));
        assert_eq!(parse_amount("(7,5)", None), Some(-750));
        assert_eq!(parse_amount("1.234", Some(',')), Some(123400));
        assert_eq!(parse_amount("abc", None), None);
        assert_eq!(parse_amount("12a4", None), None);
        assert_eq!(parse_int("1 200"), Some(1200));
        assert_eq!(parse_int("12.0"), Some(12));
        assert_eq!(parse_int("12.5"), None);
    }

    #[test]
    fn timestamps_in_the_dataset_zone() {
        let moscow: Tz = "Europe/Moscow".parse().unwrap();
        let f = DateFormats::new(&["%d.%m.%Y %H:%M".into(), "%d.%m.%Y".into()]).unwrap();
        let t = parse_timestamp("05.03.2024 12:30", &f, &moscow).unwrap();
        let want = chrono::Utc.with_ymd_and_hms(2024, 3, 5, 9, 30, 0).unwrap();
        assert_eq!(t, want.timestamp_micros());
        let t = parse_timestamp("05.03.2024", &f, &moscow).unwrap();
        let want = chrono::Utc.with_ymd_and_hms(2024, 3, 4, 21, 0, 0).unwrap();
        assert_eq!(t, want.timestamp_micros());
        let t = parse_timestamp("2024-03-05T12:30:00+01:00", &f, &moscow).unwrap();
        let want = chrono::Utc.with_ymd_and_hms(2024, 3, 5, 11, 30, 0).unwrap();
        assert_eq!(t, want.timestamp_micros());
        let t = parse_timestamp("2024-03-05 12:30:00+00", &f, &moscow).unwrap();
        let want = chrono::Utc.with_ymd_and_hms(2024, 3, 5, 12, 30, 0).unwrap();
        assert_eq!(t, want.timestamp_micros());
        let t = parse_timestamp("2024-03-05 12:30:00.5+0300", &f, &moscow).unwrap();
        assert_eq!(t, want.timestamp_micros() - 3 * 3_600_000_000 + 500_000);
        assert!(parse_timestamp("31.02.2024", &f, &moscow).is_none());
        assert!(DateFormats::new(&["%d.%m.%Q".into()]).is_err());
    }

    /// The ISO fast path reads what chrono's general parser reads, to the microsecond, and
    /// leaves alone what it does not handle.
    #[test]
    fn iso_fast_path_agrees_with_chrono() {
        let utc = |s: &str| match iso_fast(s.as_bytes()) {
            Some(Parsed::Utc(t)) => Some(t.timestamp_micros()),
            Some(Parsed::Local(t)) => Some(t.and_utc().timestamp_micros()),
            None => None,
        };
        let chrono_micros = |s: &str| {
            ISO.iter()
                .map(|f| Compiled::new(f).unwrap())
                .find_map(|c| c.parse(s))
                .map(|p| match p {
                    Parsed::Utc(t) => t.timestamp_micros(),
                    Parsed::Local(t) => t.and_utc().timestamp_micros(),
                })
        };
        for s in [
            "2024-03-05",
            "2024-03-05 12:30",
            "2024-03-05T12:30",
            "2024-03-05 12:30:07",
            "2024-03-05T12:30:07.5",
            "2024-03-05 12:30:07.123456",
            "2024-03-05 12:30:07.123456789",
            "2024-03-05 12:30:07+00",
            "2024-03-05 12:30:07+0530",
            "2024-03-05T12:30:07.25-03:30",
            "2024-12-31 23:59:59-01",
        ] {
            assert_eq!(utc(s), chrono_micros(s), "{s}");
            assert!(utc(s).is_some(), "{s}");
        }
        assert_eq!(utc("2024-03-05T12:30:07Z"), utc("2024-03-05 12:30:07+00"));
        // Not dates: rejected by both, or left to the general parser.
        for s in [
            "2024-02-30",
            "2024-03-05 25:00",
            "2024-3-5",
            "2024-03-05 12:30:07 +03",
            "2024-03-05x",
        ] {
            assert_eq!(utc(s), None, "{s}");
        }
        assert_eq!(chrono_micros("2024-02-30"), None);
    }

    #[test]
    fn text() {
        assert_eq!(collapse_ws("  Иван \u{a0}\t Петров "), "Иван Петров");
        for clean in ["Иван Петров", "a", "2024-03-05 12:30:00+00"] {
            assert!(matches!(collapse_ws(clean), Cow::Borrowed(_)), "{clean}");
        }
        for messy in [" a", "a ", "a  b", "a\u{a0}b", "a\tb", " "] {
            assert!(matches!(collapse_ws(messy), Cow::Owned(_)), "{messy:?}");
        }
        assert_eq!(collapse_ws(" "), "");
        assert_eq!(parse_bool("Да"), Some(true));
        assert_eq!(parse_bool("maybe"), None);
    }
}
