//! The documentation's commands still parse: every `crmlens …` command shown in README.md and
//! docs/**/*.md — lines of ```sh / ```bash / ```console / ```shell blocks, lines starting with
//! `$ crmlens ` (or `crmlens ` in a four-space-indented code block; a prose line may start with
//! the word), and inline code spans starting with `crmlens ` — names a subcommand path the
//! built binary has, only flags that the `--help` of the command they follow lists, and for a
//! flag with a fixed set of values (`--format`, `--by`, …) one of them. A renamed flag, command
//! or value fails here instead of in a reader's terminal. Upper-case words (`COMMAND`) and `…`
//! are placeholders.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::common::{crmlens, run, tempdir};

mod extract;

use extract::{Example, examples};

/// What `crmlens PATH --help` says: the subcommands and the flags.
#[derive(Debug, Default)]
struct Help {
    commands: Vec<String>,
    /// `--name` and `-x` → its flag.
    flags: HashMap<String, Flag>,
}

#[derive(Debug, Default, Clone)]
struct Flag {
    takes_value: bool,
    /// The values a value-enum flag accepts (empty: any value).
    values: Vec<String>,
}

/// Reads clap's long help: `Commands:` entries at an indent of two, option lines (`-f, --file
/// <FILE>`, `      --by <DIM>`, `  -v, --verbose...`) at two or six, and their possible values
/// as `- name: description` lines or `[possible values: a, b]`.
fn parse_help(text: &str) -> Help {
    let mut help = Help::default();
    let mut in_commands = false;
    let mut current: Vec<String> = Vec::new();
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        let body = line.trim();
        if body == "Commands:" {
            in_commands = true;
            continue;
        }
        if indent == 0 {
            in_commands = false;
            current.clear();
            continue;
        }
        if in_commands {
            if indent == 2 {
                help.commands
                    .extend(body.split_whitespace().next().map(String::from));
            }
            continue;
        }
        if (indent == 2 || indent == 6) && body.starts_with('-') {
            current.clear();
            for part in body.split(", ") {
                let end = part.find([' ', '=', '.']).unwrap_or(part.len());
                let rest = &part[end..];
                current.push(part[..end].to_string());
                help.flags.insert(
                    part[..end].to_string(),
                    Flag {
                        takes_value: rest.starts_with(" <") || rest.starts_with(" [<"),
                        values: vec![],
                    },
                );
            }
            continue;
        }
        let values: Vec<String> = if let Some(list) = body
            .strip_prefix("[possible values: ")
            .and_then(|l| l.strip_suffix(']'))
        {
            list.split(", ").map(String::from).collect()
        } else if let Some(item) = body.strip_prefix("- ").filter(|_| indent >= 10) {
            item.split(':')
                .next()
                .map(String::from)
                .into_iter()
                .collect()
        } else {
            continue;
        };
        for name in &current {
            if let Some(flag) = help.flags.get_mut(name) {
                flag.values.extend(values.iter().cloned());
            }
        }
    }
    help
}

/// Runs `crmlens PATH --help` once per path.
struct Helps {
    dir: tempfile::TempDir,
    cache: HashMap<Vec<String>, Option<Help>>,
}

impl Helps {
    fn new() -> Helps {
        Helps {
            dir: tempdir(),
            cache: HashMap::new(),
        }
    }

    /// The help of a subcommand path; `None` when the binary has no such command.
    fn get(&mut self, path: &[String]) -> Option<&Help> {
        let dir = self.dir.path();
        self.cache
            .entry(path.to_vec())
            .or_insert_with(|| {
                let r = run(crmlens(dir).args(path).arg("--help"));
                (r.code == 0).then(|| parse_help(&r.stdout))
            })
            .as_ref()
    }
}

/// Commands of the `distributed` feature: a default build does not have them, so their
/// examples are checked only in a build with the feature (`--engine` is a global flag of every
/// build, which says at run time how to rebuild, so it is checked always).
const CLUSTER_COMMANDS: &[&str] = &["scheduler", "executor"];

