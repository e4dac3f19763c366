//! Personal data masked for those who may not see it (SPEC §8): person names (李**), phone
//! numbers (138****8000), ID-card numbers, WeChat openids and house numbers, in the structured
//! fields and inside free text.

use std::sync::LazyLock;

use regex::{Captures, Regex};

/// A person's name: the family name kept, the rest starred (李女士 → 李**).
pub fn name(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => std::iter::once(first).chain(chars.map(|_| '*')).collect(),
        None => String::new(),
    }
}

/// A phone number: the first three and last four digits of a mobile kept, the area code and
/// last two of a landline.
pub fn phone(phone: &str) -> String {
    let digits: Vec<char> = super::national_digits(phone).chars().collect();
    let (head, tail) = if digits.first() == Some(&'0') {
        let area = if digits.get(1) == Some(&'1') || digits.get(1) == Some(&'2') {
            3
        } else {
            4
        };
        (area, 2)
    } else {
        (3, 4)
    };
    if digits.len() <= head + tail {
        return "*".repeat(digits.len());
    }
    let stars = "*".repeat(digits.len() - head - tail);
    let head: String = digits[..head].iter().collect();
    let tail: String = digits[digits.len() - tail..].iter().collect();
    format!("{head}{stars}{tail}")
}

/// An opaque id (WeChat openid): its first four characters kept.
pub fn opaque(id: &str) -> String {
    let head: String = id.chars().take(4).collect();
    format!("{head}****")
}

static MOBILE: LazyLock<Regex> = LazyLock::new(|| regex("(^|[^0-9])(1[3-9][0-9]{9})($|[^0-9])"));
static LANDLINE: LazyLock<Regex> =
    LazyLock::new(|| regex("(^|[^0-9])(0[0-9]{2,3}-?[0-9]{7,8})($|[^0-9])"));
static ID_CARD: LazyLock<Regex> =
    LazyLock::new(|| regex("(^|[^0-9])([0-9]{6})([0-9]{8})([0-9]{3}[0-9Xx])($|[^0-9])"));
static HOUSE: LazyLock<Regex> = LazyLock::new(|| regex("[0-9]+(栋|幢|单元|号楼|楼|室|户)"));

fn regex(pattern: &str) -> Regex {
    // The patterns are constants of this module, tested below.
    Regex::new(pattern).unwrap_or_else(|e| unreachable!("mask pattern {pattern}: {e}"))
}

/// `text` with phone, ID-card and house numbers masked, and each of `names` (the appellant's)
/// masked where it occurs.
pub fn text(text: &str, names: &[&str]) -> String {
    let mut out = ID_CARD
        .replace_all(text, |c: &Captures| {
            format!("{}{}********{}{}", &c[1], &c[2], &c[4], &c[5])
        })
        .into_owned();
    for number in [&*MOBILE, &*LANDLINE] {
        // Adjacent numbers share a boundary character: a second pass catches the next one.
        for _ in 0..2 {
            out = number
                .replace_all(&out, |c: &Captures| {
                    format!("{}{}{}", &c[1], phone(&c[2]), &c[3])
                })
                .into_owned();
        }
    }
    out = HOUSE
        .replace_all(&out, |c: &Captures| {
            let digits = c[0].len() - c[1].len();
            format!("{}{}", "*".repeat(digits), &c[1])
        })
        .into_owned();
    for full in names.iter().filter(|n| n.chars().count() >= 2) {
        out = out.replace(full, &name(full));
    }
    out
}

#[cfg(test)]
mod tests;
