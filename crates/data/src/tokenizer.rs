//! The word-level caption tokenizer of image-text pre-training.
//!
//! Word-level, with the vocabulary built from the training captions, rather than CLIP's
//! byte-level BPE: at this scale (a few thousand captions, a vocabulary of tens to a few
//! thousand words) whole words are what the text tower can learn from, the vocabulary is
//! readable in `tokenizer.json`, and no merges table or extra crate (HuggingFace's
//! `tokenizers` pulls in onig/regex stacks and downloads nothing offline) is needed. Words
//! outside the vocabulary map to `<unk>`, which a real-scale run would avoid with BPE.
use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use corruptencoder_core::IoError;

use crate::error::{Error, Result};

/// Padding, start, end and unknown: ids 0 to 3 in every vocabulary.
const SPECIALS: [&str; 4] = ["<pad>", "<sot>", "<eot>", "<unk>"];
/// Id of `<pad>`.
pub const PAD: u32 = 0;
/// Id of `<sot>`, the first token of every sequence.
pub const SOT: u32 = 1;
/// Id of `<eot>`, whose position the text tower pools (CLIP's end-of-text pooling).
pub const EOT: u32 = 2;
/// Id of `<unk>`.
pub const UNK: u32 = 3;

/// Lower-cased words: maximal runs of letters and digits (punctuation and spaces split).
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase)
}

/// A fitted word-level vocabulary with a fixed context length.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tokenizer {
    /// Tokens per sequence, `<sot>` and `<eot>` included; longer captions are truncated.
    pub context: usize,
    /// Tokens by id: the four specials, then words by falling count, ties by spelling.
    pub tokens: Vec<String>,
    #[serde(skip)]
    index: HashMap<String, u32>,
}

/// One encoded caption: `context` ids and where its `<eot>` is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    /// Token ids, padded with `<pad>`.
    pub ids: Vec<u32>,
    /// Position of `<eot>`.
    pub eot: usize,
}

impl Tokenizer {
    /// Builds the vocabulary from `captions`: words seen at least `min_count` times, the
    /// `max_words` most frequent (ties broken by spelling, so the result is the same for
    /// any caption order).
    pub fn fit<'a>(
        captions: impl IntoIterator<Item = &'a str>,
        context: usize,
        min_count: usize,
        max_words: usize,
    ) -> Result<Self> {
        if context < 3 {
            return Err(Error::Invalid {
                path: "<tokenizer>".into(),
                problem: format!("context length {context} leaves no room for a word"),
            });
        }
        let mut counts: HashMap<String, usize> = HashMap::new();
        for caption in captions {
            for w in words(caption) {
                *counts.entry(w).or_default() += 1;
            }
        }
        let mut ranked: Vec<(String, usize)> =
            counts.into_iter().filter(|(_, n)| *n >= min_count.max(1)).collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        ranked.truncate(max_words);
        let tokens =
            SPECIALS.iter().map(|s| (*s).to_owned()).chain(ranked.into_iter().map(|(w, _)| w));
        Ok(Self::from_tokens(context, tokens.collect()))
    }

    fn from_tokens(context: usize, tokens: Vec<String>) -> Self {
        let index = tokens.iter().enumerate().map(|(i, t)| (t.clone(), i as u32)).collect();
        Self { context, tokens, index }
    }

    /// Vocabulary size, specials included.
    pub fn vocab_size(&self) -> usize {
        self.tokens.len()
    }

    /// `<sot> words... <eot> <pad>...`, words past `context - 2` dropped.
    pub fn encode(&self, text: &str) -> Encoded {
        let mut ids = vec![SOT];
        ids.extend(
            words(text).take(self.context - 2).map(|w| self.index.get(&w).copied().unwrap_or(UNK)),
        );
        let eot = ids.len();
        ids.push(EOT);
        ids.resize(self.context, PAD);
        Encoded { ids, eot }
    }

    /// The words between `<sot>` and `<eot>`, joined by spaces.
    pub fn decode(&self, ids: &[u32]) -> String {
        ids.iter()
            .skip_while(|&&i| i == SOT)
            .take_while(|&&i| i != EOT && i != PAD)
            .map(|&i| self.tokens.get(i as usize).map_or("<unk>", String::as_str))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Writes `tokenizer.json`.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("tokenizer serialises")
    }

    /// Reads a tokenizer written by [`Tokenizer::to_json`]; checks the specials.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = fs_err::read_to_string(path)
            .map_err(|source| Error::Io(IoError::new("read", path.to_path_buf(), source)))?;
        let t: Self = serde_json::from_str(&text)
            .map_err(|source| Error::TokenizerFile { path: path.to_path_buf(), source })?;
        if t.context < 3 || t.tokens.len() < SPECIALS.len() || t.tokens[..4] != SPECIALS {
            return Err(Error::Invalid {
                path: path.to_path_buf(),
                problem: "not a tokenizer: bad context length or special tokens".into(),
            });
        }
        Ok(Self::from_tokens(t.context, t.tokens))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fitted() -> Tokenizer {
        let captions = ["A photo of a red dog.", "a photo of the blue cat", "Dog, dog!"];
        Tokenizer::fit(captions, 8, 1, 100).unwrap()
    }

    #[test]
    fn vocabulary_is_ranked_and_order_free() {
        let t = fitted();
        // a: 3, dog: 3, of: 2, photo: 2, then single words by spelling.
        assert_eq!(&t.tokens[4..8], ["a", "dog", "of", "photo"]);
        assert_eq!(&t.tokens[8..], ["blue", "cat", "red", "the"]);
        let rev = Tokenizer::fit(
            ["Dog, dog!", "a photo of the blue cat", "A photo of a red dog."],
            8,
            1,
            100,
        );
        assert_eq!(rev.unwrap(), t);
        let small = Tokenizer::fit(["a a b b c"], 8, 2, 1).unwrap();
        assert_eq!(&small.tokens[4..], ["a"]);
    }

    #[test]
    fn encode_decode_round_trips_and_truncates() {
        let t = fitted();
        let e = t.encode("A photo of a dog.");
        assert_eq!(e.ids, [SOT, 4, 7, 6, 4, 5, EOT, PAD]);
        assert_eq!(e.eot, 6);
        assert_eq!(t.decode(&e.ids), "a photo of a dog");
        assert_eq!(t.decode(&t.encode("the zebra").ids), "the <unk>");
        let long = t.encode("a a a a a a a a a a");
        assert_eq!((long.ids.len(), long.eot, long.ids[7]), (8, 7, EOT));
        assert_eq!(t.decode(&long.ids), "a a a a a a");
    }

    #[test]
    fn saved_tokenizer_reads_back_and_bad_files_are_named() {
        let t = fitted();
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("tokenizer.json");
        fs_err::write(&p, t.to_json()).unwrap();
        let back = Tokenizer::from_file(&p).unwrap();
        assert_eq!(back, t);
        assert_eq!(back.encode("red cat"), t.encode("red cat"));
        fs_err::write(&p, r#"{"context": 8, "tokens": ["a", "b"]}"#).unwrap();
        let err = Tokenizer::from_file(&p).unwrap_err().to_string();
        assert!(err.contains("tokenizer.json") && err.contains("special"), "{err}");
        assert!(Tokenizer::fit(["a"], 2, 1, 10).is_err());
    }
}
