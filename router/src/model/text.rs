//! Text to feature keys: normalisation, character n-grams of the whole text and of the title,
//! and jieba words and word bigrams.
//!
//! A feature is a 64-bit key: a hash of the n-gram whose low three bits carry the block the
//! feature belongs to (see [`Block`]). Hashing keeps prediction free of string allocation; with
//! 64 bits, collisions among the few hundred thousand features of a model are negligible.

use jieba_rs::Jieba;
use serde::{Deserialize, Serialize};

/// The feature blocks. Each block is weighted (TF-IDF) and L2-normalised on its own before the
/// blocks are joined, so that no block drowns the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Block {
    /// Single characters.
    Char1 = 0,
    /// Character bigrams.
    Char2 = 1,
    /// Character trigrams and longer (up to [`TextConfig::char_ngrams`]).
    Char3 = 2,
    /// jieba words.
    Word1 = 3,
    /// Pairs of consecutive jieba words.
    Word2 = 4,
    /// Character n-grams of the title: the first line when it is short, else the opening
    /// characters (a letter's subject, whether or not it stands on a line of its own).
    Title = 5,
    /// The shorter dictionary words inside long ones (jieba's search mode): "住房公积金" also
    /// gives "住房", "公积", "公积金", so an appeal meets the training data on the parts.
    Parts = 6,
}

/// How many blocks there are.
pub const BLOCKS: usize = 7;

impl Block {
    /// The block a feature key belongs to.
    pub fn of(key: u64) -> usize {
        (key & 7) as usize
    }
}

/// What the featuriser extracts; stored with the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextConfig {
    /// Character n-grams of the whole text: 1..=char_ngrams (0 disables them).
    pub char_ngrams: usize,
    /// jieba word n-grams: 1..=word_ngrams, at most 2 (0 disables them).
    pub word_ngrams: usize,
    /// Also the words of jieba's search mode (two characters or more) in their own block.
    pub word_parts: bool,
    /// Character n-grams of the title: 1..=title_ngrams (0 disables them).
    pub title_ngrams: usize,
    /// The first line is a title when the text has more than one line and the first is at most
    /// this many characters long.
    pub title_max_chars: usize,
    /// Otherwise the title is the text's first `head_chars` characters (0: no title).
    pub head_chars: usize,
    /// Whether jieba's HMM finds words missing from its dictionary.
    pub hmm: bool,
    /// Drops `*`, the masking mark of phone numbers and names (some copies of a letter keep
    /// it, others removed it), before features are taken.
    pub drop_masks: bool,
    /// Each block's weight in a vector, by [`Block`] order (characters 1, 2, 3+, words, word
    /// pairs, title, word parts): its share of the norm before the whole is normalised.
    pub block_weights: [f32; BLOCKS],
}

impl Default for TextConfig {
    fn default() -> Self {
        Self {
            char_ngrams: 3,
            word_ngrams: 2,
            word_parts: true,
            title_ngrams: 3,
            title_max_chars: 100,
            head_chars: 40,
            hmm: true,
            drop_masks: true,
            // The title twice the weight of each other block (chosen by cross-validation
            // inside the TipDM train split, see the model's doc).
            block_weights: [1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 1.0],
        }
    }
}

const SEED: u64 = 0x9e37_79b9_7f4a_7c15;
const MUL: u64 = 0x517c_c1b7_2722_0a95;

#[inline]
fn mix(h: u64, x: u64) -> u64 {
    (h.rotate_left(5) ^ x).wrapping_mul(MUL)
}

#[inline]
fn finish(mut h: u64, block: Block) -> u64 {
    // murmur3's finaliser spreads the state over all bits before the block is put in.
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^= h >> 33;
    (h & !7) | block as u64
}

/// Maps full-width ASCII forms to ASCII, lower-cases, and keeps the text otherwise as it is.
fn normalise_char(c: char) -> char {
    let c = match c {
        '\u{ff01}'..='\u{ff5e}' => char::from_u32(c as u32 - 0xfee0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    };
    if c.is_ascii_uppercase() {
        c.to_ascii_lowercase()
    } else if c.is_uppercase() {
        c.to_lowercase().next().unwrap_or(c)
    } else {
        c
    }
}

/// Normalises `text`: full-width ASCII to ASCII, lower case; white space is dropped except
/// for one space between two ASCII letters or digits (spaces in Chinese are layout, and one
/// source writes none where another writes many).
pub fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars() {
        if c.is_whitespace() || c == '\u{3000}' {
            space = true;
            continue;
        }
        let c = normalise_char(c);
        if space
            && out
                .chars()
                .next_back()
                .is_some_and(|p| p.is_ascii_alphanumeric() && c.is_ascii_alphanumeric())
        {
            out.push(' ');
        }
        space = false;
        out.push(c);
    }
    out
}

