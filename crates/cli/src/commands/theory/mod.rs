//! `corruptencoder theory`: the layout calculator (docs/method.md section 4). Prints crop
//! probabilities over a sweep of background sizes and trigger positions and writes a
//! heatmap of the poisoned-pair probability over trigger positions.
#![expect(clippy::print_stdout, reason = "the table is this command's output")]

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use corruptencoder_augment::{
    CropPolicy, LocalizedCrop, PairSampler, RandomResizedCrop, SquareCrop,
};
use corruptencoder_core::write_atomic;
use corruptencoder_data::{ImageLimits, load_references};
use corruptencoder_poison::{CorruptEncoderConfig, resized_object_size};
use corruptencoder_theory::{
    Estimate, Layout, McConfig, Scene, SweepConfig, TriggerGrid, render_trigger_map, sweep,
    trigger_map,
};

use crate::reporters::Ui;

mod print;
use print::{print_optima, print_square_theory, print_table};

/// Flags of `theory`.
#[derive(Debug, Args)]
pub(crate) struct TheoryArgs {
    /// Reference object size after the generator's resize, WxH pixels.
    #[arg(long, default_value = "400x300", value_parser = parse_size, conflicts_with = "reference")]
    object: (u32, u32),
    /// Folder of reference objects (as `poison corruptencoder --references`): the object
    /// size is each reference's object box, resized as the generator does (see
    /// --max-size). With several references, one table each and a summary of their optima.
    #[arg(long)]
    reference: Option<PathBuf>,
    /// The generator's largest poison side (with --reference): objects get at most half.
    #[arg(long, default_value_t = CorruptEncoderConfig::default().max_size)]
    max_size: u32,
    /// Trigger side in pixels (default: the generator's).
    #[arg(long, default_value_t = CorruptEncoderConfig::default().trigger_size)]
    trigger: u32,
    /// View sampler: standard RandomResizedCrop, localized cropping, or fixed squares
    /// (the theory's model; needs --square-size).
    #[arg(long, value_enum, default_value_t = Crops::Standard)]
    crops: Crops,
    /// Side of the square views (for --crops square, and for the closed forms).
    #[arg(long)]
    square_size: Option<u32>,
    /// Where the object sits; the trigger goes in the remaining part.
    #[arg(long, value_enum, default_value_t = LayoutArg::Left)]
    layout: LayoutArg,
    /// Background sizes to sweep, as multiples of the object: MIN:MAX:STEP.
    #[arg(long, default_value = "1.25:3:0.25", value_parser = parse_range)]
    ratios: (f64, f64, f64),
    /// Trigger positions to tabulate, as fractions of the free slack (0: against the
    /// object, 0.5: centred, 1: far edge).
    #[arg(long, value_delimiter = ',', default_value = "0,0.25,0.5,0.75,1")]
    positions: Vec<f64>,
    /// View pairs per Monte Carlo estimate.
    #[arg(long, default_value_t = McConfig::default().samples)]
    samples: u64,
    /// A view is an object view when the object box covers at least this fraction of the
    /// view's area (1: the view lies inside the box).
    #[arg(long, default_value_t = McConfig::default().object_fraction)]
    object_fraction: f64,
    /// Seed of the Monte Carlo.
    #[arg(long, default_value_t = McConfig::default().seed)]
    seed: u64,
    /// Heatmap PNG of P(poisoned pair) over trigger positions, at the best ratio for a
    /// centred trigger. With several references, `-<name>` is added to the file stem.
    #[arg(long, default_value = "theory-heatmap.png")]
    heatmap: PathBuf,
    /// Pixels between heatmap cells.
    #[arg(long, default_value_t = 4)]
    heatmap_stride: u32,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Crops {
    Standard,
    Localized,
    Square,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LayoutArg {
    Left,
    Right,
    Top,
    Bottom,
}

fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let (w, h) = s.split_once(['x', 'X']).ok_or("expected WxH, e.g. 400x300")?;
    let n = |v: &str| v.trim().parse::<u32>().map_err(|e| format!("{v:?}: {e}"));
    Ok((n(w)?, n(h)?))
}

fn parse_range(s: &str) -> Result<(f64, f64, f64), String> {
    let parts: Vec<f64> = s
        .split(':')
        .map(|v| v.trim().parse::<f64>().map_err(|e| format!("{v:?}: {e}")))
        .collect::<Result<_, _>>()?;
    match parts[..] {
        [min, max, step] if step > 0.0 && min <= max && min > 0.0 => Ok((min, max, step)),
        _ => Err("expected MIN:MAX:STEP with 0 < MIN <= MAX and STEP > 0".into()),
    }
}

/// The ratios `min, min + step, ..` up to `max` (inclusive, up to rounding).
fn expand_ratios((min, max, step): (f64, f64, f64)) -> Vec<f64> {
    let n = ((max - min) / step + 1e-9).floor() as usize;
    (0..=n).map(|k| min + k as f64 * step).collect()
}

/// Longest background side the sweep and heatmap accept: the offset search allocates per
/// pixel of it, so a slip such as `--object 100000x100000` must not reach it.
const MAX_SIDE: u32 = 65_536;
/// Most heatmap cells (each thread keeps a 64-bit count per cell).
const MAX_CELLS: u64 = 4_000_000;

/// Checks every flag before any work or output (the sweep would otherwise run on
/// nonsense, or allocate for it).
fn validate(args: &TheoryArgs) -> anyhow::Result<()> {
    if args.trigger == 0 {
        bail!("--trigger must be at least 1 pixel");
    }
    if args.reference.is_none() && (args.object.0 == 0 || args.object.1 == 0) {
        bail!("--object {}x{}: both sides must be at least 1 pixel", args.object.0, args.object.1);
    }
    if args.reference.is_some() && args.max_size < 2 {
        bail!("--max-size must be at least 2");
    }
    if args.samples == 0 {
        bail!("--samples must be at least 1");
    }
    if !(args.object_fraction > 0.0 && args.object_fraction <= 1.0) {
        bail!("--object-fraction {} must be in (0, 1]", args.object_fraction);
    }
    if let Some(p) = args.positions.iter().find(|p| !(0.0..=1.0).contains(*p)) {
        bail!("--positions: {p} is not a fraction in [0, 1]");
    }
    if args.square_size == Some(0) {
        bail!("--square-size must be at least 1");
    }
    if args.heatmap_stride == 0 {
        bail!("--heatmap-stride must be at least 1");
    }
    Ok(())
}

/// The largest scene of the sweep for `object` must stay within [`MAX_SIDE`], and its
/// heatmap within [`MAX_CELLS`].
fn check_scene(args: &TheoryArgs, cfg: &SweepConfig, object: &Object) -> anyhow::Result<()> {
    let (w, h) = object.size;
    let (along, across) = if cfg.layout.is_horizontal() { (w, h) } else { (h, w) };
    let max_ratio = cfg.ratios.iter().copied().fold(0.0, f64::max);
    let longest = max_ratio * f64::from(along);
    let what = match &object.name {
        Some(name) => format!("reference {name} ({w}x{h})"),
        None => format!("--object {w}x{h}"),
    };
    if longest > f64::from(MAX_SIDE) || across > MAX_SIDE {
        bail!(
            "{what} at --ratios up to {max_ratio} makes {longest:.0}x{across} px backgrounds, \
             over the {MAX_SIDE} px the calculator handles; use a smaller object or ratio"
        );
    }
    let cells = |side: f64| {
        (side - f64::from(args.trigger)).max(0.0) / f64::from(args.heatmap_stride) + 2.0
    };
    let n = cells(longest) * cells(f64::from(across));
    if n > MAX_CELLS as f64 {
        bail!(
            "{what} at --heatmap-stride {} needs {n:.0} heatmap cells, over {MAX_CELLS}; use a \
             larger --heatmap-stride",
            args.heatmap_stride
        );
    }
    Ok(())
}

pub(crate) fn run(args: TheoryArgs, ui: &Ui) -> anyhow::Result<ExitCode> {
    validate(&args)?;
    let ratios = expand_ratios(args.ratios);
    let layout = match args.layout {
        LayoutArg::Left => Layout::Left,
        LayoutArg::Right => Layout::Right,
        LayoutArg::Top => Layout::Top,
        LayoutArg::Bottom => Layout::Bottom,
    };
    let mc =
        McConfig { samples: args.samples, seed: args.seed, object_fraction: args.object_fraction };
    let objects = match &args.reference {
        Some(dir) => reference_objects(dir, args.max_size, layout)?,
        None => vec![Object { name: None, size: args.object, source: None }],
    };
    let cfg = SweepConfig {
        layout,
        object: args.object,
        trigger: args.trigger,
        ratios,
        positions: args.positions.clone(),
        mc,
    };
    match (args.crops, args.square_size) {
        (Crops::Standard, _) => {
            go(&args, &cfg, &objects, &CropPolicy::Standard(RandomResizedCrop::default()), ui)
        }
        (Crops::Localized, _) => {
            go(&args, &cfg, &objects, &CropPolicy::Localized(LocalizedCrop::default()), ui)
        }
        (Crops::Square, Some(size)) => go(&args, &cfg, &objects, &SquareCrop { size }, ui),
        (Crops::Square, None) => bail!("--crops square needs --square-size"),
    }
}

/// An object to tabulate: a reference (named) or the --object size.
struct Object {
    name: Option<String>,
    size: (u32, u32),
    /// Where a reference's size comes from, to print with its table.
    source: Option<String>,
}

/// Each reference's object size as the generator resizes it for `layout`.
fn reference_objects(dir: &Path, max_size: u32, layout: Layout) -> anyhow::Result<Vec<Object>> {
    let refs = load_references(dir, &ImageLimits::default())
        .with_context(|| format!("loading references from {}", dir.display()))?;
    for w in &refs.warnings {
        log::warn!("{w}");
    }
    Ok(refs
        .references
        .iter()
        .map(|r| {
            let b = r.object_box;
            let size = resized_object_size((b.w, b.h), max_size, layout);
            let source = format!(
                "object box {}x{} in {}, resized as the generator does (--max-size {max_size})",
                b.w,
                b.h,
                r.path.display()
            );
            Object { name: Some(r.name.clone()), size, source: Some(source) }
        })
        .collect())
}

/// The best rows of one object's sweep, for the summary over references.
struct Optimum {
    name: String,
    size: (u32, u32),
    /// Ratio, background and P(pair) of the best row for a centred trigger.
    centred: Option<(f64, u32, Estimate)>,
    /// Ratio, trigger offset and P(pair) of the best row at the best offset.
    any: Option<(f64, u32, Estimate)>,
}

fn go<S: PairSampler>(
    args: &TheoryArgs,
    cfg: &SweepConfig,
    objects: &[Object],
    sampler: &S,
    ui: &Ui,
) -> anyhow::Result<ExitCode> {
    for object in objects {
        check_scene(args, cfg, object)?;
    }
    println!(
        "trigger {}, layout {:?}, crops {:?}, {} pairs per estimate, object view = object box \
         covers >= {} of the view, seed {}",
        cfg.trigger, cfg.layout, args.crops, cfg.mc.samples, cfg.mc.object_fraction, cfg.mc.seed
    );
    let several = objects.len() > 1;
    let mut optima = Vec::new();
    for object in objects {
        let cfg = SweepConfig { object: object.size, ..cfg.clone() };
        let heatmap = match (&object.name, several) {
            (Some(name), true) => with_stem_suffix(&args.heatmap, name),
            _ => args.heatmap.clone(),
        };
        optima.push(one_object(args, &cfg, object, &heatmap, sampler, ui)?);
    }
    if several {
        print_optima(&optima);
    }
    if optima.iter().all(|o| o.centred.is_none()) {
        bail!("the trigger fits beside the object at none of the ratios");
    }
    Ok(ExitCode::SUCCESS)
}

/// `dir/stem-suffix.ext` for `dir/stem.ext`.
fn with_stem_suffix(path: &Path, suffix: &str) -> PathBuf {
    let stem = path.file_stem().map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    let mut name = format!("{stem}-{suffix}");
    if let Some(ext) = path.extension() {
        name = format!("{name}.{}", ext.to_string_lossy());
    }
    path.with_file_name(name)
}

/// Sweeps one object, prints its table and writes its heatmap.
fn one_object<S: PairSampler>(
    args: &TheoryArgs,
    cfg: &SweepConfig,
    object: &Object,
    heatmap: &Path,
    sampler: &S,
    ui: &Ui,
) -> anyhow::Result<Optimum> {
    let (ow, oh) = cfg.object;
    let name = object.name.clone().unwrap_or_default();
    let label = if name.is_empty() { String::new() } else { format!("reference {name}, ") };
    println!("\n{label}object {ow}x{oh}:");
    if let Some(source) = &object.source {
        println!("  {source}");
    }
    if let Some(s) = args.square_size {
        print_square_theory(cfg, s);
    }
    let progress = ui.progress();
    let result = sweep(cfg, sampler, &progress).context("sweeping background sizes")?;
    print_table(cfg, &result);
    let row = |k: Option<usize>| k.map(|k| &result.rows[k]);
    let optimum = Optimum {
        name,
        size: cfg.object,
        centred: row(result.best_centred)
            .and_then(|r| r.centred.map(|c| (r.ratio, r.background, c.pair))),
        any: row(result.best_any).map(|r| (r.ratio, r.best_offset, r.best)),
    };
    let Some(best) = result.best_centred else {
        println!("the trigger fits beside the object at none of the ratios");
        return Ok(optimum);
    };
    let row = &result.rows[best];
    let scene = Scene::centred(cfg.layout, cfg.object, row.background, cfg.trigger)?;
    let grid =
        TriggerGrid::whole_image(scene.width, scene.height, cfg.trigger, args.heatmap_stride);
    let map =
        trigger_map((scene.width, scene.height), scene.object, cfg.trigger, grid, sampler, &cfg.mc);
    let on_object = |i, j| {
        let (x, y) = grid.position(i, j);
        let t = corruptencoder_augment::CropBox { x, y, w: cfg.trigger, h: cfg.trigger };
        t.overlap(&scene.object) > 0
    };
    let mark = map.best(|i, j| !on_object(i, j));
    let img = render_trigger_map(&map, on_object, mark, 720);
    let mut png = Vec::new();
    img.write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
        .context("encoding heatmap")?;
    write_atomic(heatmap, &png)?;
    if let Some((i, j)) = mark {
        let (x, y) = grid.position(i, j);
        let p = map.at(i, j);
        println!(
            "heatmap of P(poisoned pair) over trigger positions at ratio {:.2} ({}x{}): {} \
             (best trigger at x={x} y={y}: {:.4} +- {:.4})",
            row.ratio,
            scene.width,
            scene.height,
            heatmap.display(),
            p.p,
            p.se
        );
    }
    Ok(optimum)
}
