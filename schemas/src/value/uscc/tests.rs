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
