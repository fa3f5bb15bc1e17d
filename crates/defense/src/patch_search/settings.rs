//! PatchSearch's settings: the reference's defaults (`patch_search_iterative_search.py`,
//! `patch_search_poison_classifier.py` and the README's commands), those tied to the image
//! side as shares of it and those tied to the set's size as ratios to it, so that they
//! scale to any input.
use corruptencoder_core::SettingError;
use corruptencoder_train::{Arch, EncoderConfig, Stem};
use serde::{Deserialize, Serialize};

/// ImageNet-100's training images, over which the reference's 1,000 clusters and 1,000
/// test images are counted.
const REFERENCE_IMAGES: f64 = 126_689.0;

/// The reference's input side, over which its windows and pasted sizes are counted.
const REFERENCE_SIDE: f64 = 224.0;

/// PatchSearch's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PatchSearchConfig {
    /// k-means clusters (the reference's `num_clusters`, 1,000 for ImageNet-100). Unset: the
    /// reference's ratio, one per 127 images, at least 2.
    pub clusters: Option<usize>,
    /// Images a candidate patch is pasted on (`test_images_size`, 1,000: one per cluster,
    /// the one nearest its centre). Unset: as many as there are clusters.
    pub test_images: Option<usize>,
    /// Side of the candidate patch as a share of the input side (`window_w`: 60 of 224 px).
    pub window_fraction: f64,
    /// Images drawn from each remaining cluster per round of the search
    /// (`samples_per_iteration`, 2).
    pub samples_per_iteration: usize,
    /// Share of the remaining clusters dropped after each round, the least poisonous
    /// (`remove_per_iteration`, 0.25).
    pub remove_per_iteration: f64,
    /// Rounds of Lloyd's k-means after the seeding (faiss `niter`, 20).
    pub kmeans_iterations: usize,
    /// The highest-scored images whose patches train the poison classifier and which it is
    /// validated on as poisons; as many of the lowest-scored are its clean validation
    /// images (`topk_poisons`, 20 in the README's command).
    pub topk_poisons: usize,
    /// Share of the highest-scored images kept out of the classifier's clean training
    /// images (`top_p`, 0.10).
    pub exclude_top_fraction: f64,
    /// Classifiers trained from scratch and averaged (`model_count`, 5).
    pub model_count: usize,
    /// Most SGD steps per classifier (`max_iterations`, 2,000).
    pub max_iterations: usize,
    /// Images per classifier step (`batch_size`, 32).
    pub classifier_batch_size: usize,
    /// SGD learning rate at step 0, annealed by a cosine to 0 at `max_iterations` (0.01).
    pub lr: f64,
    /// SGD momentum (0.9).
    pub momentum: f64,
    /// Weight decay (1e-4).
    pub weight_decay: f64,
    /// Steps between validations (`eval_freq`, 20).
    pub eval_every: usize,
    /// A classifier stops when this many validations in a row gave the same F1 in whole
    /// percent (the reference's 10).
    pub stable_evals: usize,
    /// Range of the pasted patch's side as shares of the input side, the upper end left
    /// out (20 and 80 of 224 px).
    pub paste_size: (f64, f64),
    /// Least distance of a pasted patch from the border, as a share of the side (10 of
    /// 224 px).
    pub paste_margin: f64,
    /// Range of the area of the classifier's random crops of the stored images, as shares
    /// of the image (`RandomResizedCrop(scale=(0.2, 1.0))`).
    pub classifier_crop_scale: (f64, f64),
    /// The largest share of the set flagged: when the classifiers call more images poisons,
    /// those with the largest margins are flagged. The reference has no cap (1.0): it
    /// flags every image the classifiers call a poison.
    pub max_flag_fraction: f64,
    /// The classifier's network, trained from scratch with a two-way linear layer on its
    /// features (the reference: a ResNet with one basic block per stage). Default: the small
    /// CNN at width 16, the demo's encoder.
    pub classifier: EncoderConfig,
}

impl Default for PatchSearchConfig {
    fn default() -> Self {
        Self {
            clusters: None,
            test_images: None,
            window_fraction: 60.0 / REFERENCE_SIDE,
            samples_per_iteration: 2,
            remove_per_iteration: 0.25,
            kmeans_iterations: 20,
            topk_poisons: 20,
            exclude_top_fraction: 0.1,
            model_count: 5,
            max_iterations: 2000,
            classifier_batch_size: 32,
            lr: 0.01,
            momentum: 0.9,
            weight_decay: 1e-4,
            eval_every: 20,
            stable_evals: 10,
            paste_size: (20.0 / REFERENCE_SIDE, 80.0 / REFERENCE_SIDE),
            paste_margin: 10.0 / REFERENCE_SIDE,
            classifier_crop_scale: (0.2, 1.0),
            max_flag_fraction: 1.0,
            classifier: EncoderConfig::new(Arch::SmallCnn, Stem::Cifar, 16),
        }
    }
}

