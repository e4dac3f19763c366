use super::*;

#[test]
fn shipped_taxonomy_is_complete() {
    let t = Taxonomy::shipped().unwrap();
    assert_eq!(t.categories.len(), 10);
    assert_eq!(t.matters.len(), 137);
    for name in [
        "金融服务",
        "人才服务",
        "市场推广",
        "行政服务",
        "公共服务",
        "法律服务",
        "党群服务",
        "产业空间",
    ] {
        assert!(
            t.categories.iter().any(|c| c.name == name),
            "{name} missing"
        );
    }
    for m in &t.matters {
        assert!(
            m.examples.len() >= 4,
            "{} has {} examples",
            m.code,
            m.examples.len()
        );
        assert!(
            m.keywords.len() >= 3,
            "{} has {} keywords",
            m.code,
            m.keywords.len()
        );
    }
    let confidential: Vec<_> = t.matters.iter().filter(|m| m.confidential).collect();
    assert!(!confidential.is_empty());
    assert!(confidential.iter().all(|m| m.unit == "JWJW"));
    assert!(t.unit("JWJW").is_some());
    assert!(t.matters.iter().any(|m| !m.urgent_keywords.is_empty()));
    let api = t.to_api();
    assert_eq!(api["categories"].as_array().unwrap().len(), 10);
    let listed: usize = api["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["matters"].as_array().unwrap().len())
        .sum();
    assert_eq!(listed, 137);
    assert_eq!(
        t.examples().count(),
        t.matters.iter().map(|m| m.examples.len()).sum::<usize>()
    );
}

const SMALL: &str = r#"
[[unit]]
code = "A"
name = "甲局"
name_en = "A bureau"

[[category]]
code = "C1"
name = "类一"
name_en = "One"

[[matter]]
code = "M1"
name = "事项一"
name_en = "Matter one"
category = "C1"
unit = "A"
keywords = ["停水"]
examples = ["小区停水两天"]
"#;

fn problem(text: &str) -> String {
    match Taxonomy::from_toml(text).unwrap_err() {
        TaxonomyError::Invalid { entry, problem } => format!("{entry}: {problem}"),
        TaxonomyError::Toml(e) => format!("toml: {e}"),
    }
}

#[test]
fn small_taxonomy_loads() {
    let t = Taxonomy::from_toml(SMALL).unwrap();
    assert_eq!(t.matter("M1").unwrap().unit, "A");
    assert_eq!(t.unit("A").unwrap().to_unit().code, "A");
    assert_eq!(t.matters_of("C1").count(), 1);
    assert_eq!(t.examples().next(), Some(("小区停水两天", "M1")));
}

#[test]
fn errors_name_the_entry_and_field() {
    let dup = format!("{SMALL}\n[[unit]]\ncode = \"A\"\nname = \"又一\"\nname_en = \"again\"\n");
    assert!(
        problem(&dup).contains("duplicate unit code"),
        "{}",
        problem(&dup)
    );
    let bad_unit = SMALL.replace("unit = \"A\"", "unit = \"Z\"");
    assert!(problem(&bad_unit).contains("unknown unit \"Z\""));
    let bad_category = SMALL.replace("category = \"C1\"", "category = \"C9\"");
    assert!(problem(&bad_category).contains("unknown category \"C9\""));
    let empty_category =
        format!("{SMALL}\n[[category]]\ncode = \"C2\"\nname = \"类二\"\nname_en = \"Two\"\n");
    assert!(problem(&empty_category).contains("category \"C2\": has no matters"));
    let no_examples = SMALL.replace("examples = [\"小区停水两天\"]", "examples = []");
    assert!(problem(&no_examples).contains("needs at least one example"));
    let bad_code = SMALL
        .replace("code = \"A\"", "code = \"甲\"")
        .replace("unit = \"A\"", "unit = \"甲\"");
    assert!(problem(&bad_code).contains("code must be ASCII"));
    assert!(problem("[[unit]]\ncode = ").starts_with("toml:"));
    let unknown = SMALL.replace(
        "keywords = [\"停水\"]",
        "keywords = [\"停水\"]\ncolour = \"red\"",
    );
    assert!(problem(&unknown).contains("colour"));
}

#[test]
fn units_are_found_by_name_short_name_and_alias() {
    let t = Taxonomy::shipped().unwrap();
    assert_eq!(t.discipline_unit().map(|u| u.code.as_str()), Some("JWJW"));
    for text in [
        "区规划和自然资源局的科长暗示要好处费",
        "规划和自然资源局的人刁难我们",
        "规自局经办人员故意刁难",
    ] {
        let unit = t.unit_named_in(text).map(|u| u.code.as_str());
        assert_eq!(unit, Some("GHZRZYJ"), "{text}");
    }
    // The longest mention wins: 区住房和建设局 rather than a shorter alias elsewhere.
    let unit = t.unit_named_in("区住房和建设局和执法队都推诿");
    assert_eq!(unit.map(|u| u.code.as_str()), Some("ZJJ"));
    assert!(
        t.unit_named_in("纪委的同志请调查").is_none(),
        "never the office itself"
    );
    assert!(t.unit_named_in("小区停水两天").is_none());
}

#[test]
fn one_discipline_office_owns_the_confidential_matters() {
    let t = Taxonomy::shipped().unwrap();
    let office = t.discipline_unit().unwrap();
    assert!(
        t.matters
            .iter()
            .filter(|m| m.confidential)
            .all(|m| m.unit == office.code)
    );
    assert!(
        t.matters
            .iter()
            .filter(|m| m.confidential)
            .all(|m| !m.conduct_keywords.is_empty())
    );
    let text = SHIPPED.replace(
        "code = \"FGJ\"\nname = \"区发展和改革局\"",
        "code = \"FGJ\"\ndiscipline = true\nname = \"区发展和改革局\"",
    );
    let err = Taxonomy::from_toml(&text).unwrap_err().to_string();
    assert!(err.contains("second discipline office"), "{err}");
}
