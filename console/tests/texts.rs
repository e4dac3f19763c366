//! Every text a page asks for exists in every language: the keys named in the templates and in
//! the console's code (`t("…")`, `t1("…"`, `ta("…"`), and the texts of the codes pages show
//! (`tr.code("role", …)`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::Path;

use hotline_locales::{LANGUAGES, Localizer};
use hotline_schemas::{EventType, Rating, Role, Status};
use strum::IntoEnumIterator;

/// The keys asked for in the files under `dir` with extension `ext`.
fn keys_in(dir: &Path, ext: &str, found: &mut BTreeSet<String>) {
    let re = regex::Regex::new(r#"\bt[1a]?\("([a-z0-9-]+)""#).unwrap();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            keys_in(&path, ext, found);
        } else if path.extension().is_some_and(|e| e == ext) {
            let text = std::fs::read_to_string(&path).unwrap();
            found.extend(re.captures_iter(&text).map(|c| c[1].to_owned()));
        }
    }
}

#[test]
fn every_key_a_page_uses_has_text_in_every_language() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut keys = BTreeSet::new();
    keys_in(&root.join("templates"), "html", &mut keys);
    keys_in(&root.join("src"), "rs", &mut keys);
    assert!(keys.len() > 20, "the scan finds the keys: {keys:?}");
    keys.extend(Role::iter().map(|r| format!("role-{r}")));
    keys.extend(Status::iter().map(|s| format!("status-{s}")));
    keys.extend(Rating::iter().map(|r| format!("rating-{r}")));
    keys.extend(EventType::iter().map(|e| format!("event-{e}")));
    keys.extend(["follow-done-rated", "follow-done-supplemented"].map(String::from));
    keys.extend(["added", "disabled", "enabled", "password"].map(|d| format!("admin-done-{d}")));
    let localizer = Localizer::new().unwrap();
    let missing: Vec<String> = LANGUAGES
        .iter()
        .flat_map(|lang| {
            keys.iter()
                .filter(|key| !localizer.has(lang, key))
                .map(move |key| format!("{lang}: {key}"))
        })
        .collect();
    assert!(missing.is_empty(), "texts missing: {missing:?}");
}

#[test]
fn the_scan_catches_a_missing_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("page.html"),
        r#"{{ tr.t("no-such-key-anywhere") }}"#,
    )
    .unwrap();
    let mut keys = BTreeSet::new();
    keys_in(dir.path(), "html", &mut keys);
    let localizer = Localizer::new().unwrap();
    assert!(keys.iter().any(|k| !localizer.has("zh-CN", k)));
}

#[test]
fn both_languages_define_the_same_texts() {
    let ids = |source: &str| -> BTreeSet<String> {
        source
            .lines()
            .filter_map(|l| l.split_once(" = ").map(|(id, _)| id))
            .filter(|id| !id.starts_with(['#', ' ', '.', '[', '*']))
            .map(str::to_owned)
            .collect()
    };
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../locales");
    for file in hotline_locales::FILES {
        let read = |lang: &str| std::fs::read_to_string(dir.join(lang).join(file)).unwrap();
        let zh = ids(&read("zh-CN"));
        let en = ids(&read("en-US"));
        let only_zh: Vec<_> = zh.difference(&en).collect();
        let only_en: Vec<_> = en.difference(&zh).collect();
        assert!(
            only_zh.is_empty() && only_en.is_empty(),
            "{file}: only zh-CN {only_zh:?}, only en-US {only_en:?}"
        );
    }
}
