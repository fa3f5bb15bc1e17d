//! Captions for the synthetic world, so it can pre-train image-text models: the class name,
//! and also what the picture shows (the class colour and pattern, the object's size, the
//! background's brightness), in one of several templates drawn per image.
use corruptencoder_core::item_rng;
use rand::Rng as _;

use super::set::{SyntheticSample, SyntheticSet, SyntheticSplit, SyntheticWorld};
use super::texture::ClassTexture;

/// Stream of caption template draws, clear of the image streams (`0x51xx`).
const STREAM_CAPTION: u64 = 0x5120;

/// Caption templates: `{class}` the class name, `{colour}` and `{pattern}` its texture,
/// `{size}` the object's share of the picture, `{bg}` the background's brightness. Every
/// template names the class, as CLIP-style captions of a labelled set would.
pub const SYNTHETIC_CAPTION_TEMPLATES: [&str; 6] = [
    "a photo of a {class}.",
    "a {colour} {pattern} {class}.",
    "a {size} {class} on a {bg} background.",
    "a photo of the {size} {colour} {class}.",
    "{class}, a {colour} object with {pattern}.",
    "a close-up photo of a {class} on a {bg} background.",
];

/// The templates of the `objects` world: there colours are drawn alike for every class and
/// the class textures are not the patterns world's, so only class, size and background are
/// named.
const OBJECT_CAPTION_TEMPLATES: [&str; 3] = [
    SYNTHETIC_CAPTION_TEMPLATES[0],
    SYNTHETIC_CAPTION_TEMPLATES[2],
    SYNTHETIC_CAPTION_TEMPLATES[5],
];

/// A colour word for a hue in `[0, 1)`.
fn colour_name(hue: f32) -> &'static str {
    const NAMES: [(f32, &str); 9] = [
        (0.04, "red"),
        (0.11, "orange"),
        (0.19, "yellow"),
        (0.42, "green"),
        (0.53, "cyan"),
        (0.69, "blue"),
        (0.79, "purple"),
        (0.96, "pink"),
        (1.01, "red"),
    ];
    NAMES.iter().find(|(end, _)| hue.rem_euclid(1.0) < *end).map_or("red", |(_, n)| n)
}

impl SyntheticSet {
    /// The caption of image `index` of `split` (`sample` is that image, as
    /// [`SyntheticSet::sample`] makes it): one of [`SYNTHETIC_CAPTION_TEMPLATES`], drawn
    /// from the image's own stream, filled from the class and the picture.
    pub fn caption(&self, split: SyntheticSplit, index: usize, sample: &SyntheticSample) -> String {
        let classes = self.config().classes;
        let texture = ClassTexture::of_class(sample.label, classes);
        let name = &self.class_names()[sample.label];
        let (w, h) = sample.mask.dimensions();
        let area = sample.mask.count() as f64 / f64::from(w * h).max(1.0);
        let size = match area {
            a if a < 0.22 => "small",
            a if a < 0.34 => "medium",
            _ => "large",
        };
        let (mut sum, mut n) = (0.0f64, 0u64);
        for (p, m) in sample.image.pixels().zip(sample.mask.0.pixels()) {
            if m.0[0] == 0 {
                sum += p.0.iter().map(|&c| f64::from(c)).sum::<f64>() / 3.0;
                n += 1;
            }
        }
        let bg = if n > 0 && sum / n as f64 > 128.0 { "light" } else { "dark" };
        let stream = STREAM_CAPTION ^ (split as u64);
        let mut rng = item_rng(self.config().seed, stream, index as u64);
        let templates: &[&str] = match self.config().kind {
            SyntheticWorld::Patterns => &SYNTHETIC_CAPTION_TEMPLATES,
            SyntheticWorld::Objects => &OBJECT_CAPTION_TEMPLATES,
        };
        let template = templates[rng.random_range(0..templates.len())];
        template
            .replace("{class}", name)
            .replace("{colour}", colour_name(texture.hue))
            .replace("{pattern}", texture.pattern.name())
            .replace("{size}", size)
            .replace("{bg}", bg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synthetic::SyntheticConfig;

    #[test]
    fn captions_name_the_class_vary_and_repeat() {
        let world = SyntheticSet::new(SyntheticConfig { size: 32, ..Default::default() }).unwrap();
        let names = world.class_names();
        let caption = |i| {
            world.caption(SyntheticSplit::Pretrain, i, &world.sample(SyntheticSplit::Pretrain, i))
        };
        let all: Vec<String> = (0..40).map(caption).collect();
        for (i, c) in all.iter().enumerate() {
            assert!(c.contains(&names[i % 10]), "{c}");
            assert!(!c.contains('{'), "{c}");
        }
        let distinct: std::collections::HashSet<_> =
            all.iter().map(|c| c.replace(&names[0], "")).collect();
        assert!(distinct.len() > 10, "templates and words vary: {distinct:?}");
        assert_eq!(caption(7), all[7]);
        assert_eq!(colour_name(0.0), "red");
        assert_eq!(colour_name(0.6), "blue");
        assert_eq!(colour_name(0.99), "red");
    }

    #[test]
    fn object_world_captions_name_no_colour_or_pattern() {
        let config =
            SyntheticConfig { size: 32, kind: SyntheticWorld::Objects, ..Default::default() };
        let world = SyntheticSet::new(config).unwrap();
        let names = world.class_names();
        for i in 0..30 {
            let c = world.caption(
                SyntheticSplit::Pretrain,
                i,
                &world.sample(SyntheticSplit::Pretrain, i),
            );
            assert!(c.contains(&names[i % 10]), "{c}");
            assert!(
                OBJECT_CAPTION_TEMPLATES.iter().any(|t| {
                    let head = t.split('{').next().unwrap();
                    c.starts_with(head)
                }),
                "{c}"
            );
            // The class name may hold a texture word ("c00-stripes-disc"); the rest may not.
            let rest = c.replace(&names[i % 10], "");
            for word in ["red", "green", "blue", "stripes", "checker", "dots"] {
                assert!(!rest.split(|ch: char| !ch.is_alphanumeric()).any(|w| w == word), "{c}");
            }
        }
    }
}
