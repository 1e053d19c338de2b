//! Phone numbers in the mixed local formats a real CRM accumulates: `+7 (495) 123-45-67`,
//! `8 495 1234567`, a bare `1234567` without area code, `(212) 555-0134`, `+972 3-123-4567`, …
//! The digits are kept apart from the formatting so a duplicate card can show the same
//! number typed another way.

use std::fmt::Write;

use super::locale::Country;
use super::rng::Rng;

/// A phone number before formatting, so a duplicate card can show the same number typed
/// another way.
#[derive(Debug, Clone)]
pub struct Phone {
    country: Country,
    mobile: bool,
    area: &'static str,
    sub: String,
}

impl Phone {
    pub fn new(rng: &mut Rng, country: Country, area: &'static str) -> Self {
        let prefixes = country.mobile_prefixes();
        let mobile = !prefixes.is_empty() && rng.chance(0.45);
        let area = if mobile {
            prefixes[rng.index(prefixes.len())]
        } else {
            area
        };
        let len = match country {
            Country::US | Country::DE | Country::AE | Country::SA | Country::IL => 7,
            Country::GB if mobile => 6,
            Country::GB | Country::RU | Country::KZ => 10usize.saturating_sub(area.len()).max(6),
        };
        let mut sub = String::with_capacity(len);
        sub.push(char::from(b'2' + rng.below(8) as u8));
        for _ in 1..len {
            sub.push(char::from(b'0' + rng.below(10) as u8));
        }
        Phone {
            country,
            mobile,
            area,
            sub,
        }
    }

    /// The number in one of the country's usual formats, chosen at random.
    pub fn format(&self, rng: &mut Rng) -> String {
        self.format_style(rng.below(7) as usize)
    }

    pub fn format_style(&self, style: usize) -> String {
        let (a, s) = (self.area, self.sub.as_str());
        let g = |sizes: &[usize], sep: &str| group(s, sizes, sep);
        let g7 = if s.len() == 6 {
            g(&[2, 2, 2], "-")
        } else {
            g(&[s.len().saturating_sub(4), 2, 2], "-")
        };
        match self.country {
            Country::US => match style % 6 {
                0 => format!("({a}) {}", g(&[3, 4], "-")),
                1 => format!("+1 {a}-{}", g(&[3, 4], "-")),
                2 => format!("{a}.{}", g(&[3, 4], ".")),
                3 => format!("{a}{s}"),
                4 => format!("+1 ({a}) {}", g(&[3, 4], "-")),
                _ => format!("1-{a}-{}", g(&[3, 4], "-")),
            },
            Country::GB => {
                let grouped = if self.mobile {
                    s.to_string()
                } else {
                    g(&[s.len().saturating_sub(4), 4], " ")
                };
                match style % 4 {
                    0 => format!("0{a} {grouped}"),
                    1 => format!("+44 {a} {grouped}"),
                    2 if self.mobile => format!("+44{a}{s}"),
                    2 => format!("(0{a}) {grouped}"),
                    _ => format!("0{a}{s}"),
                }
            }
            Country::DE => match style % 5 {
                0 => format!("0{a} {s}"),
                1 => format!("+49 {a} {s}"),
                2 => format!("+49 (0){a} {s}"),
                3 => format!("0{a}/{s}"),
                _ => format!("0{a}-{s}"),
            },
            Country::RU | Country::KZ => {
                // Local numbers without an area code are common for city landlines.
                let local_ok = !self.mobile && self.country == Country::RU;
                match style % 7 {
                    0 => format!("+7 ({a}) {g7}"),
                    1 => format!("8 {a} {s}"),
                    2 => format!("8 ({a}) {g7}"),
                    3 => format!("+7{a}{s}"),
                    4 if local_ok => g7,
                    5 if local_ok => s.to_string(),
                    _ => format!("8-{a}-{g7}"),
                }
            }
            Country::AE => match style % 5 {
                0 => format!("+971 {a} {}", g(&[3, 4], " ")),
                1 => format!("0{a} {s}"),
                2 => format!("0{a}-{}", g(&[3, 4], "-")),
                3 => format!("+971{a}{s}"),
                _ => format!("00971 {a} {s}"),
            },
            Country::SA => match style % 4 {
                0 => format!("+966 {a} {}", g(&[3, 4], " ")),
                1 => format!("0{a} {}", g(&[3, 4], " ")),
                2 => format!("0{a}{s}"),
                _ => format!("+966{a}{s}"),
            },
            Country::IL => match style % 4 {
                0 => format!("0{a}-{s}"),
                1 => format!("+972 {a}-{}", g(&[3, 4], "-")),
                2 => format!("+972-{a}-{s}"),
                _ => format!("0{a}{s}"),
            },
        }
    }
}

/// Digits split into groups of the given sizes (the last group takes the rest).
fn group(s: &str, sizes: &[usize], sep: &str) -> String {
    let mut out = String::with_capacity(s.len() + sizes.len());
    let mut rest = s;
    for (i, n) in sizes.iter().enumerate() {
        if rest.is_empty() {
            break;
        }
        if i > 0 {
            out.push_str(sep);
        }
        let take = if i + 1 == sizes.len() {
            rest.len()
        } else {
            (*n).min(rest.len())
        };
        let (head, tail) = rest.split_at(take);
        let _ = write!(out, "{head}");
        rest = tail;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::locale::COUNTRIES;

    #[test]
    fn phones_come_in_local_formats() {
        let mut rng = Rng::new(3, 3);
        let p = Phone {
            country: Country::RU,
            mobile: false,
            area: "495",
            sub: "1234567".into(),
        };
        assert_eq!(p.format_style(0), "+7 (495) 123-45-67");
        assert_eq!(p.format_style(1), "8 495 1234567");
        assert_eq!(p.format_style(5), "1234567");
        let p = Phone {
            country: Country::US,
            mobile: false,
            area: "212",
            sub: "5550134".into(),
        };
        assert_eq!(p.format_style(0), "(212) 555-0134");
        assert_eq!(p.format_style(1), "+1 212-555-0134");
        let p = Phone {
            country: Country::IL,
            mobile: false,
            area: "3",
            sub: "1234567".into(),
        };
        assert_eq!(p.format_style(1), "+972 3-123-4567");
        let p = Phone {
            country: Country::AE,
            mobile: false,
            area: "4",
            sub: "1234567".into(),
        };
        assert_eq!(p.format_style(0), "+971 4 123 4567");
        for c in COUNTRIES {
            let n = Phone::new(&mut rng, *c, c.places()[0].2).format(&mut rng);
            assert!(n.chars().filter(char::is_ascii_digit).count() >= 7, "{n}");
        }
    }
}
