//! The frozen evaluation set (`router/eval/appeals.csv`) is what its README says it is: at least
//! 200 appeals in four voices, labelled only with the shipped taxonomy's codes, written apart
//! from the taxonomy's examples, and unchanged since its checksum was recorded.

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

fn bytes() -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(evalset::PATH)).unwrap()
}

fn set() -> Vec<EvalAppeal> {
    evalset::parse(std::str::from_utf8(&bytes()).unwrap()).unwrap()
}

#[test]
fn the_file_is_the_one_whose_checksum_the_readme_records() {
    let digest = Sha256::digest(bytes());
    let actual: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("eval/README.md"))
            .unwrap();
    let recorded: Vec<&str> = readme
        .split(|c: char| !c.is_ascii_hexdigit())
        .filter(|w| w.len() == 64)
        .collect();
    assert_eq!(
        recorded,
        vec![actual.as_str()],
        "router/eval/appeals.csv is frozen: a changed set is a new file with a new name"
    );
}

#[test]
fn at_least_200_appeals_in_four_voices_with_unique_ids() {
    let set = set();
    assert!(set.len() >= 200, "{} appeals", set.len());
    let mut per_voice: BTreeMap<&str, usize> = BTreeMap::new();
    for a in &set {
        *per_voice.entry(a.voice.as_str()).or_default() += 1;
    }
    assert_eq!(
        per_voice.keys().copied().collect::<BTreeSet<_>>(),
        VOICES.into_iter().collect(),
        "{per_voice:?}"
    );
    for voice in VOICES {
        assert!(per_voice[voice] >= 50, "{per_voice:?}");
    }
    let ids: HashSet<&str> = set.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids.len(), set.len(), "ids are unique");
    for a in &set {
        assert!(
            !a.title.trim().is_empty() && !a.text.trim().is_empty(),
            "{}",
            a.id
        );
    }
}

/// Every code is the shipped taxonomy's; the acceptable units are exactly the units of the
/// acceptable matters (the labelling rule in the README), and the set spans the taxonomy.
#[test]
fn labels_are_codes_of_the_shipped_taxonomy() {
    let taxonomy = Taxonomy::shipped().unwrap();
    let set = set();
    let mut matters_seen: BTreeSet<&str> = BTreeSet::new();
    let mut units_seen: BTreeSet<&str> = BTreeSet::new();
    for a in &set {
        assert!(!a.matters.is_empty() && !a.units.is_empty(), "{}", a.id);
        for u in &a.units {
            assert!(taxonomy.unit(u).is_some(), "{}: unknown unit {u}", a.id);
            units_seen.insert(u);
        }
        let mut of_matters: BTreeSet<&str> = BTreeSet::new();
        for m in &a.matters {
            let matter = taxonomy
                .matter(m)
                .unwrap_or_else(|| panic!("{}: unknown matter {m}", a.id));
            of_matters.insert(matter.unit.as_str());
            matters_seen.insert(m);
        }
        assert_eq!(
            a.units.iter().map(String::as_str).collect::<BTreeSet<_>>(),
            of_matters,
            "{}: the acceptable units are those of the acceptable matters",
            a.id
        );
    }
    assert!(matters_seen.len() >= 120, "{} matters", matters_seen.len());
    assert!(units_seen.len() >= 25, "{} units", units_seen.len());
}

/// The voices are what they claim: phone calls are logged by agents, WeChat lines are short,
/// traditional-script appeals are written in it, and only complaints about officials' conduct
/// come through the party secretary's mailbox (whose other letters wait for its readers).
#[test]
fn each_voice_is_written_as_it_claims() {
    let taxonomy = Taxonomy::shipped().unwrap();
    for a in set() {
        match a.voice.as_str() {
            "phone" => assert_eq!(a.channel, Channel::Hotline, "{}", a.id),
            "wechat" => {
                assert_eq!(a.channel, Channel::Wechat, "{}", a.id);
                assert!(a.text.chars().count() <= 40, "{}: a WeChat line", a.id);
            }
            "letter" => assert!(a.text.chars().count() >= 80, "{}: a letter", a.id),
            "traditional" => assert_ne!(
                fast2s::convert(&a.text),
                a.text,
                "{}: written in traditional script",
                a.id
            ),
            other => panic!("{}: voice {other}", a.id),
        }
        if a.channel == Channel::Mailbox {
            assert!(
                a.matters
                    .iter()
                    .any(|m| taxonomy.matter(m).is_some_and(|m| m.confidential)),
                "{}: mailbox letters here are conduct complaints",
                a.id
            );
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
    for a in set() {
        for text in [&a.title, &a.text] {
            if let Some(run) = windows(text).into_iter().find(|w| examples.contains(w)) {
                panic!("{}: shares {run:?} with a taxonomy example", a.id);
            }
        }
    }
}
