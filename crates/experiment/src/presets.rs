//! Built-in experiments: the CPU demo and its longer variant.
use corruptencoder_augment::ViewRecipe;
use corruptencoder_data::SyntheticConfig;
use corruptencoder_defense::{DefenseConfig, LocalizedCroppingConfig};
use corruptencoder_eval::ClassifierConfig;
use corruptencoder_poison::{
    AreaRatio, AttackConfig, CorruptEncoderConfig, SslBackdoorConfig, TestImageFormat,
};
use corruptencoder_train::{
    Arch, EncoderConfig, EvalTransform, MethodConfig, MonitorConfig, OptimConfig, PretrainConfig,
    SimclrConfig, Stem,
};

use crate::config::{
    ArmConfig, AttackSettings, DataConfig, EvalSettings, ExperimentConfig, SyntheticData,
    TestsetSettings,
};

fn arm(name: &str, attack: Option<AttackConfig>, defense: Option<DefenseConfig>) -> ArmConfig {
    ArmConfig { name: name.into(), attack, defense }
}

impl ExperimentConfig {
    /// `corruptencoder demo`: the embedded synthetic world at 32 px, a small CNN trained
    /// with SimCLR, four arms (clean, CorruptEncoder, SSL-Backdoor, CorruptEncoder under
    /// localized cropping), 3 references at a 1% poisoning ratio; sized to finish within
    /// minutes on two CPU cores. Not the paper's setting: see `reference_preset` docs.
    pub fn demo() -> Self {
        let size = 32;
        let corruptencoder = AttackConfig::Corruptencoder(CorruptEncoderConfig {
            trigger_size: 24,
            area_ratio: AreaRatio::Fixed(2.0),
            max_size: 800,
            ..Default::default()
        });
        let ssl_backdoor = AttackConfig::SslBackdoor(SslBackdoorConfig {
            trigger_width: 10,
            ..Default::default()
        });
        let localized = DefenseConfig::LocalizedCropping(LocalizedCroppingConfig::default());
        Self {
            name: "corruptencoder demo (CPU scale)".into(),
            seeds: vec![0],
            data: DataConfig::Synthetic(SyntheticData {
                world: SyntheticConfig {
                    classes: 10,
                    size,
                    reference_size: 128,
                    seed: 0,
                    ..Default::default()
                },
                pretrain: 2000,
                downstream_train: 1000,
                downstream_test: 500,
                backgrounds: 100,
                background_size: (256, 192),
            }),
            attack: AttackSettings { target: 0, references: 3, poison_ratio: 0.01 },
            testset: TestsetSettings { trigger_size: 10, band: 0.25, format: TestImageFormat::Png },
            eval: EvalSettings {
                transform: EvalTransform::crop_only(size),
                batch_size: 250,
                classifier: ClassifierConfig::default(),
                ..Default::default()
            },
            pretrain: PretrainConfig {
                seed: 0,
                epochs: 10,
                batch_size: 100,
                strict: true,
                prefetch: 2,
                cache_mib: 512,
                optim: OptimConfig { lr: 0.06, ..Default::default() },
                encoder: EncoderConfig::new(Arch::SmallCnn, Stem::Cifar, 16),
                views: ViewRecipe::simclr(size),
                // About a second per measurement at this scale: CA and ASR every 2 epochs.
                monitor: MonitorConfig { every: 2, ..Default::default() },
                method: MethodConfig::Simclr(SimclrConfig::default()),
            },
            sweep: None,
            arms: vec![
                arm("clean", None, None),
                arm("corruptencoder", Some(corruptencoder.clone()), None),
                // Baselines paste the trigger at the size it has on test images, since their
                // poisons are whole target-class images of the test images' scale.
                arm("ssl-backdoor", Some(ssl_backdoor), None),
                arm("corruptencoder-localized", Some(corruptencoder), Some(localized)),
            ],
        }
    }
}
