//! Countries and what is local about them: names in the country's script, organisation names,
//! and e-mail addresses (Latin local parts). Phone numbers are in [`super::phone`].

use super::names::*;
use super::rng::Rng;

/// Manager regions; each country belongs to one.
pub const REGIONS: &[&str] = &["North America", "Europe", "CIS", "Middle East"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Country {
    US,
    GB,
    DE,
    RU,
    KZ,
    AE,
    SA,
    IL,
}

pub const COUNTRIES: &[Country] = &[
    Country::US,
    Country::GB,
    Country::DE,
    Country::RU,
    Country::KZ,
    Country::AE,
    Country::SA,
    Country::IL,
];
/// Share of customers per country, in the order of [`COUNTRIES`].
pub const COUNTRY_WEIGHTS: &[f64] = &[0.22, 0.09, 0.11, 0.22, 0.06, 0.10, 0.08, 0.12];

/// The languages names come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    De,
    Ru,
    Kz,
    Ar,
    He,
}

impl Country {
    pub fn code(self) -> &'static str {
        match self {
            Country::US => "US",
            Country::GB => "GB",
            Country::DE => "DE",
            Country::RU => "RU",
            Country::KZ => "KZ",
            Country::AE => "AE",
            Country::SA => "SA",
            Country::IL => "IL",
        }
    }

    /// Index into [`REGIONS`].
    pub fn region(self) -> usize {
        match self {
            Country::US => 0,
            Country::GB | Country::DE => 1,
            Country::RU | Country::KZ => 2,
            Country::AE | Country::SA | Country::IL => 3,
        }
    }

    pub fn lang(self) -> Lang {
        match self {
            Country::US | Country::GB => Lang::En,
            Country::DE => Lang::De,
            Country::RU => Lang::Ru,
            Country::KZ => Lang::Kz,
            Country::AE | Country::SA => Lang::Ar,
            Country::IL => Lang::He,
        }
    }

    pub fn places(self) -> &'static [Place] {
        match self {
            Country::US => US_PLACES,
            Country::GB => GB_PLACES,
            Country::DE => DE_PLACES,
            Country::RU => RU_PLACES,
            Country::KZ => KZ_PLACES,
            Country::AE => AE_PLACES,
            Country::SA => SA_PLACES,
            Country::IL => IL_PLACES,
        }
    }

    fn tld(self) -> &'static str {
        match self {
            Country::US => "com",
            Country::GB => "co.uk",
            Country::DE => "de",
            Country::RU => "ru",
            Country::KZ => "kz",
            Country::AE => "ae",
            Country::SA => "com.sa",
            Country::IL => "co.il",
        }
    }

    fn mail_domains(self) -> &'static [&'static str] {
        match self {
            Country::US => &[
                "gmail.com",
                "yahoo.com",
                "outlook.com",
                "hotmail.com",
                "icloud.com",
                "aol.com",
            ],
            Country::GB => &[
                "gmail.com",
                "outlook.com",
                "btinternet.com",
                "yahoo.co.uk",
                "hotmail.co.uk",
            ],
            Country::DE => &["gmx.de", "web.de", "t-online.de", "gmail.com", "outlook.de"],
            Country::RU => &[
                "mail.ru",
                "yandex.ru",
                "gmail.com",
                "bk.ru",
                "inbox.ru",
                "list.ru",
            ],
            Country::KZ => &["mail.ru", "gmail.com", "yandex.kz", "inbox.kz"],
            Country::AE | Country::SA => &["gmail.com", "hotmail.com", "yahoo.com", "outlook.com"],
            Country::IL => &["gmail.com", "walla.co.il", "012.net.il", "hotmail.com"],
        }
    }

    pub(super) fn mobile_prefixes(self) -> &'static [&'static str] {
        match self {
            Country::US => &[],
            Country::GB => &["7700", "7911", "7824", "7400", "7723"],
            Country::DE => &["170", "151", "160", "176", "152"],
            Country::RU => &["916", "903", "926", "985", "921", "913"],
            Country::KZ => &["701", "705", "747", "777", "702"],
            Country::AE => &["50", "52", "55", "56"],
            Country::SA => &["50", "53", "54", "55", "56"],
            Country::IL => &["50", "52", "53", "54", "58"],
        }
    }

    pub fn roles(self) -> &'static [&'static str] {
        match self.lang() {
            Lang::En => ROLES_EN,
            Lang::De => ROLES_DE,
            Lang::Ru | Lang::Kz => ROLES_RU,
            Lang::Ar => ROLES_AR,
            Lang::He => ROLES_HE,
        }
    }
}

/// A name in its own script and in Latin letters for e-mail addresses.
#[derive(Debug, Clone)]
pub struct Entry {
    pub native: String,
    pub latin: String,
}

struct NameSet {
    male: Vec<Entry>,
    female: Vec<Entry>,
    last: Vec<Entry>,
    last_female: Vec<Entry>,
    org: Vec<Entry>,
}

