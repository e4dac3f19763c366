//! What the duplicate index keeps of an appeal: a MinHash signature of its text's character
//! bigrams cut into LSH bands, and its normalised address. Two texts with bigram Jaccard
//! similarity `s` share at least one band with probability `1 − (1 − s³)¹⁶`: 0.9998 at 0.8,
//! 0.88 at 0.5, under 0.0002 at 0.1.
//!
//! The hashes are stored: changing them needs a migration that signs every appeal again.

use super::Appeal;

/// Bands of the signature: rows an appeal has in the index.
pub const BANDS: usize = 16;
/// MinHash values per band.
pub const ROWS: usize = 3;

/// The text as the index reads it: simplified characters (廠房 reads as 厂房), full-width
/// forms as ASCII, lower case, letters and digits only (no punctuation or white space).
pub fn normalised(text: &str) -> String {
    fast2s::convert(text)
        .chars()
        .map(|c| match c {
            '\u{ff01}'..='\u{ff5e}' => char::from_u32(c as u32 - 0xfee0).unwrap_or(c),
            _ => c,
        })
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// An appeal's title and body, normalised.
pub fn text_of(appeal: &Appeal) -> String {
    normalised(&format!("{}{}", appeal.title, appeal.body))
}

/// An appeal's address, normalised; `None` when it gives none.
pub fn address_of(appeal: &Appeal) -> Option<String> {
    appeal
        .location
        .address
        .as_deref()
        .map(normalised)
        .filter(|a| !a.is_empty())
}

/// The LSH band keys of a normalised text, one per band (each also names its band); none for
/// an empty text.
pub fn bands(text: &str) -> Vec<i64> {
    let chars: Vec<char> = text.chars().collect();
    let shingles: Vec<u64> = match chars.as_slice() {
        [] => return Vec::new(),
        [c] => vec![mix(u64::from(*c))],
        _ => chars
            .windows(2)
            .map(|w| mix((u64::from(w[0]) << 32) | u64::from(w[1])))
            .collect(),
    };
    // Hash function `i` is `a·h + b` (mod 2⁶⁴, `a` odd) of a shingle's mixed hash `h`.
    let mut minima = [u64::MAX; BANDS * ROWS];
    for (i, min) in minima.iter_mut().enumerate() {
        let a = mix(i as u64 + 1) | 1;
        let b = mix(i as u64 + 0x1000);
        *min = shingles
            .iter()
            .map(|s| a.wrapping_mul(*s).wrapping_add(b))
            .min()
            .unwrap_or(u64::MAX);
    }
    minima
        .chunks(ROWS)
        .enumerate()
        .map(|(band, rows)| {
            let key = rows
                .iter()
                .fold(mix(band as u64 ^ 0x6475_706c), |k, r| mix(k ^ r));
            // The bits as they are: a key is only ever compared for equality.
            key as i64
        })
        .collect()
}

/// An appeal's band keys.
pub fn bands_of(appeal: &Appeal) -> Vec<i64> {
    bands(&text_of(appeal))
}

/// SplitMix64's finaliser: a fixed, well-spread 64-bit mix.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::appeal::{Appellant, Channel, Kind, Location, NewAppeal, Priority};
    use crate::value::ids::{AppealId, TicketNo};

    fn shared(a: &str, b: &str) -> usize {
        let (a, b) = (bands(&normalised(a)), bands(&normalised(b)));
        a.iter().zip(&b).filter(|(x, y)| x == y).count()
    }

    #[test]
    fn normalising_keeps_letters_and_digits_in_simplified_characters() {
        assert_eq!(
            normalised("廠房用地，審批 Ａ座\n3號！"),
            "厂房用地审批a座3号"
        );
        assert_eq!(normalised(" ，。！"), "");
    }

    #[test]
    fn a_text_has_one_key_per_band_and_the_same_every_time() {
        let text = normalised("小区门口的路灯坏了很久，晚上出行很不安全");
        let keys = bands(&text);
        assert_eq!(keys.len(), BANDS);
        assert_eq!(keys, bands(&text));
        let distinct: std::collections::HashSet<_> = keys.iter().collect();
        assert_eq!(distinct.len(), BANDS, "each band names itself");
        assert!(bands("").is_empty());
        assert_eq!(bands("灯").len(), BANDS);
    }

    #[test]
    fn near_identical_texts_share_bands_and_unrelated_ones_do_not() {
        let letter = "我司在宝安区福海街道申请厂房用地，审批已经三个月没有任何进展，\
                      多次电话询问都说在走流程，请相关部门尽快协调办理。";
        let retold = "我司在宝安区福海街道申请厂房用地，审批已经三个多月没有任何进展，\
                      多次打电话询问都说在走流程，请有关部门尽快协调办理！";
        assert!(shared(letter, retold) >= 3, "{}", shared(letter, retold));
        assert_eq!(shared(letter, &letter.replace("，", " ")), BANDS);
        let traditional = "我司在寶安區福海街道申請廠房用地，審批已經三個月沒有任何進展，\
                           多次電話詢問都說在走流程，請相關部門儘快協調辦理。";
        assert!(shared(letter, traditional) >= BANDS - 2);
        let unrelated = "小区门口的路灯坏了很久，晚上出行很不安全，希望城管尽快派人维修。";
        assert_eq!(shared(letter, unrelated), 0);
    }

    #[test]
    fn addresses_are_normalised() {
        let mut appeal = Appeal::received(
            AppealId::new(),
            TicketNo::new("t"),
            NewAppeal {
                channel: Channel::Hotline,
                kind: Kind::Complaint,
                priority: Priority::Normal,
                title: "t".to_owned(),
                body: "b".to_owned(),
                appellant: Appellant::Person {
                    name: "n".to_owned(),
                    phone: None,
                    wechat_openid: None,
                },
                location: Location {
                    address: Some(" 寶安區 福海街道 ".to_owned()),
                    ..Location::default()
                },
                attachments: Vec::new(),
            },
            chrono::Utc::now(),
        );
        assert_eq!(address_of(&appeal).as_deref(), Some("宝安区福海街道"));
        appeal.location.address = Some("，".to_owned());
        assert_eq!(address_of(&appeal), None);
    }
}