/// Turns texts into feature keys. Holds the jieba dictionary (loading it takes a moment: make
/// one and keep it).
pub struct Featurizer {
    jieba: Jieba,
    config: TextConfig,
}

impl std::fmt::Debug for Featurizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Featurizer")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Featurizer {
    pub fn new(config: TextConfig) -> Self {
        Self {
            jieba: Jieba::new(),
            config,
        }
    }

    pub fn config(&self) -> &TextConfig {
        &self.config
    }

    /// The title of `text`: its first line, when there is a second one and the first is short;
    /// else its first [`TextConfig::head_chars`] characters (appeals often open with their
    /// subject run into the body, e.g. "k市老年低保补助落到实处了吗？尊敬的领导…").
    pub fn title<'a>(&self, text: &'a str) -> Option<&'a str> {
        let text = text.trim();
        if let Some((first, rest)) = text.split_once('\n') {
            let first = first.trim();
            if !first.is_empty()
                && !rest.trim().is_empty()
                && first.chars().count() <= self.config.title_max_chars
            {
                return Some(first);
            }
        }
        let end = text
            .char_indices()
            .nth(self.config.head_chars)
            .map_or(text.len(), |(i, _)| i);
        (end > 0).then(|| &text[..end])
    }

    /// [`normalise`], then the masks dropped when [`TextConfig::drop_masks`] says so.
    fn normalise(&self, text: &str) -> String {
        let mut norm = normalise(text);
        if self.config.drop_masks && norm.contains('*') {
            norm.retain(|c| c != '*');
        }
        norm
    }

    /// The feature keys of `text`, one per occurrence, in no particular order.
    pub fn keys(&self, text: &str, out: &mut Vec<u64>) {
        out.clear();
        let norm = self.normalise(text);
        let chars: Vec<u32> = norm.chars().map(u32::from).collect();
        char_ngrams(&chars, self.config.char_ngrams, false, out);
        if self.config.title_ngrams > 0
            && let Some(title) = self.title(text)
        {
            let title: Vec<u32> = self.normalise(title).chars().map(u32::from).collect();
            char_ngrams(&title, self.config.title_ngrams, true, out);
        }
        if self.config.word_ngrams > 0 {
            let mut prev: Option<u64> = None;
            for token in self.jieba.cut(&norm, self.config.hmm) {
                let word = token.word;
                if word.trim().is_empty() {
                    continue;
                }
                let mut h = mix(SEED, 0x5744);
                for c in word.chars() {
                    h = mix(h, u64::from(c));
                }
                out.push(finish(h, Block::Word1));
                if self.config.word_parts {
                    self.parts(word, out);
                }
                if self.config.word_ngrams >= 2
                    && let Some(p) = prev
                {
                    out.push(finish(mix(mix(p, 0xb16a), h), Block::Word2));
                }
                prev = Some(h);
            }
        }
    }

    /// The [`Block::Parts`] keys of one word: itself when it has two characters or more, and
    /// the dictionary words among its 2- and 3-character pieces (as jieba's search mode).
    fn parts(&self, word: &str, out: &mut Vec<u64>) {
        let bounds: Vec<usize> = word
            .char_indices()
            .map(|(i, _)| i)
            .chain(std::iter::once(word.len()))
            .collect();
        let chars = bounds.len() - 1;
        if chars < 2 {
            return;
        }
        let mut push = |piece: &str| {
            let mut h = mix(SEED, 0x5750);
            for c in piece.chars() {
                h = mix(h, u64::from(c));
            }
            out.push(finish(h, Block::Parts));
        };
        for n in [2, 3] {
            if chars > n {
                for w in bounds.windows(n + 1) {
                    let piece = &word[w[0]..w[n]];
                    if self.jieba.has_word(piece) {
                        push(piece);
                    }
                }
            }
        }
        push(word);
    }

    /// The feature keys of `text` with their counts, sorted by key.
    pub fn counts(&self, text: &str) -> Vec<(u64, u32)> {
        let mut keys = Vec::new();
        self.keys(text, &mut keys);
        count_sorted(&mut keys)
    }
}

