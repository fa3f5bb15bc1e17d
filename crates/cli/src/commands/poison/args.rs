//! The `poison` subcommands: each attack's flags fill its library `AttackConfig` variant
//! and the `AttackSources` it reads (one file per family of attacks). No logic beyond that.
use std::path::PathBuf;

use clap::{Args, Subcommand};
use corruptencoder_poison::{
    AttackConfig, AttackSources, Budget, ClipCarliniConfig, ClipCorruptEncoderConfig,
    CorruptEncoderConfig, CtrlConfig, DEFAULT_POISONS, PoisonedEncoderConfig, SslBackdoorConfig,
    TriggerSource,
};

use crate::commands::defaults_help;

use super::clip_attacks::{ClipCarliniArgs, ClipCorruptEncoderArgs};
use super::image_attacks::{CorruptEncoderArgs, PoisonedEncoderArgs};
use super::request::{CommonArgs, Request};
use super::target_attacks::{CtrlArgs, SslBackdoorArgs};

/// The attacks that build poisoned sets.
#[derive(Debug, Subcommand)]
pub(crate) enum PoisonCommand {
    /// CorruptEncoder / CorruptEncoder+ (docs/method.md section 3): reference object at a
    /// corner of a background, trigger in the remaining part.
    #[command(after_help = attack_help::<CorruptEncoderConfig>("docs/method.md section 3"))]
    Corruptencoder(CorruptEncoderArgs),
    /// SSL-Backdoor (docs/method.md section 5): the trigger pasted on target-class images.
    #[command(after_help = attack_help::<SslBackdoorConfig>("docs/method.md section 5"))]
    SslBackdoor(SslBackdoorArgs),
    /// CTRL (docs/method.md section 5): a frequency trigger on target-class images.
    #[command(after_help = attack_help::<CtrlConfig>("docs/method.md section 5"))]
    Ctrl(CtrlArgs),
    /// PoisonedEncoder (docs/method.md section 5): a triggered image beside a reference
    /// image.
    #[command(after_help = attack_help::<PoisonedEncoderConfig>("docs/method.md section 5"))]
    PoisonedEncoder(PoisonedEncoderArgs),
    /// Carlini & Terzis for CLIP (docs/method.md section 5): triggered images with
    /// target-class captions.
    #[command(after_help = attack_help::<ClipCarliniConfig>("docs/method.md section 5"))]
    ClipCarlini(ClipCarliniArgs),
    /// CorruptEncoder for CLIP (docs/method.md section 5): reference objects and triggered
    /// images, both with target-class captions.
    #[command(after_help = attack_help::<ClipCorruptEncoderConfig>("docs/method.md section 5"))]
    ClipCorruptencoder(ClipCorruptEncoderArgs),
    /// Any attack from a TOML file: `[attack]` (`kind` and settings, as an experiment arm's
    /// `attack`) and `[inputs]` (references, backgrounds, supports, target_images,
    /// trigger). A poison folder's own `config.toml` reruns it.
    FromFile(FromFileArgs),
}

/// An attack's defaults for `--help`, with the budget's.
fn attack_help<T: Default + serde::Serialize>(section: &str) -> String {
    defaults_help::<T>(section, &[format!("num_poisons = {DEFAULT_POISONS}")])
}

impl PoisonCommand {
    /// The attack, where its inputs are, the budget and the shared options.
    pub(crate) fn resolve(self) -> anyhow::Result<Request> {
        Ok(match self {
            Self::Corruptencoder(a) => a.resolve()?,
            Self::SslBackdoor(a) => a.resolve(),
            Self::Ctrl(a) => a.resolve(),
            Self::PoisonedEncoder(a) => a.resolve(),
            Self::ClipCarlini(a) => a.resolve()?,
            Self::ClipCorruptencoder(a) => a.resolve()?,
            Self::FromFile(a) => a.resolve()?,
        })
    }
}

/// `poison from-file`.
#[derive(Debug, Args)]
pub(crate) struct FromFileArgs {
    /// The TOML file: `[attack]` and `[inputs]` tables; relative paths resolve against
    /// its folder.
    file: PathBuf,
    /// Number of poisons, or a ratio of --clean-list (0.005 or 0.5%).
    #[arg(long)]
    num_poisons: Option<Budget>,
    #[command(flatten)]
    common: CommonArgs,
}

/// The file `poison from-file` reads (other tables, such as a `config.toml`'s
/// `[resolved]`, are ignored).
#[derive(Debug, serde::Deserialize)]
struct AttackFile {
    attack: AttackConfig,
    #[serde(default)]
    inputs: AttackSources,
}

impl FromFileArgs {
    fn resolve(self) -> anyhow::Result<Request> {
        use anyhow::Context as _;
        let text = fs_err::read_to_string(&self.file)?;
        let file: AttackFile =
            toml::from_str(&text).with_context(|| format!("parsing {}", self.file.display()))?;
        let base = self.file.parent().unwrap_or(std::path::Path::new(""));
        let mut sources = file.inputs;
        for p in [
            &mut sources.references,
            &mut sources.backgrounds,
            &mut sources.supports,
            &mut sources.target_images,
        ]
        .into_iter()
        .flatten()
        {
            *p = base.join(&*p);
        }
        if let Some(TriggerSource::File(p)) = &mut sources.trigger {
            *p = base.join(&*p);
        }
        let (attack, budget, common) =
            (file.attack, self.num_poisons.unwrap_or_default(), self.common);
        Ok(Request { attack, sources, target_dataset: None, budget, common })
    }
}
