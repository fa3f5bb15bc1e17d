//! An image classifier trained from scratch: an encoder and one linear layer on its
//! pooled features (torchvision's `ResNet` with its `fc`), the shape of PatchSearch's poison
//! classifier.
use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use corruptencoder_core::Rng;

use crate::encoder::{Encoder, EncoderConfig};

/// An encoder followed by `Linear(feature_dim, classes)`.
#[derive(Module, Debug)]
pub struct ImageClassifier {
    encoder: Encoder,
    fc: Linear,
}

impl ImageClassifier {
    /// A classifier over `classes` classes with the encoder `config` describes, every weight
    /// drawn from `rng` (torchvision's initialisation; the linear bias starts at zero).
    pub fn new(config: &EncoderConfig, classes: usize, device: &Device, rng: &mut Rng) -> Self {
        let encoder = config.init(device, rng);
        let fc = LinearConfig::new(config.feature_dim(), classes).init(device);
        let fc = crate::init::init_weights(fc, rng);
        Self { encoder, fc }
    }

    /// `[B, 3, H, W]` normalised images to `[B, classes]` logits.
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        self.fc.forward(self.encoder.forward(images))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoder::{Arch, Stem};
    use corruptencoder_core::item_rng;

    #[test]
    fn logits_have_one_column_per_class_and_the_seed_fixes_the_weights() {
        let device = Device::flex();
        let config = EncoderConfig::new(Arch::SmallCnn, Stem::Cifar, 4);
        let x = Tensor::<4>::ones([3, 3, 16, 16], &device);
        let a = ImageClassifier::new(&config, 2, &device, &mut item_rng(1, 0, 0));
        let b = ImageClassifier::new(&config, 2, &device, &mut item_rng(1, 0, 0));
        let c = ImageClassifier::new(&config, 2, &device, &mut item_rng(2, 0, 0));
        let (ya, yb, yc) = (a.forward(x.clone()), b.forward(x.clone()), c.forward(x));
        assert_eq!(ya.dims(), [3, 2]);
        assert_eq!(ya.to_data(), yb.to_data());
        assert_ne!(ya.into_data(), yc.into_data());
    }
}
