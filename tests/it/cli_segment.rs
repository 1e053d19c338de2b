//! `crmlens segment …` on the hand-made `value` dataset (tests/slt/data/value/), whose
//! per-customer figures are worked out by hand in tests/slt/value.slt, and on the demo dataset.
//!
//! Purchases (paid, UTC): C1 2024-01-10 50, 05-01 200, 06-30 100; C2 06-01 300; C3 2023-12-01
//! 40; C4 06-20 40; C5 none (cancelled); C6 2024-07-05 (after both as_of dates); C7 03-01 100
//! and 03-01 50; C8 2023-06-30 10.
//!
//! At as_of 2024-05-31: C1 frequency 2, recency 30; C3 1, 182; C7 2, 91; C8 1, 336; C2, C4
//! no purchase yet.
//! At as_of 2024-06-30: C1 3, 0; C2 1, 29; C3 1, 212; C4 1, 10; C7 2, 121; C8 1, 366.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use datafusion::arrow::array::AsArray;
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;

use crate::common::{crmlens, read_parquet, run, tempdir};

struct Setup {
    _tmp: tempfile::TempDir,
    root: PathBuf,
}

impl Setup {
    fn dataset(&self) -> PathBuf {
        self.root.join("data")
    }
    fn segments(&self) -> PathBuf {
        self.root.join("segments")
    }
    fn out(&self) -> PathBuf {
        self.root.join("out")
    }
    fn define(&self, name: &str, text: &str) {
        std::fs::write(self.segments().join(format!("{name}.toml")), text).unwrap();
    }
    fn remove(&self, name: &str) {
        std::fs::remove_file(self.segments().join(format!("{name}.toml"))).unwrap();
    }
    fn segment(&self, args: &[&str]) -> crate::common::Run {
        let mut cmd = crmlens(&self.root);
        cmd.arg("--dataset").arg(self.dataset()).arg("segment");
        cmd.args(args);
        let sub = args[0];
        if sub != "diff" && sub != "export" {
            cmd.arg("--segments").arg(self.segments());
        }
        if sub != "validate" {
            cmd.arg("--out").arg(self.out());
        }
        run(&mut cmd)
    }
    fn members(&self, name: &str, as_of: &str, file: &str) -> BTreeSet<String> {
        ids(&self.out().join(name).join(as_of).join(file))
    }
}

pub fn ids(path: &Path) -> BTreeSet<String> {
    read_parquet(path)
        .iter()
        .flat_map(|b| {
            let c = cast(b.column(0), &DataType::Utf8).unwrap();
            c.as_string::<i32>()
                .iter()
                .map(|v| v.unwrap().to_string())
                .collect::<Vec<_>>()
        })
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn setup() -> Setup {
    let tmp = tempdir();
    let root = tmp.path().to_path_buf();
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(crate::slt::csv_dataset("value", &root.join("data"), false));
    std::fs::create_dir_all(root.join("segments")).unwrap();
    let s = Setup { _tmp: tmp, root };
    s.define(
        "one_time",
        "description = \"Bought once\"\nfilter = \"frequency = 1\"\n",
    );
    s.define(
        "recent",
        "filter = \"recency_days <= 30\"\ncolumns = [\"customer_id\", \"name\", \"recency_days\"]\n",
    );
    s.define(
        "recent_one_time",
        "filter = \"in_segment('one_time') and in_segment('recent')\"\n",
    );
    s.define(
        "mid_recency",
        "filter = \"recency_days between 25 and 60\"\ncolumns = [\"customer_id\", \"name\", \"city\"]\n",
    );
    s.define(
        "big_orders",
        "sql = \"\"\"\nselect customer_id from orders where status = 'paid' and amount >= 200\n\
         and ordered_at <= as_of() + interval '1 day'\n\"\"\"\n",
    );
    s.define(
        "everyone",
        "filter = \"true\"\nholdout = 0.5\ncolumns = [\"customer_id\", \"name\"]\n",
    );
    s
}

fn as_json(r: &crate::common::Run) -> serde_json::Value {
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stdout))
}

