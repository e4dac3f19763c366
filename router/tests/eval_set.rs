//! The frozen evaluation sets (`router/eval/appeals.csv`, `router/eval/appeals-2.csv`) are what
//! their README says they are: each at least 200 appeals in four voices, labelled only with the
//! shipped taxonomy's codes, written apart from the taxonomy's examples, and unchanged since its
//! checksum was recorded. Every check runs on every set.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::Path;

use hotline_router::evalset::{self, EvalAppeal};
use hotline_schemas::Channel;
use hotline_schemas::value::taxonomy::Taxonomy;
use sha2::{Digest, Sha256};

const VOICES: [&str; 4] = ["phone", "letter", "wechat", "traditional"];
/// No appeal shares this many characters in a row with any taxonomy example.
const SHARED_RUN: usize = 12;

fn bytes(path: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

/// Every set, with its path relative to the router crate.
fn sets() -> Vec<(&'static str, Vec<EvalAppeal>)> {
    evalset::PATHS
        .iter()
        .map(|path| {
            let set = evalset::parse(std::str::from_utf8(&bytes(path)).unwrap())
                .unwrap_or_else(|e| panic!("{path}: {e}"));
            (*path, set)
        })
        .collect()
}

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn hashes(text: &str) -> Vec<&str> {
    text.split(|c: char| !c.is_ascii_hexdigit())
        .filter(|w| w.len() == 64)
        .collect()
}

/// Each set's entry in the README (from its `- File:` line to the next set's) records exactly
/// its SHA-256, and the README records no other.
#[test]
fn each_file_is_the_one_whose_checksum_the_readme_records() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("eval/README.md"))
            .unwrap();
    const FILE_LINE: &str = "- File: `router/";
    for path in evalset::PATHS {
        let actual = sha256(&bytes(path));
        let start = readme
            .find(&format!("{FILE_LINE}{path}`"))
            .unwrap_or_else(|| panic!("the README has no `- File:` line for {path}"));
        let rest = &readme[start + FILE_LINE.len()..];
        let entry = &rest[..rest.find(FILE_LINE).unwrap_or(rest.len())];
        assert_eq!(
            hashes(entry),
            vec![actual.as_str()],
            "router/{path} is frozen: a changed set is a new file with a new name"
        );
    }
    assert_eq!(
        hashes(&readme).len(),
        evalset::PATHS.len(),
        "one checksum per set"
    );
}

#[test]
fn at_least_200_appeals_in_four_voices_with_unique_ids() {
    for (path, set) in sets() {
        at_least_200_appeals_in(path, &set);
    }
}

fn at_least_200_appeals_in(path: &str, set: &[EvalAppeal]) {
    assert!(set.len() >= 200, "{path}: {} appeals", set.len());
    let mut per_voice: BTreeMap<&str, usize> = BTreeMap::new();
    for a in set {
        *per_voice.entry(a.voice.as_str()).or_default() += 1;
    }
    assert_eq!(
        per_voice.keys().copied().collect::<BTreeSet<_>>(),
        VOICES.into_iter().collect(),
        "{path}: {per_voice:?}"
    );
    for voice in VOICES {
        assert!(per_voice[voice] >= 50, "{path}: {per_voice:?}");
    }
    let ids: HashSet<&str> = set.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids.len(), set.len(), "{path}: ids are unique");
    for a in set {
        assert!(
            !a.title.trim().is_empty() && !a.text.trim().is_empty(),
            "{path}: {}",
            a.id
        );
    }
}

/// Every code is the shipped taxonomy's; the acceptable units are exactly the units of the
/// acceptable matters (the labelling rule in the README), and each set spans the taxonomy.
#[test]
fn labels_are_codes_of_the_shipped_taxonomy() {
    let taxonomy = Taxonomy::shipped().unwrap();
    for (path, set) in sets() {
        let mut matters_seen: BTreeSet<&str> = BTreeSet::new();
        let mut units_seen: BTreeSet<&str> = BTreeSet::new();
        for a in &set {
            let id = format!("{path} {}", a.id);
            assert!(!a.matters.is_empty() && !a.units.is_empty(), "{id}");
            for u in &a.units {
                assert!(taxonomy.unit(u).is_some(), "{id}: unknown unit {u}");
                units_seen.insert(u);
            }
            let mut of_matters: BTreeSet<&str> = BTreeSet::new();
            for m in &a.matters {
                let matter = taxonomy
                    .matter(m)
                    .unwrap_or_else(|| panic!("{id}: unknown matter {m}"));
                of_matters.insert(matter.unit.as_str());
                matters_seen.insert(m);
            }
            assert_eq!(
                a.units.iter().map(String::as_str).collect::<BTreeSet<_>>(),
                of_matters,
                "{id}: the acceptable units are those of the acceptable matters"
            );
        }
        assert!(
            matters_seen.len() >= 120,
            "{path}: {} matters",
            matters_seen.len()
        );
        assert!(units_seen.len() >= 25, "{path}: {} units", units_seen.len());
    }
}

/// The voices are what they claim: phone calls are logged by agents, WeChat lines are short,
/// traditional-script appeals are written in it, and only complaints about officials' conduct
/// come through the party secretary's mailbox (whose other letters wait for its readers).
#[test]
fn each_voice_is_written_as_it_claims() {
    let taxonomy = Taxonomy::shipped().unwrap();
    for (path, set) in sets() {
        for a in set {
            let id = format!("{path} {}", a.id);
            match a.voice.as_str() {
                "phone" => assert_eq!(a.channel, Channel::Hotline, "{id}"),
                "wechat" => {
                    assert_eq!(a.channel, Channel::Wechat, "{id}");
                    assert!(a.text.chars().count() <= 40, "{id}: a WeChat line");
                }
                "letter" => assert!(a.text.chars().count() >= 80, "{id}: a letter"),
                "traditional" => assert_ne!(
                    fast2s::convert(&a.text),
                    a.text,
                    "{id}: written in traditional script"
                ),
                other => panic!("{id}: voice {other}"),
            }
            if a.channel == Channel::Mailbox {
                assert!(
                    a.matters
                        .iter()
                        .any(|m| taxonomy.matter(m).is_some_and(|m| m.confidential)),
                    "{id}: mailbox letters here are conduct complaints"
                );
            }
        }
    }
}

/// Written apart from the taxonomy's examples: no appeal (in simplified characters, as the
/// router reads it) shares a run of `SHARED_RUN` characters with any example.
#[test]
fn no_appeal_copies_a_taxonomy_example() {
    let taxonomy = Taxonomy::shipped().unwrap();
    let windows = |text: &str| -> Vec<String> {
        let chars: Vec<char> = fast2s::convert(text)
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        chars
            .windows(SHARED_RUN)
            .map(|w| w.iter().collect())
            .collect()
    };
    let mut examples: HashSet<String> = HashSet::new();
    for m in &taxonomy.matters {
        for e in &m.examples {
            examples.extend(windows(e));
        }
    }
    assert!(examples.len() > 10_000);
    for (path, set) in sets() {
        for a in set {
            for text in [&a.title, &a.text] {
                if let Some(run) = windows(text).into_iter().find(|w| examples.contains(w)) {
                    panic!("{path} {}: shares {run:?} with a taxonomy example", a.id);
                }
            }
        }
    }
}
