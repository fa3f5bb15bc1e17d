//! EDA, "easy data augmentation" of text (Wei & Zou 2019, their `eda.py`), as CleanCLIP
//! augments each caption for its in-modal text loss: one of the operations, chosen uniformly,
//! applied to the caption's words.
//!
//! EDA has four operations; synonym replacement and its random insertion draw synonyms from
//! WordNet, which this tool does not ship. Synonym replacement is left out (the operation is
//! chosen among the other three), and random insertion inserts a copy of one of the caption's
//! own words. Random swap and random deletion are EDA's as written, draws and corner cases
//! included.
use corruptencoder_core::{Rng, SettingError, uniform, uniform_int};
use serde::{Deserialize, Serialize};

/// EDA's strengths. Defaults: `eda()`'s, as CleanCLIP calls it (`alpha_ri = alpha_rs =
/// p_rd = 0.1`, one augmented sentence).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Eda {
    /// Words inserted, as a share of the caption's words (`alpha_ri`; at least one); 0
    /// leaves insertion out.
    pub insertion: f64,
    /// Swaps, as a share of the caption's words (`alpha_rs`; at least one); 0 leaves
    /// swapping out.
    pub swap: f64,
    /// Probability that each word is deleted (`p_rd`); 0 leaves deletion out.
    pub deletion: f64,
}

impl Default for Eda {
    fn default() -> Self {
        Self { insertion: 0.1, swap: 0.1, deletion: 0.1 }
    }
}

impl Eda {
    /// Checks that each strength lies in `[0, 1]`; the error names the key.
    pub fn validate(&self) -> Result<(), SettingError> {
        for (key, value) in
            [("insertion", self.insertion), ("swap", self.swap), ("deletion", self.deletion)]
        {
            if !(0.0..=1.0).contains(&value) {
                return Err(SettingError::new(key, value, "must lie in [0, 1]"));
            }
        }
        Ok(())
    }

    /// The augmented words of `words`: one operation among those with a positive strength,
    /// drawn uniformly, then applied. The result holds at least one word when `words` does;
    /// with every strength 0, or no words, it is `words` unchanged.
    pub fn augment(&self, words: &[String], rng: &mut Rng) -> Vec<String> {
        let ops: Vec<usize> = [self.insertion, self.swap, self.deletion]
            .iter()
            .enumerate()
            .filter(|(_, s)| **s > 0.0)
            .map(|(i, _)| i)
            .collect();
        if ops.is_empty() || words.is_empty() {
            return words.to_vec();
        }
        // EDA's count of changes: `max(1, int(alpha * num_words))`.
        let count = |alpha: f64| ((alpha * words.len() as f64) as usize).max(1);
        match ops[uniform_int(rng, 0, ops.len() as i64 - 1) as usize] {
            0 => random_insertion(words, count(self.insertion), rng),
            1 => random_swap(words, count(self.swap), rng),
            _ => random_deletion(words, self.deletion, rng),
        }
    }
}

/// EDA's `random_swap`: `n` times, two positions drawn uniformly swap their words. The
/// second position is redrawn while it equals the first, and after three redraws that
/// swap is abandoned (`swap_word`'s counter), so a one-word caption is returned as it is.
pub fn random_swap(words: &[String], n: usize, rng: &mut Rng) -> Vec<String> {
    let mut out = words.to_vec();
    let last = words.len() as i64 - 1;
    for _ in 0..n {
        let first = uniform_int(rng, 0, last) as usize;
        let mut second = first;
        let mut redraws = 0;
        let mut abandoned = false;
        while second == first {
            second = uniform_int(rng, 0, last) as usize;
            redraws += 1;
            if redraws > 3 {
                abandoned = true;
                break;
            }
        }
        if !abandoned {
            out.swap(first, second);
        }
    }
    out
}

/// EDA's `random_deletion`: each word is kept when a uniform draw exceeds `p`; a single
/// word is never deleted, and when every word is, one drawn uniformly is kept.
pub fn random_deletion(words: &[String], p: f64, rng: &mut Rng) -> Vec<String> {
    if words.len() <= 1 {
        return words.to_vec();
    }
    let kept: Vec<String> = words.iter().filter(|_| uniform(rng, 0.0, 1.0) > p).cloned().collect();
    if kept.is_empty() {
        return vec![words[uniform_int(rng, 0, words.len() as i64 - 1) as usize].clone()];
    }
    kept
}