/// All names, transliterated once up front so the hot loop only picks.
pub struct Lexicon {
    sets: Vec<NameSet>,
}

/// A person's name, pointing into the [`Lexicon`].
#[derive(Debug, Clone, Copy)]
pub struct Person<'a> {
    pub first: &'a Entry,
    pub last: &'a Entry,
    family_first: bool,
}

impl Person<'_> {
    pub fn full(&self) -> String {
        if self.family_first {
            format!("{} {}", self.last.native, self.first.native)
        } else {
            format!("{} {}", self.first.native, self.last.native)
        }
    }
}

fn lang_index(lang: Lang) -> usize {
    match lang {
        Lang::En => 0,
        Lang::De => 1,
        Lang::Ru => 2,
        Lang::Kz => 3,
        Lang::Ar => 4,
        Lang::He => 5,
    }
}

impl Lexicon {
    pub fn new() -> Self {
        let set = |m: &[&str], f: &[&str], l: &[&str], o: &[&str], slavic: bool| NameSet {
            male: entries(m),
            female: entries(f),
            last: entries(l),
            last_female: if slavic {
                l.iter().map(|s| entry(&feminine(s))).collect()
            } else {
                entries(l)
            },
            org: entries(o),
        };
        Lexicon {
            sets: vec![
                set(EN_MALE, EN_FEMALE, EN_LAST, EN_ORG, false),
                set(DE_MALE, DE_FEMALE, DE_LAST, DE_ORG, false),
                set(RU_MALE, RU_FEMALE, RU_LAST, RU_ORG, true),
                set(KZ_MALE, KZ_FEMALE, KZ_LAST, KZ_ORG, true),
                set(AR_MALE, AR_FEMALE, AR_LAST, AR_ORG, false),
                set(HE_MALE, HE_FEMALE, HE_LAST, HE_ORG, false),
            ],
        }
    }

    fn set(&self, lang: Lang) -> &NameSet {
        &self.sets[lang_index(lang)]
    }

    pub fn person(&self, lang: Lang, rng: &mut Rng) -> Person<'_> {
        let s = self.set(lang);
        let female = rng.chance(0.5);
        let (firsts, lasts) = if female {
            (&s.female, &s.last_female)
        } else {
            (&s.male, &s.last)
        };
        let i = rng.index(firsts.len());
        let j = rng.index(lasts.len());
        Person {
            first: &firsts[i],
            last: &lasts[j],
            // Russian-speaking CRMs often store "Фамилия Имя".
            family_first: matches!(lang, Lang::Ru | Lang::Kz) && rng.chance(0.4),
        }
    }

    /// An organisation name in the country's language and a Latin slug for its web domain.
    pub fn org(&self, country: Country, rng: &mut Rng) -> (String, String) {
        let lang = country.lang();
        let s = self.set(lang);
        let stem = &s.org[rng.index(s.org.len())];
        let last = &s.last[rng.index(s.last.len())];
        let pick = |rng: &mut Rng, xs: &[&'static str]| xs[rng.index(xs.len())];
        match lang {
            Lang::En => {
                let legal = if country == Country::GB {
                    pick(rng, &["Ltd", "Ltd", "PLC", "LLP", "Limited"])
                } else {
                    pick(rng, &["Inc.", "LLC", "LLC", "Corp.", "Co."])
                };
                let industry = pick(rng, EN_INDUSTRY);
                match rng.below(4) {
                    0 => (
                        format!("{} & Partners {legal}", last.native),
                        last.latin.clone(),
                    ),
                    1 => (
                        format!("{} & Sons", last.native),
                        format!("{}andsons", last.latin),
                    ),
                    2 => (format!("{} {legal}", stem.native), stem.latin.clone()),
                    _ => (
                        format!("{} {industry} {legal}", stem.native),
                        format!("{}{}", stem.latin, industry.to_lowercase()),
                    ),
                }
            }
            Lang::De => {
                let industry = pick(rng, DE_INDUSTRY);
                match rng.below(4) {
                    0 => (format!("{} GmbH", last.native), last.latin.clone()),
                    1 => {
                        let other = &s.last[rng.index(s.last.len())];
                        (
                            format!("{} & {} KG", last.native, other.native),
                            format!("{}-{}", last.latin, other.latin),
                        )
                    }
                    2 => (format!("{} AG", stem.native), stem.latin.clone()),
                    _ => (
                        format!("{} {industry} GmbH", stem.native),
                        format!("{}-{}", stem.latin, translit(industry)),
                    ),
                }
            }
            Lang::Ru | Lang::Kz => {
                let legal = if lang == Lang::Kz {
                    pick(rng, &["ТОО", "ТОО", "ТОО", "АО"])
                } else {
                    pick(rng, &["ООО", "ООО", "ООО", "АО", "ПАО", "ЗАО"])
                };
                match rng.below(5) {
                    0 => {
                        let i = &s.male[rng.index(s.male.len())];
                        let o = &s.male[rng.index(s.male.len())];
                        let initial = |e: &Entry| e.native.chars().next().unwrap_or('А');
                        (
                            format!("ИП {} {}. {}.", last.native, initial(i), initial(o)),
                            last.latin.clone(),
                        )
                    }
                    1 if lang == Lang::Ru => {
                        let suffix = pick(rng, RU_ORG_SUFFIX);
                        (
                            format!("{legal} «{}{suffix}»", stem.native),
                            format!("{}{}", stem.latin, translit(suffix)),
                        )
                    }
                    _ => (format!("{legal} «{}»", stem.native), stem.latin.clone()),
                }
            }
            Lang::Ar => (
                pick(rng, AR_ORG_PATTERN).replace("{}", &stem.native),
                stem.latin.clone(),
            ),
            Lang::He => (
                pick(rng, HE_ORG_PATTERN).replace("{}", &stem.native),
                stem.latin.clone(),
            ),
        }
    }
}

