#!/usr/bin/env python3
"""libphonenumber (Python `phonenumbers`) as the oracle for crmlens' phone normalisation
(`import::normalize::normalize_phone`): writes a corpus of raw phone values, each with the
region an import would give it and the E.164 form libphonenumber makes of it (empty when it
calls the number invalid), to tests/data/phones.csv. The Rust test
`import::normalize::tests::phones_agree_with_libphonenumber` reads that file, so it runs
without Python; rerun this script only to refresh the corpus (and review the diff).

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install phonenumbers==9.0.43
    /tmp/venv/bin/python benches/peers/phones_corpus.py > tests/data/phones.csv

The numbers: for each of 48 countries and each number type the metadata has an example of
(fixed line, mobile, toll free, …), the example and variants of it with random last digits
(kept only where libphonenumber calls the variant valid, so that most rows are valid numbers
of many shapes), the Russian area codes starting with 8 (812, 843, 861, 831, 846, 800: the
national prefix is 8 too) and numbers cut short or made too long (invalid). Each number in
several forms: E.164 without a region, the international format with and without a region,
the national format with its region (national prefix included, `8 (812) 626-55-99`), digits
only with the national prefix, and `00` + country code where the region dials out with 00.
"""
import csv
import random
import sys

import phonenumbers
from phonenumbers import PhoneNumberFormat as F
from phonenumbers import PhoneNumberType as T

REGIONS = (
    "RU KZ BY UA UZ GE AM LT LV EE US CA MX BR AR CL CO GB IE DE AT CH FR BE NL LU IT ES PT "
    "PL CZ SE NO FI DK TR IL AE SA EG NG ZA IN CN JP KR SG AU NZ"
).split()
TYPES = [T.FIXED_LINE, T.MOBILE, T.TOLL_FREE, T.PREMIUM_RATE, T.VOIP, T.UAN]
RU_EIGHT = ["812", "843", "861", "831", "846", "800"]


def expected(text, region):
    """E.164 of what libphonenumber reads, or "" when it fails or calls it invalid."""
    try:
        n = phonenumbers.parse(text, region or None)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_valid_number(n):
        return ""
    return phonenumbers.format_number(n, F.E164)


def variants(example, rng, count):
    """The example and `count` valid numbers with random last digits."""
    out = [example]
    nsn = phonenumbers.national_significant_number(example)
    tries = 0
    while len(out) < count + 1 and tries < 50:
        tries += 1
        k = min(4, len(nsn) - 2)
        tail = "".join(rng.choice("0123456789") for _ in range(k))
        candidate = phonenumbers.parse(f"+{example.country_code}{nsn[:-k]}{tail}")
        if phonenumbers.is_valid_number(candidate) and candidate not in out:
            out.append(candidate)
    return out


def forms(n, region):
    """(raw text, region given to the parser) pairs for one number of `region`."""
    e164 = phonenumbers.format_number(n, F.E164)
    intl = phonenumbers.format_number(n, F.INTERNATIONAL)
    national = phonenumbers.format_number(n, F.NATIONAL)
    out = [(e164, ""), (intl, region), (intl, ""), (national, region)]
    digits = "".join(c for c in national if c.isdigit())
    if digits != national:
        out.append((digits, region))
    meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if meta is not None and meta.international_prefix == "00":
        out.append(("00 " + intl[1:], region))
    return out


def main():
    rng = random.Random(20261207)
    rows = []
    for region in REGIONS:
        numbers = []
        for kind in TYPES:
            example = phonenumbers.example_number_for_type(region, kind)
            if example is not None:
                numbers += variants(example, rng, 2 if kind in (T.FIXED_LINE, T.MOBILE) else 1)
        if region == "RU":
            for code in RU_EIGHT:
                for _ in range(2):
                    tail = "".join(rng.choice("0123456789") for _ in range(7))
                    numbers.append(phonenumbers.parse(f"+7{code}{tail}"))
        for n in numbers:
            rows += forms(n, region)
        # Invalid: a digit too few or too many, in international and national form.
        n = numbers[0]
        nsn = phonenumbers.national_significant_number(n)
        rows.append((f"+{n.country_code}{nsn[:-1]}", ""))
        rows.append((f"+{n.country_code}{nsn}55", region))
        rows.append((nsn[:-2], region))
    seen = set()
    w = csv.writer(sys.stdout, lineterminator="\n")
    w.writerow(["raw", "region", "e164"])
    for raw, region in rows:
        if (raw, region) in seen:
            continue
        seen.add((raw, region))
        w.writerow([raw, region, expected(raw, region)])


if __name__ == "__main__":
    main()
