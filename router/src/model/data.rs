//! Reading labelled appeals from CSV.
//!
//! A file has a `label` column and either a `text` column or `title` and `body` columns (the
//! TipDM 2020 C `labeled.csv` works as it is: where its `title_body_split` is `0` the title is
//! already in `body`). Which rows are the test split: the `split` column (`test` / `train`)
//! when there is one, else the TipDM rule — rows whose `source` contains `syu921`; without
//! either column every row is a training row.

use std::path::Path;
use std::str::FromStr;

use super::{Example, ModelError, join_title_body};

/// The marker of the TipDM test split in the `source` column.
pub const TIPDM_TEST_SOURCE: &str = "syu921";

/// One labelled row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabeledRow {
    pub text: String,
    pub label: String,
    /// Whether the row belongs to the test split.
    pub test: bool,
}

/// Which rows to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    All,
    Train,
    Test,
}

impl FromStr for Split {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "all" => Ok(Split::All),
            "train" => Ok(Split::Train),
            "test" => Ok(Split::Test),
            other => Err(format!("unknown split {other:?}: all, train or test")),
        }
    }
}

impl Split {
    pub fn contains(self, row: &LabeledRow) -> bool {
        match self {
            Split::All => true,
            Split::Train => !row.test,
            Split::Test => row.test,
        }
    }
}

/// The rows of `split` as training examples.
pub fn examples(rows: &[LabeledRow], split: Split) -> Vec<Example> {
    rows.iter()
        .filter(|r| split.contains(r))
        .map(|r| Example::new(r.text.clone(), r.label.clone()))
        .collect()
}

/// Reads a labelled CSV file (UTF-8, a header row). Rows with an empty label or text are
/// skipped.
pub fn read_labeled_csv(path: &Path) -> Result<Vec<LabeledRow>, ModelError> {
    let csv_err = |source| ModelError::Csv {
        path: path.to_owned(),
        source,
    };
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .map_err(csv_err)?;
    let headers = reader.headers().map_err(csv_err)?.clone();
    let col = |name: &str| headers.iter().position(|h| h.trim() == name);
    let Some(label) = col("label") else {
        return Err(ModelError::Data {
            path: path.to_owned(),
            detail: "no `label` column".to_owned(),
        });
    };
    let (text, title, body) = (col("text"), col("title"), col("body"));
    if text.is_none() && title.is_none() && body.is_none() {
        return Err(ModelError::Data {
            path: path.to_owned(),
            detail: "no `text` column, nor `title` and `body` columns".to_owned(),
        });
    }
    let (split, source, joined) = (col("split"), col("source"), col("title_body_split"));
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(csv_err)?;
        let get = |i: Option<usize>| i.and_then(|i| record.get(i)).unwrap_or("");
        let label = get(Some(label)).trim();
        let text = if text.is_some() {
            get(text).to_owned()
        } else if get(joined).trim() == "0" {
            get(body).to_owned()
        } else {
            join_title_body(get(title), get(body))
        };
        if label.is_empty() || text.trim().is_empty() {
            continue;
        }
        let test = if split.is_some() {
            get(split).trim().eq_ignore_ascii_case("test")
        } else {
            get(source).contains(TIPDM_TEST_SOURCE)
        };
        rows.push(LabeledRow {
            text,
            label: label.to_owned(),
            test,
        });
    }
    Ok(rows)
}