/// Pixel sizes of the settings at one input side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sizes {
    /// The input side.
    pub(crate) side: usize,
    /// The candidate patch's side.
    pub(crate) window: usize,
    /// The pasted patch's sides, `low..high`.
    pub(crate) paste: (usize, usize),
    /// The pasted patch's least distance from the border.
    pub(crate) margin: usize,
}

impl PatchSearchConfig {
    /// Checks the settings on their own; the error names the key.
    pub fn validate(&self) -> Result<(), SettingError> {
        let at_least = |key: &'static str, value: usize, least: usize| {
            if value < least {
                return Err(SettingError::new(key, value, format!("must be at least {least}")));
            }
            Ok(())
        };
        at_least("clusters", self.clusters.unwrap_or(2), 2)?;
        at_least("test_images", self.test_images.unwrap_or(1), 1)?;
        at_least("samples_per_iteration", self.samples_per_iteration, 1)?;
        at_least("kmeans_iterations", self.kmeans_iterations, 1)?;
        at_least("topk_poisons", self.topk_poisons, 1)?;
        at_least("model_count", self.model_count, 1)?;
        at_least("max_iterations", self.max_iterations, 1)?;
        // Batch norm needs two images to normalise a batch by.
        at_least("classifier_batch_size", self.classifier_batch_size, 2)?;
        at_least("eval_every", self.eval_every, 1)?;
        at_least("stable_evals", self.stable_evals, 1)?;
        let open_unit = [
            ("window_fraction", self.window_fraction),
            ("remove_per_iteration", self.remove_per_iteration),
        ];
        for (key, value) in open_unit {
            if !(value > 0.0 && value < 1.0) {
                return Err(SettingError::new(key, value, "must lie strictly between 0 and 1"));
            }
        }
        let share = [
            ("exclude_top_fraction", self.exclude_top_fraction),
            ("momentum", self.momentum),
            ("paste_margin", self.paste_margin),
        ];
        for (key, value) in share {
            if !(0.0..1.0).contains(&value) {
                return Err(SettingError::new(key, value, "must lie in [0, 1)"));
            }
        }
        if !(self.max_flag_fraction > 0.0 && self.max_flag_fraction <= 1.0) {
            let value = self.max_flag_fraction;
            return Err(SettingError::new("max_flag_fraction", value, "must lie in (0, 1]"));
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err(SettingError::new("lr", self.lr, "must be positive"));
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return Err(SettingError::new("weight_decay", self.weight_decay, "must be at least 0"));
        }
        let (low, high) = self.classifier_crop_scale;
        if !(low > 0.0 && low <= high && high <= 1.0) {
            let problem = "must be two shares of the image, 0 < low <= high <= 1";
            let value = format!("[{low}, {high}]");
            return Err(SettingError::new("classifier_crop_scale", value, problem));
        }
        let (low, high) = self.paste_size;
        if !(low > 0.0 && low < high && high <= 1.0) {
            let problem = "must be two shares of the side, 0 < low < high <= 1";
            return Err(SettingError::new("paste_size", format!("[{low}, {high}]"), problem));
        }
        Ok(())
    }

    /// Checks the settings against a set of `images`.
    pub(crate) fn check_set(&self, images: usize) -> Result<(), SettingError> {
        self.validate()?;
        let clusters = self.cluster_count(images);
        if clusters > images {
            let problem = format!("must not exceed the set's {images} images");
            return Err(SettingError::new("clusters", clusters, problem));
        }
        let left_out = self.topk_poisons + (self.exclude_top_fraction * images as f64) as usize;
        if 2 * self.topk_poisons > images || left_out >= images {
            let problem = format!(
                "leaves no clean training image for the classifier in a set of {images} \
                 (the top and bottom `topk_poisons` validate it, the top \
                 `exclude_top_fraction` is left out)"
            );
            return Err(SettingError::new("topk_poisons", self.topk_poisons, problem));
        }
        Ok(())
    }

    /// The clusters for a set of `images`.
    pub(crate) fn cluster_count(&self, images: usize) -> usize {
        let scaled = || (images as f64 * 1000.0 / REFERENCE_IMAGES).round() as usize;
        self.clusters.unwrap_or_else(|| scaled().max(2))
    }

    /// The test images for `clusters` clusters.
    pub(crate) fn test_image_count(&self, clusters: usize) -> usize {
        self.test_images.unwrap_or(clusters)
    }

    /// The pixel sizes at input side `side`; the error names the setting that does not fit.
    pub(crate) fn sizes(&self, side: usize) -> Result<Sizes, SettingError> {
        let px = |share: f64| ((share * side as f64).round() as usize).max(1);
        let window = px(self.window_fraction);
        if window >= side {
            let problem = format!("gives a {window} px window, not below the {side} px side");
            return Err(SettingError::new("window_fraction", self.window_fraction, problem));
        }
        let paste = (px(self.paste_size.0), px(self.paste_size.1));
        let margin = (self.paste_margin * side as f64).round() as usize;
        if paste.0 >= paste.1 || paste.1 - 1 + 2 * margin >= side {
            let problem = format!(
                "gives {}..{} px patches {margin} px from the border, which do not fit {side} px",
                paste.0, paste.1
            );
            let value = format!("[{}, {}]", self.paste_size.0, self.paste_size.1);
            return Err(SettingError::new("paste_size", value, problem));
        }
        Ok(Sizes { side, window, paste, margin })
    }

    /// The report's words for the settings.
    pub(crate) fn describe(&self) -> String {
        let clusters =
            self.clusters.map_or("one cluster per 127 images".into(), |k| format!("{k} clusters"));
        let cap = match self.max_flag_fraction {
            f if f < 1.0 => format!(", at most {:.1} % flagged", f * 100.0),
            _ => String::new(),
        };
        format!(
            "{clusters}, windows {:.0} % of the side, {} images per cluster and round, \
             {:.0} % of clusters dropped per round; {} classifiers on the top {} patches{cap}",
            self.window_fraction * 100.0,
            self.samples_per_iteration,
            self.remove_per_iteration * 100.0,
            self.model_count,
            self.topk_poisons
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_sizes_come_back_at_224_px_and_scale_to_32() {
        let c = PatchSearchConfig::default();
        let at224 = c.sizes(224).unwrap();
        assert_eq!((at224.window, at224.paste, at224.margin), (60, (20, 80), 10));
        let at32 = c.sizes(32).unwrap();
        assert_eq!((at32.window, at32.paste, at32.margin), (9, (3, 11), 1));
        assert_eq!(c.cluster_count(126_689), 1000);
        assert_eq!(c.cluster_count(2_100), 17);
        assert_eq!(c.cluster_count(40), 2);
        assert_eq!(c.test_image_count(17), 17);
    }

    #[test]
    fn bad_settings_name_their_key() {
        let bad = |c: PatchSearchConfig| c.validate().unwrap_err().to_string();
        let d = PatchSearchConfig::default;
        assert!(bad(PatchSearchConfig { clusters: Some(1), ..d() }).starts_with("clusters = 1:"));
        let e = bad(PatchSearchConfig { window_fraction: 1.0, ..d() });
        assert!(e.starts_with("window_fraction = 1:"), "{e}");
        let e = bad(PatchSearchConfig { remove_per_iteration: 0.0, ..d() });
        assert!(e.starts_with("remove_per_iteration = 0:"), "{e}");
        let e = bad(PatchSearchConfig { classifier_batch_size: 1, ..d() });
        assert!(e.starts_with("classifier_batch_size = 1:"), "{e}");
        let e = bad(PatchSearchConfig { paste_size: (0.5, 0.2), ..d() });
        assert!(e.starts_with("paste_size = [0.5, 0.2]:"), "{e}");
        let e = bad(PatchSearchConfig { max_flag_fraction: 0.0, ..d() });
        assert!(e.starts_with("max_flag_fraction = 0:"), "{e}");
        let e = bad(PatchSearchConfig { classifier_crop_scale: (0.0, 1.0), ..d() });
        assert!(e.starts_with("classifier_crop_scale = [0, 1]:"), "{e}");
        let e = d().check_set(30).unwrap_err().to_string();
        assert!(e.starts_with("topk_poisons = 20:"), "{e}");
        let e = PatchSearchConfig { clusters: Some(50), ..d() }.check_set(45).unwrap_err();
        assert!(e.to_string().starts_with("clusters = 50:"), "{e}");
        let e = d().sizes(1).unwrap_err().to_string();
        assert!(e.starts_with("window_fraction"), "{e}");
        assert!(d().check_set(100).is_ok());
    }
}