/// Checks one example: `Ok(true)` when it parses, `Ok(false)` when it was skipped (a command
/// of a feature this build lacks), else what is wrong.
fn check(helps: &mut Helps, args: &[String]) -> Result<bool, String> {
    let mut path: Vec<String> = Vec::new();
    let mut descend = true;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        if arg == "--" {
            break;
        }
        let here = format!("crmlens {}", path.join(" "));
        let help = helps
            .get(&path)
            .ok_or_else(|| format!("`{here} --help` fails"))?;
        // (flag, value written into the same word)
        let flags: Vec<(String, Option<String>)> = if let Some(long) = arg.strip_prefix("--") {
            match long.split_once('=') {
                Some((name, value)) => vec![(format!("--{name}"), Some(value.to_string()))],
                None => vec![(arg.clone(), None)],
            }
        } else if let Some(shorts) = arg
            .strip_prefix('-')
            .filter(|s| s.starts_with(|c: char| c.is_ascii_alphabetic()))
        {
            // `-vv`, `-q`, `-f FILE`, `-fFILE`
            let mut flags = vec![];
            for (at, c) in shorts.char_indices() {
                let flag = format!("-{c}");
                let takes_value = help.flags.get(&flag).is_some_and(|f| f.takes_value);
                let rest = &shorts[at + c.len_utf8()..];
                let inline = (takes_value && !rest.is_empty()).then(|| rest.to_string());
                flags.push((flag, inline.clone()));
                if inline.is_some() || takes_value {
                    break;
                }
            }
            flags
        } else {
            if descend && !help.commands.is_empty() {
                if help.commands.contains(arg) {
                    path.push(arg.clone());
                } else if path.is_empty()
                    && CLUSTER_COMMANDS.contains(&arg.as_str())
                    && cfg!(not(feature = "distributed"))
                {
                    return Ok(false);
                } else if arg == "…"
                    || arg == "..."
                    || arg.chars().all(|c| c.is_ascii_uppercase() || c == '_')
                {
                    // A placeholder (`crmlens COMMAND --help`): any command of this level.
                    descend = false;
                } else {
                    return Err(format!(
                        "`{arg}` is not a command of `{here}` (it has: {})",
                        help.commands.join(", ")
                    ));
                }
            }
            continue;
        };
        for (name, inline) in flags {
            let flag = help
                .flags
                .get(&name)
                .ok_or_else(|| format!("`{here} --help` does not list {name}"))?;
            let value = match inline {
                Some(v) => Some(v),
                None if flag.takes_value => args.next().cloned(),
                None => None,
            };
            if let Some(value) = value.filter(|_| !flag.values.is_empty()) {
                for part in value.split(',') {
                    let placeholder = part.chars().all(|c| c.is_ascii_uppercase());
                    if !placeholder && !flag.values.iter().any(|v| v == part) {
                        return Err(format!(
                            "{name} {part}: `{here} --help` accepts {}",
                            flag.values.join(", ")
                        ));
                    }
                }
            }
        }
    }
    Ok(true)
}

/// Checks every example; the problems, one line each, and how many were checked.
fn problems(examples: &[Example]) -> (Vec<String>, usize) {
    let mut helps = Helps::new();
    let mut checked = 0;
    let mut problems = Vec::new();
    for e in examples {
        match check(&mut helps, &e.args) {
            Ok(true) => checked += 1,
            Ok(false) => {}
            Err(why) => problems.push(format!("{}: crmlens {}: {why}", e.place, e.args.join(" "))),
        }
    }
    (problems, checked)
}

/// README.md and every Markdown file under docs/.
fn documents() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("docs/ readable") {
            let path = entry.expect("docs/ entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "md") {
                out.push(path);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![root.join("README.md")];
    walk(&root.join("docs"), &mut files);
    files.sort();
    files
}

#[test]
fn every_documented_command_parses() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut all = Vec::new();
    for path in documents() {
        let text = std::fs::read_to_string(&path).expect("readable");
        let name = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .display()
            .to_string();
        all.extend(examples(&name, &text));
    }
    let (problems, checked) = problems(&all);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // The docs show well over a hundred commands; far fewer means the extraction broke.
    assert!(checked >= 100, "only {checked} commands found in the docs");
}

