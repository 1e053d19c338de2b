//! The layering of docs/architecture.md, held against the code: every `crate::MODULE` that a
//! file of `src/` names (outside its test module) is in a lower layer than the file's own
//! top-level module, so there is no import circle between modules and no import that runs up.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The top-level modules of `src/`, lowest first: a module may only name modules before it.
/// The order refines the layers of docs/architecture.md into one line.
const ORDER: &[&str] = &[
    "error",
    "hint",
    "analytics",
    "columns",
    "config",
    "output",
    "dataset",
    "functions",
    "views",
    "distributed",
    "engine",
    "metrics",
    "validate",
    "polars",
    "generate",
    "import",
    "segments",
    "report",
    "nightly",
    "cli",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file of `src/` belongs to (`None` for lib.rs and main.rs).
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel.components().next()?.as_os_str().to_string_lossy();
    let name = first.strip_suffix(".rs").unwrap_or(&first).to_string();
    (name != "lib" && name != "main").then_some(name)
}

/// The top-level modules a piece of code names as `crate::MODULE`.
fn named_modules(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (i, _) in code.match_indices("crate::") {
        let before = code[..i].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue; // `crmlens_crate::` or similar, not our crate path
        }
        let rest = &code[i + "crate::".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        // `crate::{Error, Result}` and `crate::Result`: the root re-exports of `error`.
        if rest.starts_with('{') || name.chars().next().is_some_and(char::is_uppercase) {
            out.insert("error".to_string());
        } else if !name.is_empty() {
            out.insert(name);
        }
    }
    out
}

/// Violations of the order in `src/`: (file, its module, the module it names).
fn violations(src: &Path) -> Vec<(PathBuf, String, String)> {
    let rank = |m: &str| ORDER.iter().position(|o| *o == m);
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let Some(module) = module_of(src, &file) else {
            continue;
        };
        let text = std::fs::read_to_string(&file).unwrap();
        // Test modules may use anything (they are not part of the layering), and comments
        // may link to any module.
        let code: String = text
            .split("#[cfg(test)]")
            .next()
            .unwrap_or("")
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        let own = rank(&module)
            .unwrap_or_else(|| panic!("{}: module `{module}` is not in ORDER", file.display()));
        for named in named_modules(&code) {
            if named == module {
                continue;
            }
            match rank(&named) {
                Some(r) if r < own => {}
                _ => out.push((file.clone(), module.clone(), named)),
            }
        }
    }
    out
}

#[test]
fn no_module_names_one_above_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let found = violations(&src);
    assert!(
        found.is_empty(),
        "imports that run up or across (see docs/architecture.md):\n{}",
        found
            .iter()
            .map(|(f, m, n)| format!("  {} ({m}) names crate::{n}", f.display()))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn the_check_can_fail() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    std::fs::create_dir_all(src.join("config")).unwrap();
    std::fs::write(src.join("config/mod.rs"), "use crate::engine::Engine;\n").unwrap();
    std::fs::write(
        src.join("engine.rs"),
        "//! See [`crate::cli`].\nuse crate::config::Config;\nuse crate::{Error, Result};\n#[cfg(test)]\nuse crate::cli;\n",
    )
    .unwrap();
    let found = violations(src);
    assert_eq!(
        found
            .iter()
            .map(|(_, m, n)| (m.as_str(), n.as_str()))
            .collect::<Vec<_>>(),
        vec![("config", "engine")]
    );
}
