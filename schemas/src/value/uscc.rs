//! 统一社会信用代码 (Unified Social Credit Code) per GB 32100-2015, including the check character
//! of the 组织机构代码 (organisation code) it contains, per GB 11714-1997.

use crate::value::error::{DomainError, ErrorCode};

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
mod tests;