/// Sorts `keys` and counts equal runs.
pub fn count_sorted(keys: &mut [u64]) -> Vec<(u64, u32)> {
    keys.sort_unstable();
    let mut out: Vec<(u64, u32)> = Vec::with_capacity(keys.len());
    for &k in keys.iter() {
        match out.last_mut() {
            Some((last, n)) if *last == k => *n += 1,
            _ => out.push((k, 1)),
        }
    }
    out
}

fn char_ngrams(chars: &[u32], max_n: usize, title: bool, out: &mut Vec<u64>) {
    for n in 1..=max_n {
        let block = if title {
            Block::Title
        } else {
            match n {
                1 => Block::Char1,
                2 => Block::Char2,
                _ => Block::Char3,
            }
        };
        let seed = mix(SEED, 0x4300 + n as u64 + if title { 0x80 } else { 0 });
        for gram in chars.windows(n) {
            // An n-gram that starts or ends with a space carries little; sklearn keeps them, and
            // so do we, but a gram of spaces only is skipped.
            if gram.iter().all(|&c| c == u32::from(' ')) {
                continue;
            }
            let mut h = seed;
            for &c in gram {
                h = mix(h, u64::from(c));
            }
            out.push(finish(h, block));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_width_case_and_space() {
        assert_eq!(
            normalise("  ＡＢｃ\u{3000}12  路灯\n\n坏了 "),
            "abc 12路灯坏了"
        );
    }

    #[test]
    fn the_title_is_a_short_first_line_or_the_opening() {
        let f = Featurizer::new(TextConfig {
            head_chars: 6,
            ..TextConfig::default()
        });
        assert_eq!(f.title("路灯坏了\n小区门口的路灯坏了"), Some("路灯坏了"));
        assert_eq!(f.title("小区门口的路灯坏了三天"), Some("小区门口的路"));
        assert_eq!(f.title("  路灯坏了  "), Some("路灯坏了"));
        assert_eq!(f.title(" \n "), None);
        // A first line too long to be a title: the opening stands for it.
        assert_eq!(
            f.title(&format!("{}\n正文", "长".repeat(101))),
            Some("长长长长长长")
        );
        let no_head = Featurizer::new(TextConfig {
            head_chars: 0,
            ..TextConfig::default()
        });
        assert_eq!(no_head.title("小区门口的路灯坏了三天"), None);
    }

    #[test]
    fn long_words_also_give_their_dictionary_parts() {
        let f = Featurizer::new(TextConfig::default());
        let parts = |text: &str| -> Vec<u64> {
            f.counts(text)
                .into_iter()
                .map(|(k, _)| k)
                .filter(|&k| Block::of(k) == Block::Parts as usize)
                .collect()
        };
        // One word to jieba, with dictionary words inside it.
        assert_eq!(f.jieba.cut("中华人民共和国", true).len(), 1);
        let whole = parts("中华人民共和国");
        for piece in ["中华", "人民", "共和"] {
            let piece_keys = parts(piece);
            assert_eq!(piece_keys.len(), 1, "{piece}");
            assert!(whole.contains(&piece_keys[0]), "{piece} in 中华人民共和国");
        }
        let off = Featurizer::new(TextConfig {
            word_parts: false,
            ..TextConfig::default()
        });
        assert!(
            off.counts("中华人民共和国")
                .iter()
                .all(|&(k, _)| Block::of(k) != Block::Parts as usize)
        );
    }

    #[test]
    fn keys_carry_their_block() {
        let f = Featurizer::new(TextConfig::default());
        let counts = f.counts("路灯坏了\n小区门口的路灯坏了");
        let mut per_block = [0usize; BLOCKS];
        for (k, _) in &counts {
            per_block[Block::of(*k)] += 1;
        }
        assert!(per_block.iter().all(|&n| n > 0), "{per_block:?}");
        // "路灯" occurs twice in the text: as a character bigram it is counted twice.
        let again = f.counts("路灯坏了\n小区门口的路灯坏了");
        assert_eq!(counts, again);
        assert!(counts.iter().any(|&(_, n)| n >= 2));
    }
}