/// EDA's `random_insertion` without WordNet: `n` times, a copy of a word drawn uniformly
/// from the words so far is inserted before a position drawn uniformly among them (EDA
/// inserts a synonym of the drawn word at the same kind of position).
pub fn random_insertion(words: &[String], n: usize, rng: &mut Rng) -> Vec<String> {
    let mut out = words.to_vec();
    for _ in 0..n {
        if out.is_empty() {
            break;
        }
        let last = out.len() as i64 - 1;
        let word = out[uniform_int(rng, 0, last) as usize].clone();
        let at = uniform_int(rng, 0, last) as usize;
        out.insert(at, word);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use corruptencoder_core::item_rng;

    fn words(text: &str) -> Vec<String> {
        text.split(' ').map(str::to_owned).collect()
    }

    fn sorted(mut w: Vec<String>) -> Vec<String> {
        w.sort();
        w
    }

    #[test]
    fn a_swap_moves_two_words_and_keeps_the_multiset() {
        let caption = words("a photo of the large red disc");
        let mut changed = 0;
        for i in 0..200 {
            let out = random_swap(&caption, 1, &mut item_rng(3, 0, i));
            assert_eq!(sorted(out.clone()), sorted(caption.clone()));
            let moved = out.iter().zip(&caption).filter(|(a, b)| a != b).count();
            // A swap of two equal words ("a" twice) moves nothing visible.
            assert!(moved == 0 || moved == 2, "{out:?}");
            changed += usize::from(moved == 2);
        }
        assert!(changed > 150, "{changed}");
        assert_eq!(random_swap(&words("disc"), 3, &mut item_rng(0, 0, 0)), words("disc"));
    }

    #[test]
    fn deletion_drops_words_with_its_probability_and_never_all() {
        let caption = words("one two three four five six seven eight nine ten");
        let mut dropped = 0;
        for i in 0..400 {
            let out = random_deletion(&caption, 0.1, &mut item_rng(1, 0, i));
            // What is left is the caption's words in their order.
            let mut rest = caption.iter();
            assert!(out.iter().all(|w| rest.any(|c| c == w)), "{out:?}");
            dropped += caption.len() - out.len();
        }
        // 4,000 words at 0.1: about 400 dropped.
        assert!((320..480).contains(&dropped), "{dropped}");
        for i in 0..50 {
            let out = random_deletion(&caption, 1.0, &mut item_rng(2, 0, i));
            assert_eq!(out.len(), 1);
            assert!(caption.contains(&out[0]));
        }
        assert_eq!(random_deletion(&words("disc"), 1.0, &mut item_rng(0, 0, 0)), words("disc"));
    }

    #[test]
    fn insertion_adds_copies_of_the_captions_own_words() {
        let caption = words("a small disc on a dark background");
        for i in 0..100 {
            let out = random_insertion(&caption, 2, &mut item_rng(4, 0, i));
            assert_eq!(out.len(), caption.len() + 2);
            assert!(out.iter().all(|w| caption.contains(w)), "{out:?}");
            // Removing the inserted words gives the caption back: the rest keep their order.
            let mut rest = out.iter();
            assert!(caption.iter().all(|c| rest.any(|w| w == c)), "{out:?}");
        }
    }

    #[test]
    fn augment_is_seeded_changes_the_caption_and_is_never_empty() {
        let eda = Eda::default();
        let caption = words("a photo of the large red c00 disc stripes0");
        let a = eda.augment(&caption, &mut item_rng(7, 1, 2));
        assert_eq!(a, eda.augment(&caption, &mut item_rng(7, 1, 2)));
        let mut lengths = [0usize; 3];
        let mut same = 0;
        for i in 0..300 {
            let out = eda.augment(&caption, &mut item_rng(7, 1, i));
            assert!(!out.is_empty());
            same += usize::from(out == caption);
            // Insertion lengthens, swap keeps, deletion shortens (or keeps) the caption.
            lengths[((out.len() as i64 - caption.len() as i64).signum() + 1) as usize] += 1;
        }
        // Each of the three operations is drawn about a third of the time: shorter
        // (deletion that dropped a word, about 61 of 300), the same length (swap, and
        // deletion that dropped none), longer (insertion, about 100).
        assert!(lengths.iter().all(|&n| n > 40), "{lengths:?}");
        // Deletion at 0.1 keeps all nine words about 39 % of the time; nothing else does.
        assert!(same < 60, "{same}");
        let one = words("disc");
        for i in 0..20 {
            assert!(!eda.augment(&one, &mut item_rng(0, 0, i)).is_empty());
        }
        let off = Eda { insertion: 0.0, swap: 0.0, deletion: 0.0 };
        assert_eq!(off.augment(&caption, &mut item_rng(0, 0, 0)), caption);
        assert!(eda.augment(&[], &mut item_rng(0, 0, 0)).is_empty());
    }

    #[test]
    fn only_operations_with_a_strength_are_drawn() {
        let caption = words("a b c d e");
        let swap_only = Eda { insertion: 0.0, swap: 0.5, deletion: 0.0 };
        for i in 0..50 {
            let out = swap_only.augment(&caption, &mut item_rng(5, 0, i));
            assert_eq!(sorted(out), sorted(caption.clone()));
        }
        let err = Eda { deletion: 1.5, ..Default::default() }.validate().unwrap_err();
        assert_eq!(err.to_string(), "deletion = 1.5: must lie in [0, 1]");
    }
}
