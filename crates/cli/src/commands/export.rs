//! `corruptencoder export`: an encoder out to PyTorch, and the Python lines that load it.
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use clap::Args;
use corruptencoder_train::{ExportFormat, export_pytorch, pytorch_snippet};

use super::by_name;

/// Flags of `corruptencoder export`.
#[derive(Debug, Args)]
pub(crate) struct ExportArgs {
    /// The encoder: our `encoder.safetensors` (or the run folder that holds it), or a
    /// PyTorch `.pth`/`.pth.tar` (the authors' MoCo checkpoints included).
    encoder: PathBuf,
    /// What to write: torchvision (safetensors with torchvision's state_dict names, for
    /// `load_state_dict(..., strict=True)`; docs/export.md).
    #[arg(long, default_value = "torchvision", value_parser = by_name::<ExportFormat>)]
    format: ExportFormat,
    /// Output file (.safetensors).
    #[arg(long, short)]
    out: PathBuf,
    /// Replace an existing --out.
    #[arg(long)]
    force: bool,
}

pub(crate) fn run(args: ExportArgs) -> anyhow::Result<ExitCode> {
    let ext = args.out.extension().and_then(|e| e.to_str()).unwrap_or("");
    if matches!(ext, "pth" | "pt" | "tar") {
        bail!(
            "--out {}: PyTorch's .pth format is not written (no maintained Rust crate writes its \
             zipped pickle); write .safetensors, then in Python \
             `torch.save(safetensors.torch.load_file(p), \"encoder.pth\")` if a .pth is needed",
            args.out.display()
        );
    }
    if args.out.exists() && !args.force {
        bail!("{} already exists (pass --force to replace it)", args.out.display());
    }
    let config = export_pytorch(&args.encoder, args.format, &args.out)
        .with_context(|| format!("exporting {}", args.encoder.display()))?;
    print_snippet(&pytorch_snippet(&config, &args.out));
    Ok(ExitCode::SUCCESS)
}

#[expect(clippy::print_stdout, reason = "the Python lines are the command's output")]
fn print_snippet(snippet: &str) {
    print!("{snippet}");
}
