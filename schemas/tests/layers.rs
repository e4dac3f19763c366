// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

//! The domain's layers import downwards only: a module may name `crate::<layer>` only for a
//! layer listed before its own (see the crate documentation). Test files of a layer count as
//! part of it.

use std::path::{Path, PathBuf};

/// The layers, lowest first.
const LAYERS: [&str; 9] = [
    "value",
    "appeal",
    "event",
    "policy",
    "schedule",
    "command",
    "lifecycle",
    "stats",
    "reference",
];

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The layer a source file belongs to: its first path component under `src/`.
fn layer_of(src: &Path, file: &Path) -> Option<usize> {
    let relative = file.strip_prefix(src).ok()?;
    let first = relative.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    LAYERS.iter().position(|l| *l == name)
}

/// Every `crate::<name>` the text refers to.
fn crate_paths(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("crate::") {
        let after = &rest[i + "crate::".len()..];
        let name: String = after
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        // `hotline_crate::…` or `some_crate::…` are not this crate.
        let before = rest[..i].chars().next_back();
        if !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            found.push(name);
        }
        rest = after;
    }
    found
}

/// The upward imports in the sources under `src`, as `file: names layer`.
fn upward_imports(src: &Path) -> Vec<String> {
    let mut files = Vec::new();
    sources(src, &mut files);
    let mut wrong = Vec::new();
    for file in files {
        let Some(own) = layer_of(src, &file) else {
            continue;
        };
        let text = std::fs::read_to_string(&file).unwrap();
        for name in crate_paths(&text) {
            match LAYERS.iter().position(|l| *l == name) {
                Some(layer) if layer <= own => {}
                Some(_) => wrong.push(format!("{}: imports {name}", file.display())),
                None => wrong.push(format!(
                    "{}: crate::{name} is not a layer (name the layer's module)",
                    file.display()
                )),
            }
        }
    }
    wrong
}

#[test]
fn layers_import_downwards_only() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let wrong = upward_imports(&src);
    assert!(wrong.is_empty(), "upward imports:\n{}", wrong.join("\n"));
}

#[test]
fn every_source_file_is_in_a_layer() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let outside: Vec<_> = files
        .iter()
        .filter(|f| f.file_name().is_none_or(|n| n != "lib.rs") && layer_of(&src, f).is_none())
        .collect();
    assert!(outside.is_empty(), "not in a layer: {outside:?}");
}

#[test]
fn an_upward_import_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    std::fs::create_dir_all(src.join("appeal")).unwrap();
    std::fs::write(src.join("appeal/mod.rs"), "use crate::lifecycle::decide;\n").unwrap();
    std::fs::write(src.join("stats.rs"), "use crate::appeal::Appeal;\n").unwrap();
    std::fs::write(src.join("schedule.rs"), "use crate::timer::fire;\n").unwrap();
    let wrong = upward_imports(src);
    assert_eq!(wrong.len(), 2, "{wrong:?}");
    assert!(wrong[0].contains("imports lifecycle") || wrong[1].contains("imports lifecycle"));
    assert!(
        wrong
            .iter()
            .any(|w| w.contains("crate::timer is not a layer"))
    );
}
