//! 统一社会信用代码 (Unified Social Credit Code) per GB 32100-2015, including the check character
//! of the 组织机构代码 (organisation code) it contains, per GB 11714-1997.

use crate::error::{DomainError, ErrorCode};

/// The 31 characters a USCC may contain (no I, O, S, V, Z), in the order of their values.
const USCC_CHARSET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const USCC_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];
const ORG_WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];

/// Checks a USCC: 18 characters from the allowed set, the GB 11714 check character of the
/// organisation code in positions 9–17, and the GB 32100 check character in position 18.
pub fn validate(code: &str) -> Result<(), DomainError> {
    let err = |c: ErrorCode| DomainError::new(c).with_arg("value", code);
    let chars: Vec<char> = code.chars().collect();
    if chars.len() != 18 {
        return Err(err(ErrorCode::InvalidUsccLength).with_arg("length", chars.len().to_string()));
    }
    let mut values = [0u32; 18];
    for (i, c) in chars.iter().enumerate() {
        values[i] = uscc_value(*c).ok_or_else(|| {
            err(ErrorCode::InvalidUsccCharacter)
                .with_arg("character", c.to_string())
                .with_arg("position", (i + 1).to_string())
        })?;
    }
    if organization_check_char(&chars[8..16]) != Some(chars[16]) {
        return Err(err(ErrorCode::InvalidOrganizationCode));
    }
    if uscc_check_value(&values[..17]) != values[17] {
        return Err(err(ErrorCode::InvalidUscc));
    }
    Ok(())
}

fn uscc_value(c: char) -> Option<u32> {
    USCC_CHARSET.find(c).map(|i| i as u32)
}

/// The GB 32100 check value of the first 17 characters' values.
fn uscc_check_value(values: &[u32]) -> u32 {
    let sum: u32 = values.iter().zip(USCC_WEIGHTS).map(|(v, w)| v * w).sum();
    (31 - sum % 31) % 31
}

/// The GB 11714 check character of an 8-character organisation code body (digits and A–Z,
/// letters valued 10–35); `None` when the body holds another character.
fn organization_check_char(body: &[char]) -> Option<char> {
    let mut sum = 0;
    for (c, w) in body.iter().zip(ORG_WEIGHTS) {
        sum += c.to_digit(36)? * w;
    }
    match 11 - sum % 11 {
        10 => Some('X'),
        11 => Some('0'),
        n => char::from_digit(n, 10),
    }
}

/// Appends the check characters to a 16-character prefix: used to build valid test codes.
pub fn complete(prefix16: &str) -> Option<String> {
    let chars: Vec<char> = prefix16.chars().collect();
    if chars.len() != 16 {
        return None;
    }
    let org = organization_check_char(&chars[8..16])?;
    let mut code: String = prefix16.to_owned();
    code.push(org);
    let values: Option<Vec<u32>> = code.chars().map(uscc_value).collect();
    let check = uscc_check_value(&values?);
    code.push(USCC_CHARSET.chars().nth(check as usize)?);
    Some(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_published_codes() {
        // Codes printed on public business licences.
        for code in [
            "914403001922038216",
            "91350100M000100Y43",
            "91440300708461136T",
        ] {
            assert_eq!(validate(code), Ok(()), "{code}");
            assert_eq!(complete(&code[..16]).as_deref(), Some(code));
        }
    }

    #[test]
    fn rejects_wrong_check_character() {
        let code = complete("9144030019220382").unwrap();
        let mut wrong: Vec<char> = code.chars().collect();
        let last = wrong[17];
        wrong[17] = if last == '0' { '1' } else { '0' };
        let wrong: String = wrong.into_iter().collect();
        assert_eq!(validate(&wrong).unwrap_err().code, ErrorCode::InvalidUscc);
    }

    #[test]
    fn rejects_wrong_organization_check() {
        let code = complete("9144030019220382").unwrap();
        let mut chars: Vec<char> = code.chars().collect();
        chars[16] = if chars[16] == '5' { '6' } else { '5' };
        let s: String = chars.into_iter().collect();
        assert_eq!(
            validate(&s).unwrap_err().code,
            ErrorCode::InvalidOrganizationCode
        );
    }

    #[test]
    fn rejects_length_and_characters() {
        assert_eq!(
            validate("9144").unwrap_err().code,
            ErrorCode::InvalidUsccLength
        );
        let e = validate("91440300192203821I").unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidUsccCharacter);
        assert_eq!(e.args.get("position").map(String::as_str), Some("18"));
        assert_eq!(
            validate("91440300192203821a").unwrap_err().code,
            ErrorCode::InvalidUsccCharacter
        );
    }

    #[test]
    fn every_single_character_change_is_caught() {
        let code = complete("91440300MA5DXXXX").unwrap();
        assert_eq!(validate(&code), Ok(()));
        let chars: Vec<char> = code.chars().collect();
        for i in 0..18 {
            for c in USCC_CHARSET.chars().filter(|c| *c != chars[i]) {
                let mut changed = chars.clone();
                changed[i] = c;
                let changed: String = changed.into_iter().collect();
                assert!(validate(&changed).is_err(), "{changed} passed");
            }
        }
    }
}