#[test]
fn two_runs_on_two_dates_give_hand_computed_members_and_diffs() {
    let s = setup();
    let r = s.segment(&["validate"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);

    let r = s.segment(&["run", "--all", "--as-of", "2024-05-31", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let summary = as_json(&r);
    assert_eq!(summary["ok"], 6);
    assert_eq!(
        s.members("one_time", "2024-05-31", "members.parquet"),
        set(&["C3", "C8"])
    );
    assert_eq!(
        s.members("recent", "2024-05-31", "members.parquet"),
        set(&["C1"])
    );
    assert_eq!(
        s.members("recent_one_time", "2024-05-31", "members.parquet"),
        set(&[])
    );
    assert_eq!(
        s.members("mid_recency", "2024-05-31", "members.parquet"),
        set(&["C1"])
    );
    // O2 (C1, 200) is the only paid order of 200 or more up to 2024-05-31.
    assert_eq!(
        s.members("big_orders", "2024-05-31", "members.parquet"),
        set(&["C1"])
    );
    // C5 and C6 have no purchase but are customers: `true` takes all eight.
    assert_eq!(
        s.members("everyone", "2024-05-31", "members.parquet"),
        set(&["C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8"])
    );
    // No earlier snapshot: everyone entered.
    assert_eq!(
        s.members("one_time", "2024-05-31", "entered.parquet"),
        set(&["C3", "C8"])
    );
    assert_eq!(
        s.members("one_time", "2024-05-31", "exited.parquet"),
        set(&[])
    );

    let r = s.segment(&["run", "--all", "--as-of", "2024-06-30", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let m = |n: &str, f: &str| s.members(n, "2024-06-30", f);
    assert_eq!(
        m("one_time", "members.parquet"),
        set(&["C2", "C3", "C4", "C8"])
    );
    assert_eq!(m("one_time", "entered.parquet"), set(&["C2", "C4"]));
    assert_eq!(m("one_time", "exited.parquet"), set(&[]));
    assert_eq!(m("recent", "members.parquet"), set(&["C1", "C2", "C4"]));
    assert_eq!(m("recent_one_time", "members.parquet"), set(&["C2", "C4"]));
    assert_eq!(m("mid_recency", "members.parquet"), set(&["C2"]));
    assert_eq!(m("mid_recency", "entered.parquet"), set(&["C2"]));
    assert_eq!(m("mid_recency", "exited.parquet"), set(&["C1"]));
    assert_eq!(m("big_orders", "members.parquet"), set(&["C1", "C2"]));

    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(s.out().join("mid_recency/2024-06-30/manifest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(manifest["count"], 1);
    assert_eq!(manifest["previous_as_of"], "2024-05-31");
    assert_eq!(manifest["entered"], 1);
    assert_eq!(manifest["exited"], 1);
    assert_eq!(manifest["definition_hash"].as_str().unwrap().len(), 64);
    assert_eq!(manifest["dataset_fingerprint"].as_str().unwrap().len(), 64);
    assert_eq!(
        manifest["columns"],
        serde_json::json!(["customer_id", "name", "city", "is_control"])
    );

    // diff between any two snapshots, both ways round.
    let r = s.segment(&["diff", "mid_recency", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rows = as_json(&r);
    let changes: BTreeSet<(String, String)> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["change"].as_str().unwrap().to_string(),
                r["customer_id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        changes,
        [("entered", "C2"), ("exited", "C1")]
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    );
    let r = s.segment(&[
        "diff",
        "one_time",
        "--from",
        "2024-06-30",
        "--to",
        "2024-05-31",
        "--format",
        "csv",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout
            .lines()
            .filter(|l| l.starts_with("exited,"))
            .count(),
        2
    );
    assert_eq!(
        r.stdout
            .lines()
            .filter(|l| l.starts_with("entered,"))
            .count(),
        0
    );

    // list shows the latest snapshot's size; show the trend.
    let r = s.segment(&["list", "--format", "json"]);
    let list = as_json(&r);
    let one = list
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["segment"] == "one_time")
        .unwrap();
    assert_eq!(one["members"], 4);
    assert_eq!(one["snapshots"], 2);
    assert_eq!(one["latest_as_of"], "2024-06-30");
    let r = s.segment(&["show", "recent_one_time", "--format", "json"]);
    let show = as_json(&r);
    assert_eq!(
        show["depends_on"],
        serde_json::json!(["one_time", "recent"])
    );
    assert!(
        show["sql"]
            .as_str()
            .unwrap()
            .contains("IN (SELECT customer_id FROM segment")
    );
    let sizes: Vec<u64> = show["snapshots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["members"].as_u64().unwrap())
        .collect();
    assert_eq!(sizes, [0, 2]);
    let r = s.segment(&["show", "recent_one_time", "--format", "table"]);
    assert!(r.stdout.contains("2024-06-30"), "{}", r.stdout);
}

/// The holdout group as documented in src/segments/run.rs, written again here: FNV-1a 64 of
/// `segment 0x1F customer_id`, SplitMix64 finaliser, top 53 bits as a share.
fn documented_control(segment: &str, id: &str, share: f64) -> bool {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in segment.bytes().chain([0x1f]).chain(id.bytes()) {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    let mut z = h;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
    z ^= z >> 31;
    ((z >> 11) as f64 / (1u64 << 53) as f64) < share
}

fn control_of(path: &Path) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    for b in read_parquet(path) {
        let ids = cast(b.column(0), &DataType::Utf8).unwrap();
        let ids = ids.as_string::<i32>();
        let i = b.schema().index_of("is_control").unwrap();
        let c = b.column(i).as_boolean();
        for r in 0..b.num_rows() {
            out.push((ids.value(r).to_string(), c.value(r)));
        }
    }
    out
}

#[test]
fn holdout_export_and_masking() {
    let s = setup();
    for as_of in ["2024-05-31", "2024-06-30"] {
        let r = s.segment(&["run", "everyone", "one_time", "--as-of", as_of]);
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    // The same customer is in the same group on both dates, as the documented hash says.
    for as_of in ["2024-05-31", "2024-06-30"] {
        let groups = control_of(&s.out().join("everyone").join(as_of).join("members.parquet"));
        assert_eq!(groups.len(), 8);
        for (id, control) in &groups {
            assert_eq!(*control, documented_control("everyone", id, 0.5), "{id}");
        }
    }
    let expected_control: BTreeSet<String> = ["C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8"]
        .iter()
        .filter(|id| documented_control("everyone", id, 0.5))
        .map(|s| s.to_string())
        .collect();

    // Export the control group as CSV with the name hashed (sha256 of the trimmed name).
    let out = s.root.join("control.csv");
    let r = s.segment(&[
        "export",
        "everyone",
        "--group",
        "control",
        "--mask",
        "name",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = std::fs::read_to_string(&out).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("customer_id,name,is_control"));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let exported: BTreeSet<String> = rows.iter().map(|r| r[0].to_string()).collect();
    assert_eq!(exported, expected_control);
    // printf %s Anna | sha256sum
    if let Some(anna) = rows.iter().find(|r| r[0] == "C1") {
        assert_eq!(
            anna[1],
            "bf4fccd616251b678c56b9cb7a46819b1266853c180637642f5bc7d6b01f5554"
        );
    }
    assert!(!text.contains("Anna") && !text.contains("Boris"));

    // Treatment as JSON lines with chosen columns, names redacted; the earlier snapshot.
    let out = s.root.join("treatment.jsonl");
    let r = s.segment(&[
        "export",
        "everyone",
        "--snapshot",
        "2024-05-31",
        "--group",
        "treatment",
        "--columns",
        "customer_id,name",
        "--mask",
        "name",
        "--mask-mode",
        "redact",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 8 - expected_control.len());
    for l in &lines {
        assert!(l["name"].is_null(), "{l}");
        assert!(!expected_control.contains(l["customer_id"].as_str().unwrap()));
        assert_eq!(l.as_object().unwrap().len(), 2);
    }

    // Parquet, every column.
    let out = s.root.join("one_time.parquet");
    let r = s.segment(&["export", "one_time", "--output", out.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(ids(&out), set(&["C2", "C3", "C4", "C8"]));

    // Mistakes are named.
    let r = s.segment(&["export", "everyone", "--mask", "emial"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("`emial` is not a column"), "{}", r.stderr);
    let r = s.segment(&["export", "everyone", "--snapshot", "2020-01-01"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("2024-05-31, 2024-06-30"), "{}", r.stderr);
    let r = s.segment(&["export", "nobody"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("has no snapshot"), "{}", r.stderr);
}

#[test]
fn validate_names_file_column_closest_names_cycles_and_duplicates() {
    let s = setup();
    s.define("typo", "filter = \"frequncy > 1 and monetary > 0\"\n");
    s.define("loop_a", "filter = \"in_segment('loop_b')\"\n");
    s.define("loop_b", "filter = \"true\"\ndepends_on = [\"loop_a\"]\n");
    s.define(
        "bad_export",
        "filter = \"true\"\ncolumns = [\"customer_id\", \"emial\"]\n",
    );
    s.define("no_id", "sql = \"select name from customers\"\n");
    std::fs::create_dir_all(s.segments().join("more")).unwrap();
    std::fs::write(
        s.segments().join("more/one_time.toml"),
        "filter = \"true\"\n",
    )
    .unwrap();
    let r = s.segment(&["validate", "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let report = as_json(&r);
    let problems: Vec<(String, String, String)> = report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["segment"].as_str().unwrap_or("").to_string(),
                p["file"].as_str().unwrap().to_string(),
                p["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let find = |seg: &str, text: &str| {
        problems
            .iter()
            .find(|(s, _, m)| s == seg && m.contains(text))
            .unwrap_or_else(|| panic!("no problem for {seg} with {text:?}: {problems:#?}"))
    };
    let (_, file, message) = find("typo", "unknown column `frequncy`");
    assert!(file.ends_with("typo.toml"));
    assert!(message.contains("closest: `frequency`"), "{message}");
    find("loop_a", "cycle: loop_a → loop_b → loop_a");
    find("loop_b", "cycle");
    find("bad_export", "unknown column `emial`");
    find("no_id", "must return a `customer_id` column");
    let (_, file, _) = find("one_time", "duplicate segment name `one_time`");
    assert!(file.ends_with("one_time.toml"));
    assert_eq!(
        problems
            .iter()
            .filter(|(s, _, m)| s == "one_time" && m.contains("duplicate"))
            .count(),
        2
    );
}

#[test]
fn one_failing_segment_does_not_stop_the_others() {
    let s = setup();
    s.define("typo", "filter = \"frequncy > 1\"\n");
    s.define(
        "needs_typo",
        "filter = \"in_segment('typo') or in_segment('one_time')\"\n",
    );
    s.define(
        "runtime_error",
        "sql = \"select cast('x' as int) as customer_id\"\n",
    );
    let r = s.segment(&["run", "--all", "--as-of", "2024-06-30", "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let summary = as_json(&r);
    let failed: BTreeSet<String> = summary["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(failed, set(&["needs_typo", "runtime_error", "typo"]));
    let needs = summary["failures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "needs_typo")
        .unwrap();
    assert!(
        needs["error"]
            .as_str()
            .unwrap()
            .contains("needs segment `typo`"),
        "{needs}"
    );
    assert_eq!(summary["ok"], 6);
    assert_eq!(
        s.members("one_time", "2024-06-30", "members.parquet"),
        set(&["C2", "C3", "C4", "C8"])
    );
    assert!(!s.out().join("typo").exists());
}

#[test]
fn rerun_replaces_the_snapshot_and_the_lock_keeps_runs_apart() {
    let s = setup();
    let r = s.segment(&["run", "one_time", "--as-of", "2024-06-30"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // Same as_of, changed definition: replaced, nothing left beside it.
    s.remove("one_time");
    s.define(
        "one_time",
        "filter = \"frequency = 1 and recency_days < 100\"\n",
    );
    let r = s.segment(&["run", "one_time", "--as-of", "2024-06-30"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        s.members("one_time", "2024-06-30", "members.parquet"),
        set(&["C2", "C4"])
    );
    let entries: Vec<String> = std::fs::read_dir(s.out().join("one_time"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(entries, ["2024-06-30"]);

    // A run holding the lock: the next one waits, then fails naming the lock.
    let lock = std::fs::OpenOptions::new()
        .write(true)
        .open(s.out().join(".lock"))
        .unwrap();
    lock.lock().unwrap();
    let r = s.segment(&["run", "one_time", "--as-of", "2024-06-30", "--wait", "1"]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.stderr.contains("another segment run holds the lock"),
        "{}",
        r.stderr
    );
    lock.unlock().unwrap();

    // Two runs at once on one folder: both finish, one after the other, and every snapshot
    // is whole.
    let spawn = |as_of: &str| {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("crmlens"));
        cmd.current_dir(&s.root)
            .args(["--dataset"])
            .arg(s.dataset())
            .args([
                "segment",
                "run",
                "--all",
                "-q",
                "--as-of",
                as_of,
                "--segments",
            ])
            .arg(s.segments())
            .arg("--out")
            .arg(s.out())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped());
        cmd.spawn().unwrap()
    };
    let a = spawn("2024-06-30");
    let b = spawn("2024-05-31");
    crate::common::wait_all_ok([a, b]);
    for name in ["one_time", "recent", "everyone"] {
        for as_of in ["2024-05-31", "2024-06-30"] {
            let dir = s.out().join(name).join(as_of);
            for f in [
                "members.parquet",
                "entered.parquet",
                "exited.parquet",
                "manifest.json",
            ] {
                assert!(dir.join(f).is_file(), "{}", dir.join(f).display());
            }
        }
    }
    // one_time is now `frequency = 1 and recency_days < 100`: C3 (182) and C8 (336) are out.
    assert_eq!(
        s.members("one_time", "2024-05-31", "members.parquet"),
        set(&[])
    );
    assert_eq!(
        s.members("recent", "2024-05-31", "members.parquet"),
        set(&["C1"])
    );
}

#[test]
fn shipped_segments_run_on_the_demo_dataset() {
    let tmp = tempdir();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = tmp.path().join("out");
    let r = run(crmlens(tmp.path())
        .arg("--dataset")
        .arg(crate::common::demo())
        .args(["segment", "validate", "--segments"])
        .arg(repo.join("queries/segments")));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let r = run(crmlens(tmp.path())
        .arg("--dataset")
        .arg(crate::common::demo())
        .args(["--format", "json", "segment", "run", "--all", "--segments"])
        .arg(repo.join("queries/segments"))
        .arg("--out")
        .arg(&out));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let summary = as_json(&r);
    let shipped = std::fs::read_dir(repo.join("queries/segments"))
        .unwrap()
        .count();
    assert_eq!(summary["ok"], shipped);
    for seg in summary["segments"].as_array().unwrap() {
        let count = seg["count"].as_u64().unwrap();
        assert!(count > 0 && count < 5000, "{seg}");
    }
    // The model-based segment got a fitted model rather than NULL p_alive.
    let manifest =
        std::fs::read_to_string(out.join("alive_but_quiet/2025-12-31/manifest.json")).unwrap();
    assert!(manifest.contains("fitted in this run"), "{manifest}");
    // vip_at_risk is exactly vip ∩ at_risk_high_value.
    let m = |n: &str| ids(&out.join(n).join("2025-12-31/members.parquet"));
    let both: BTreeSet<String> = m("vip")
        .intersection(&m("at_risk_high_value"))
        .cloned()
        .collect();
    assert_eq!(m("vip_at_risk"), both);
}

/// Under a scope, every member of every shipped segment (and so every export) is a customer
/// of the scope's manager, by the customers file read directly; a scoped run does not diff
/// against an unscoped snapshot.
#[test]
fn scoped_segments_hold_only_the_scope_customers() {
    let tmp = tempdir();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut owned = BTreeSet::new();
    for b in read_parquet(&crate::common::demo().join("customers.parquet")) {
        let ids = cast(b.column_by_name("customer_id").unwrap(), &DataType::Utf8).unwrap();
        let owner = cast(
            b.column_by_name("owner_manager_id").unwrap(),
            &DataType::Utf8,
        )
        .unwrap();
        for i in 0..b.num_rows() {
            if owner.is_valid(i) && owner.as_string::<i32>().value(i) == "M001" {
                owned.insert(ids.as_string::<i32>().value(i).to_string());
            }
        }
    }
    assert!(!owned.is_empty());
    let segment_run = |scope: Option<&str>, out: &str| {
        let mut cmd = crmlens(tmp.path());
        cmd.arg("--dataset")
            .arg(crate::common::demo())
            .args(["--format", "json"]);
        if let Some(s) = scope {
            cmd.args(["--scope", s]);
        }
        cmd.args(["segment", "run", "--all", "--out", out, "--segments"])
            .arg(repo.join("queries/segments"));
        run(&mut cmd)
    };
    let r = segment_run(Some("manager=M001"), "scoped");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let summary = as_json(&r);
    let mut total = 0;
    for seg in summary["segments"].as_array().unwrap() {
        let name = seg["name"].as_str().unwrap();
        let members = ids(&tmp
            .path()
            .join("scoped/scope-manager=M001")
            .join(name)
            .join("2025-12-31/members.parquet"));
        assert!(
            members.is_subset(&owned),
            "{name}: {:?}",
            members.difference(&owned).collect::<Vec<_>>()
        );
        total += members.len();
    }
    assert!(total > 0);
    let manifest = std::fs::read_to_string(
        tmp.path()
            .join("scoped/scope-manager=M001/champions/2025-12-31/manifest.json"),
    )
    .unwrap();
    assert!(
        manifest.contains("\"scope\": \"manager=M001\""),
        "{manifest}"
    );
    // An unscoped snapshot then a scoped run on the same folder: the scoped run writes into the
    // scope's own folder, so it neither diffs against nor replaces the company-wide snapshot.
    let r = segment_run(None, "mixed");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = run(crmlens(tmp.path())
        .arg("--dataset")
        .arg(crate::common::demo())
        .args([
            "--scope",
            "manager=M001",
            "--as-of",
            "2026-01-31",
            "--format",
            "json",
        ])
        .args([
            "segment",
            "run",
            "champions",
            "--out",
            "mixed",
            "--segments",
        ])
        .arg(repo.join("queries/segments")));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let summary = as_json(&r);
    assert_eq!(
        summary["segments"][0]["previous_as_of"],
        serde_json::Value::Null
    );
    assert!(
        tmp.path()
            .join("mixed/scope-manager=M001/champions/2026-01-31/manifest.json")
            .is_file()
    );
    let company =
        std::fs::read_to_string(tmp.path().join("mixed/champions/2025-12-31/manifest.json"))
            .unwrap();
    assert!(company.contains("\"scope\": null"), "{company}");
    assert!(!tmp.path().join("mixed/champions/2026-01-31").exists());
}