#[test]
fn extraction_reads_shell_blocks_prompts_and_code_spans() {
    let doc = r#"Prose naming `crmlens rfm --grid` and `cargo test`.

```sh
crmlens sql "select 1 as x" --format json   # a comment --not-a-flag
echo "show tables" | crmlens sql --dataset 'my data' > out.csv 2>&1
FOO=1 target/release/crmlens rfm \
    --customers
cargo run --release -- run --dataset datasets/demo
crmlens segment diff champions [--from DATE] [--to DATE]
```

```toml
model_file = "x"   # from `crmlens clv fit --bogus`
```

```console
host$ crmlens schema --table orders
```
$ crmlens validate
crmlens had to choose: a prose line, not a command.

    crmlens churn --from 2025-01
"#;
    let got: Vec<String> = examples("fake.md", doc)
        .iter()
        .map(|e| format!("{} {}", e.place, e.args.join(" ")))
        .collect();
    assert_eq!(
        got,
        [
            "fake.md:1 rfm --grid",
            "fake.md:4 sql select 1 as x --format json",
            "fake.md:5 sql --dataset my data",
            "fake.md:6 rfm --customers",
            "fake.md:8 run --dataset datasets/demo",
            "fake.md:9 segment diff champions --from DATE --to DATE",
            "fake.md:17 schema --table orders",
            "fake.md:19 validate",
            "fake.md:22 churn --from 2025-01",
        ]
    );
}

#[test]
fn a_made_up_flag_command_or_value_fails() {
    let doc = "```sh
crmlens rfm --dataset datasets/demo --grid -q
crmlens rfm --no-such-flag
crmlens funnel pipline
crmlens rfm --steps a,b
crmlens abc-xyz --by supplier
crmlens sql -x \"select 1\"
```
";
    let (problems, checked) = problems(&examples("fake.md", doc));
    assert_eq!(checked, 1, "{problems:#?}");
    let expected = [
        ("fake.md:3", "does not list --no-such-flag"),
        (
            "fake.md:4",
            "`pipline` is not a command of `crmlens funnel`",
        ),
        // --steps exists, but on `funnel events`, not on `rfm`.
        ("fake.md:5", "`crmlens rfm --help` does not list --steps"),
        (
            "fake.md:6",
            "--by supplier: `crmlens abc-xyz --help` accepts customer, product",
        ),
        ("fake.md:7", "does not list -x"),
    ];
    assert_eq!(problems.len(), expected.len(), "{problems:#?}");
    for (problem, (place, why)) in problems.iter().zip(expected) {
        assert!(
            problem.starts_with(place) && problem.contains(why),
            "{problem}"
        );
    }
}

/// The first ```toml block of a Markdown text.
fn toml_block(text: &str) -> &str {
    let start = text.find("```toml\n").expect("a toml block") + "```toml\n".len();
    let len = text[start..].find("```").expect("the block ends");
    &text[start..start + len]
}

#[test]
fn the_configuration_example_is_accepted() {
    // Every key of docs/configuration.md's example, as written: an unknown or misspelt key
    // would be a usage error (exit 2). The files it names are put beside it, and the CLV model
    // it names must reach customer_features, so the file was read, not ignored.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("docs/configuration.md")).expect("readable");
    let tmp = tempdir();
    let demo = crate::common::demo();
    let demo = demo.to_str().expect("utf-8 path");
    let fit = run(crmlens(tmp.path()).args([
        "clv",
        "fit",
        "--dataset",
        demo,
        "--save",
        "clv-model.json",
    ]));
    assert_eq!(fit.code, 0, "{}", fit.stderr);
    std::fs::copy(
        root.join("queries/rfm_segments.toml"),
        tmp.path().join("my_rfm_segments.toml"),
    )
    .expect("copied");
    std::fs::write(tmp.path().join("crmlens.toml"), toml_block(&text)).expect("written");
    std::fs::write(tmp.path().join("empty.toml"), "").expect("written");
    let with_clv = |config: &str| {
        let r = run(crmlens(tmp.path()).args([
            "--config",
            config,
            "--dataset",
            demo,
            "--format",
            "csv",
            "sql",
            "select count(clv) as n from customer_features",
        ]));
        assert_eq!(r.code, 0, "{}", r.stderr);
        r.stdout
            .trim_start_matches("n\n")
            .trim()
            .parse::<u64>()
            .expect(&r.stdout)
    };
    // Without a model file no customer has a CLV; with the example's, the purchasing ones do.
    assert_eq!(with_clv("empty.toml"), 0);
    assert!(with_clv("crmlens.toml") > 0);
}
