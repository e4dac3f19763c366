//! The real letters the benchmarks post or load: titles and bodies of
//! `../shared/data/appeals/tipdm2020c/unlabeled.csv`, each made an appeal from its own phone
//! number.

use std::path::Path;

use anyhow::Context as _;
use hotline_schemas::{Appellant, Channel, Kind, Location, NewAppeal, Priority};

/// The letters: title and body of each row of the unlabelled file.
pub fn letters() -> anyhow::Result<Vec<(String, String)>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/appeals/tipdm2020c/unlabeled.csv");
    let mut reader =
        csv::Reader::from_path(&path).with_context(|| format!("reading {}", path.display()))?;
    let mut out = Vec::new();
    for row in reader.records() {
        let row = row?;
        let (title, body) = (row.get(1).unwrap_or(""), row.get(2).unwrap_or(""));
        let title: String = title.trim().chars().take(60).collect();
        let body: String = body.trim().chars().take(1900).collect();
        if !title.is_empty() && !body.is_empty() {
            out.push((title, body));
        }
    }
    anyhow::ensure!(!out.is_empty(), "no letters in {}", path.display());
    Ok(out)
}

/// The `i`th appeal, of `letter`.
pub fn new_appeal(i: usize, (title, body): &(String, String)) -> NewAppeal {
    NewAppeal {
        channel: Channel::Web,
        kind: Kind::Complaint,
        priority: Priority::Normal,
        title: title.clone(),
        body: body.clone(),
        appellant: Appellant::Person {
            name: "王先生".to_owned(),
            phone: Some(format!("137{:08}", i % 100_000_000)),
            wechat_openid: None,
        },
        location: Location::default(),
        attachments: Vec::new(),
    }
}