fn entry(raw: &str) -> Entry {
    match raw.split_once('|') {
        Some((native, latin)) => Entry {
            native: native.to_string(),
            latin: latin.to_string(),
        },
        None => Entry {
            native: raw.to_string(),
            latin: translit(raw),
        },
    }
}

fn entries(raw: &[&str]) -> Vec<Entry> {
    raw.iter().map(|s| entry(s)).collect()
}

/// The feminine form of a Russian or Kazakh surname (Иванов → Иванова, Вишневский → Вишневская).
fn feminine(last: &str) -> String {
    if let Some(stem) = last.strip_suffix("ский") {
        format!("{stem}ская")
    } else if ["ов", "ев", "ёв", "ин", "ын"]
        .iter()
        .any(|s| last.ends_with(s))
    {
        format!("{last}а")
    } else {
        last.to_string()
    }
}

/// Lower-case Latin letters and digits for an e-mail local part or a domain.
pub fn translit(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().flat_map(char::to_lowercase) {
        let t = match c {
            'a'..='z' | '0'..='9' => {
                out.push(c);
                continue;
            }
            'ä' => "ae",
            'ö' => "oe",
            'ü' => "ue",
            'ß' => "ss",
            'é' | 'è' => "e",
            'а' | 'ә' => "a",
            'б' => "b",
            'в' => "v",
            'г' | 'ғ' => "g",
            'д' => "d",
            'е' | 'ё' | 'э' => "e",
            'ж' => "zh",
            'з' => "z",
            'и' | 'і' => "i",
            'й' | 'ы' => "y",
            'к' | 'қ' => "k",
            'л' => "l",
            'м' => "m",
            'н' | 'ң' => "n",
            'о' | 'ө' => "o",
            'п' => "p",
            'р' => "r",
            'с' => "s",
            'т' => "t",
            'у' | 'ұ' | 'ү' => "u",
            'ф' => "f",
            'х' | 'һ' => "kh",
            'ц' => "ts",
            'ч' => "ch",
            'ш' => "sh",
            'щ' => "shch",
            'ю' => "yu",
            'я' => "ya",
            _ => "",
        };
        out.push_str(t);
    }
    out
}

/// A person's private e-mail address.
pub fn person_email(rng: &mut Rng, country: Country, p: &Person) -> String {
    let (f, l) = (&p.first.latin, &p.last.latin);
    let domains = country.mail_domains();
    let domain = domains[rng.index(domains.len())];
    let local = match rng.below(7) {
        0 | 1 => format!("{f}.{l}"),
        2 => format!("{f}{l}"),
        3 => format!("{}.{l}", f.chars().next().unwrap_or('x')),
        4 => format!("{f}_{l}{}", rng.range(1, 99)),
        5 => format!("{l}{}", rng.range(60, 99)),
        _ => format!("{f}{}", rng.range(1, 999)),
    };
    // A few addresses keep the capitals someone typed.
    if rng.chance(0.03) {
        format!("{}@{}", capitalize(&local), capitalize(domain))
    } else {
        format!("{local}@{domain}")
    }
}

/// An address at an organisation's own domain (`who` = `info`, `first.last`, …).
pub fn org_email(country: Country, who: &str, slug: &str) -> String {
    format!("{who}@{slug}.{}", country.tld())
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_transliterated_and_gendered() {
        assert_eq!(translit("Сергей"), "sergey");
        assert_eq!(translit("Müller"), "mueller");
        assert_eq!(translit("Жұмабаев"), "zhumabaev");
        assert_eq!(feminine("Иванов"), "Иванова");
        assert_eq!(feminine("Вишневский"), "Вишневская");
        let lex = Lexicon::new();
        let mut rng = Rng::new(1, 1);
        for lang in [Lang::En, Lang::De, Lang::Ru, Lang::Kz, Lang::Ar, Lang::He] {
            let p = lex.person(lang, &mut rng);
            assert!(
                !p.first.latin.is_empty() && !p.last.latin.is_empty(),
                "{lang:?} {}",
                p.full()
            );
        }
    }
}
