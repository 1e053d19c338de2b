//! `crmlens affinity`: the rules equal mlxtend's on the hand-made dataset of
//! tests/slt/affinity.slt (tests/data/affinity_mlxtend.csv, written by
//! benches/peers/affinity_mlxtend.py --expected), the generator's planted affinities are
//! exactly the rules above the noise, the next best offers of one customer, and usage errors.

use std::collections::{BTreeMap, BTreeSet};

use crate::common::{Run, crmlens, hand_made, run, tempdir};

const MEASURES: [&str; 7] = [
    "antecedent_support",
    "consequent_support",
    "support",
    "confidence",
    "lift",
    "leverage",
    "conviction",
];

/// mlxtend's rules of the fixture: (unit, level, antecedent, consequent) → the measures
/// (`None`: infinite conviction).
fn expected() -> BTreeMap<[String; 4], Vec<Option<f64>>> {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/affinity_mlxtend.csv"),
    )
    .unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(header[4..], MEASURES);
    lines
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            let key = [0, 1, 2, 3].map(|i| cells[i].to_string());
            let values = cells[4..].iter().map(|c| c.parse().ok()).collect();
            (key, values)
        })
        .collect()
}

/// `crmlens affinity ARGS` on the hand-made dataset as of 2024-03-31.
fn on_hand_made(tmp: &tempfile::TempDir, dataset: &std::path::Path, args: &[&str]) -> Run {
    let r = run(crmlens(tmp.path()).arg("affinity").args(args).args([
        "--as-of",
        "2024-03-31",
        "--dataset",
        dataset.to_str().unwrap(),
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    r
}

#[test]
fn rules_equal_mlxtend_on_the_hand_made_data() {
    let (tmp, dataset) = hand_made("affinity", true, "");
    let expected = expected();
    let mut found = BTreeMap::new();
    for unit in ["basket", "customer"] {
        for level in ["category", "product"] {
            let args = ["--by", unit, "--level", level, "--min-support", "0.25"];
            let r = on_hand_made(&tmp, &dataset, &[&args[..], &["--format", "json"]].concat());
            let rows: Vec<serde_json::Value> = serde_json::from_str(&r.stdout).unwrap();
            for row in rows {
                let key = [
                    unit.to_string(),
                    level.to_string(),
                    row["antecedent"].as_str().unwrap().to_string(),
                    row["consequent"].as_str().unwrap().to_string(),
                ];
                let values: Vec<Option<f64>> = MEASURES.iter().map(|m| row[*m].as_f64()).collect();
                found.insert(key, values);
            }
        }
    }
    assert_eq!(
        found.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>(),
        "the rules crmlens and mlxtend find"
    );
    for (key, theirs) in &expected {
        for ((m, ours), theirs) in MEASURES.iter().zip(&found[key]).zip(theirs) {
            match (ours, theirs) {
                (Some(a), Some(b)) => assert!((a - b).abs() <= 1e-12, "{key:?} {m}: {a} {b}"),
                (a, b) => assert_eq!(a, b, "{key:?} {m}"),
            }
        }
    }
}

/// The affinities `crmlens generate` plants (src/generate/affinity.rs,
/// docs/commands/dataset.md), each found in both directions: lift is symmetric.
const PLANTED: [(&str, &str); 3] = [
    ("Computers", "Software"),
    ("Furniture", "Computers"),
    ("Sports", "Health & Beauty"),
];

#[test]
fn finds_exactly_the_planted_affinities() {
    let tmp = tempdir();
    let out = tmp.path().join("crm");
    let r = run(crmlens(tmp.path()).args([
        "generate",
        "--out",
        out.to_str().unwrap(),
        "--customers",
        "4000",
        "--seed",
        "7",
        "-q",
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rules = |args: &[&str]| -> BTreeMap<(String, String), f64> {
        let r = run(crmlens(tmp.path())
            .args([
                "affinity",
                "--format",
                "json",
                "--dataset",
                out.to_str().unwrap(),
            ])
            .args(args));
        assert_eq!(r.code, 0, "{}", r.stderr);
        let rows: Vec<serde_json::Value> = serde_json::from_str(&r.stdout).unwrap();
        rows.iter()
            .map(|r| {
                let name = |c: &str| r[c].as_str().unwrap().to_string();
                (
                    (name("antecedent"), name("consequent")),
                    r["lift"].as_f64().unwrap(),
                )
            })
            .collect()
    };
    let planted: BTreeSet<(String, String)> = PLANTED
        .iter()
        .flat_map(|&(a, c)| [(a, c), (c, a)])
        .map(|(a, c)| (a.to_string(), c.to_string()))
        .collect();
    let above = rules(&["--min-lift", "1.25"]);
    assert_eq!(
        above.keys().cloned().collect::<BTreeSet<_>>(),
        planted,
        "rules with a lift of 1.25 or more"
    );
    for (a, c) in PLANTED {
        let lift = above[&(a.to_string(), c.to_string())];
        assert!(lift > 1.4, "{a} → {c}: {lift}");
    }
    // Well above the noise, which stays below independence (lift 1).
    let noise = rules(&[])
        .into_iter()
        .filter(|(pair, _)| !planted.contains(pair))
        .map(|(_, lift)| lift)
        .fold(0.0, f64::max);
    assert!(noise < 1.0, "the largest lift of the other pairs: {noise}");
}

#[test]
fn next_best_of_one_customer() {
    let (tmp, dataset) = hand_made("affinity", true, "[affinity]\nmin_support = 0.25\n");
    let r = on_hand_made(
        &tmp,
        &dataset,
        &["--next-best", "--customer", "C", "--format", "csv"],
    );
    // C bought Phones, Books and Accessories (see tests/slt/affinity.slt).
    assert_eq!(
        r.stdout,
        "customer_id,rank,category,score,lift,because\n\
         C,1,Computers,0.75,1.25,Accessories\n\
         C,2,Furniture,0.5,1.25,Accessories\n"
    );
    let r = on_hand_made(
        &tmp,
        &dataset,
        &["--next-best", "--top", "1", "--format", "csv"],
    );
    assert_eq!(
        r.stdout,
        "customer_id,rank,category,score,lift,because\n\
         A,1,Furniture,0.6666666666666666,1.6666666666666667,Computers\n\
         C,1,Computers,0.75,1.25,Accessories\n\
         D,1,Phones,0.75,1.25,Accessories\n"
    );
}

#[test]
fn usage_errors() {
    let tmp = tempdir();
    run(crmlens(tmp.path()).args(["affinity", "--min-support", "0"]))
        .assert_error(2, "--min-support: expected a share of the transactions");
    run(crmlens(tmp.path()).args(["affinity", "--min-confidence", "1.5"]))
        .assert_error(2, "--min-confidence");
    run(crmlens(tmp.path()).args(["affinity", "--customer", "C1"])).assert_error(2, "--next-best");
    run(crmlens(tmp.path()).args(["affinity", "--by", "order"]))
        .assert_error(2, "possible values: basket, customer");
    std::fs::write(
        tmp.path().join("crmlens.toml"),
        "[affinity]\nmin_support = 2\n",
    )
    .unwrap();
    run(crmlens(tmp.path()).args(["affinity"])).assert_error(2, "affinity.min_support");
}
