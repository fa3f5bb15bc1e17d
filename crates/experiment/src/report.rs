//! What the report states next to the numbers, and the figures it embeds.
use std::path::Path;

use corruptencoder_augment::{CropBox, CropPolicy, RandomResizedCrop};
use corruptencoder_core::write_atomic;
use corruptencoder_data::ImageLimits;
use corruptencoder_data::png_bytes;
use corruptencoder_poison::{AreaRatio, resized_object_size};
use corruptencoder_report::{Figure, RunResult, Setting};
use corruptencoder_theory::{
    Layout, McConfig, Scene, TriggerGrid, render_trigger_map, trigger_map,
};
use corruptencoder_train::MethodConfig;
use corruptencoder_train::burn::prelude::Device;

use crate::config::{DataConfig, ExperimentConfig};
use crate::error::{Result, io};
use crate::inputs::Inputs;
use crate::plan::run_dir;

/// Every setting that decides the numbers, as `key: value` lines.
pub(crate) fn settings(
    config: &ExperimentConfig,
    inputs: &Inputs,
    device: &Device,
) -> Vec<Setting> {
    let mut s = Vec::new();
    data_settings(&mut s, config, inputs);
    attack_settings(&mut s, config, inputs);
    training_settings(&mut s, config);
    eval_settings(&mut s, config);
    s.push(Setting::new(
        "seeds",
        config.seeds.iter().map(u64::to_string).collect::<Vec<_>>().join(", "),
    ));
    s.push(Setting::new("device", format!("{device:?}")));
    s
}

fn data_settings(s: &mut Vec<Setting>, config: &ExperimentConfig, inputs: &Inputs) {
    match &config.data {
        DataConfig::Synthetic(d) => {
            s.push(Setting::new(
                "data",
                format!(
                    "embedded synthetic world \"{}\": {} {}, {} px images, world seed {}",
                    d.world.kind.name(),
                    d.world.classes,
                    d.world.kind.describe(),
                    d.world.size,
                    d.world.seed
                ),
            ));
            s.push(Setting::new(
                "backgrounds",
                format!(
                    "{} procedural, {}x{}",
                    d.backgrounds, d.background_size.0, d.background_size.1
                ),
            ));
        }
        DataConfig::Files(f) => {
            s.push(Setting::new("pre-training data", f.pretrain.display()));
            s.push(Setting::new("downstream train", f.downstream_train.display()));
            s.push(Setting::new("downstream test", f.downstream_test.display()));
        }
    }
    s.push(Setting::new("clean pre-training images", inputs.clean_images));
    s.push(Setting::new(
        "downstream train / test images",
        format!("{} / {} ({} classes)", inputs.train.len(), inputs.test.len(), inputs.classes),
    ));
}

fn attack_settings(s: &mut Vec<Setting>, config: &ExperimentConfig, inputs: &Inputs) {
    let a = &config.attack;
    let target_name = inputs.class_names.get(a.target).map_or(String::new(), |n| format!(" ({n})"));
    s.push(Setting::new("target class", format!("{}{target_name}", a.target)));
    s.push(Setting::new(
        "poisoning ratio",
        format!(
            "{:.2}% ({} poisons per attack arm)",
            100.0 * a.poison_ratio,
            crate::inputs::poisons_for(a.poison_ratio, inputs.clean_images)
        ),
    ));
    s.push(Setting::new("reference objects", a.references));
    if let Some(seed) = a.poison_seed {
        s.push(Setting::new("poisons drawn with seed", format!("{seed} in every run")));
    }
    let trigger = match (&config.data, &inputs.sources.trigger) {
        // Inside the experiment folder, whose path changes when it is renamed into place.
        (DataConfig::Synthetic(_), _) => "generated 4x4 colour blocks (data/trigger.png)".into(),
        (_, Some(corruptencoder_poison::TriggerSource::File(p))) => p.display().to_string(),
        (_, Some(corruptencoder_poison::TriggerSource::White)) => "white square".into(),
        (_, None) => "none".into(),
    };
    s.push(Setting::new("trigger", trigger));
    s.push(Setting::new("trigger size on test images", config.testset.trigger_size));
    for arm in &config.arms {
        if let Some(attack) = &arm.attack {
            s.push(Setting::new(format!("arm {} attack", arm.name), attack.describe()));
        }
        if let Some(defense) = &arm.defense {
            s.push(Setting::new(format!("arm {} defense", arm.name), defense.describe()));
        }
    }
    s.push(Setting::new(
        "triggered test set",
        format!("band {}, {:?}", config.testset.band, config.testset.format),
    ));
}

fn training_settings(s: &mut Vec<Setting>, config: &ExperimentConfig) {
    let p = &config.pretrain;
    let e = &p.encoder;
    s.push(Setting::new(
        "encoder",
        format!(
            "{:?}, {:?} stem, width {} ({}-d features)",
            e.arch,
            e.stem,
            e.width,
            e.feature_dim()
        ),
    ));
    s.push(Setting::new("method", p.method.describe()));
    // CLIP trains with AdamW (its betas in the method's table); the others with SGD.
    let optimiser = match &p.method {
        MethodConfig::Clip(c) => format!(
            "AdamW lr {} betas ({}, {}) eps {} wd {}",
            p.optim.lr, c.adam.beta1, c.adam.beta2, c.adam.eps, p.optim.weight_decay
        ),
        _ => format!(
            "SGD lr {} momentum {} wd {}",
            p.optim.lr, p.optim.momentum, p.optim.weight_decay
        ),
    };
    s.push(Setting::new(
        "pre-training",
        format!(
            "{} epochs, batch {}, {optimiser}, cosine, {} warm-up epochs",
            p.epochs, p.batch_size, p.optim.warmup_epochs
        ),
    ));
    s.push(Setting::new(
        "views",
        format!(
            "{} px, {:?} crops (scale {:?}) unless an arm's defense changes them",
            p.views.size, p.views.crops, p.views.crop.scale
        ),
    ));
}

fn eval_settings(s: &mut Vec<Setting>, config: &ExperimentConfig) {
    let ev = &config.eval;
    s.push(Setting::new("downstream classifier", ev.classifier.describe()));
    s.push(Setting::new(
        "test transform",
        match ev.transform.resize {
            0 => format!("centre crop {}", ev.transform.crop),
            r => format!("resize shorter side to {r}, centre crop {}", ev.transform.crop),
        },
    ));
}

/// Copies each attack's poison preview beside the report and draws the layout theory's
/// heatmap for the first reference; returns them as figures.
pub(crate) fn figures(
    config: &ExperimentConfig,
    inputs: &Inputs,
    out: &Path,
    runs: &[RunResult],
    limits: &ImageLimits,
) -> Result<Vec<Figure>> {
    let dir = out.join("figures");
    fs_err::create_dir_all(&dir).map_err(io("create", &dir))?;
    let mut figures = Vec::new();
    let mut seen = Vec::new();
    for (arm, _, dir) in first_runs(config, out, runs, |_| true) {
        let name = arm.attack_name();
        if arm.attack.is_none() || seen.contains(&name) {
            continue;
        }
        let preview = dir.join("poisons").join("preview.png");
        if let Ok(bytes) = fs_err::read(&preview) {
            let file = format!("figures/poisons-{name}.png");
            write_atomic(&out.join(&file), &bytes)?;
            figures.push(Figure {
                file,
                caption: format!("The first {name} poisons (arm {}).", arm.name),
            });
            seen.push(name);
        }
    }
    if let Some(figure) = heatmap(config, inputs, out, limits)? {
        figures.push(figure);
    }
    figures.extend(crate::detection::histograms(config, out, runs)?);
    figures.extend(crate::decree::trigger_figures(config, out, runs)?);
    Ok(figures)
}

/// Each arm's first run that `has` what a figure draws, with the run's folder under `out`.
pub(crate) fn first_runs<'a>(
    config: &'a ExperimentConfig,
    out: &Path,
    runs: &'a [RunResult],
    has: impl Fn(&RunResult) -> bool,
) -> Vec<(&'a crate::config::ArmConfig, &'a RunResult, std::path::PathBuf)> {
    config
        .arms
        .iter()
        .filter_map(|arm| {
            let run = runs.iter().find(|r| r.arm == arm.name && has(r))?;
            Some((arm, run, run_dir(out, &arm.name, run.sweep.as_ref(), run.seed)))
        })
        .collect()
}

/// P(poisoned pair) over trigger positions for the first reference at the configured
/// area ratio, under the standard crops (method.md section 4): where the trigger should go.
/// The layout theory's heatmap for the first CorruptEncoder arm's settings and reference.
fn heatmap(
    config: &ExperimentConfig,
    inputs: &Inputs,
    out: &Path,
    limits: &ImageLimits,
) -> Result<Option<Figure>> {
    let ce = config.arms.iter().find_map(|a| {
        let attack = a.attack.as_ref()?;
        Some((attack, attack.layout_theory()?))
    });
    let Some((attack, a)) = ce else { return Ok(None) };
    let loaded = attack.load_inputs(&inputs.sources, limits)?;
    let Some(reference) = loaded.references.first() else { return Ok(None) };
    let b = reference.object_box;
    let (o_w, o_h) = resized_object_size((b.w, b.h), a.max_size, Layout::Left);
    let ratio = match a.area_ratio {
        AreaRatio::Fixed(r) => r,
        AreaRatio::Optimal { .. } => 2.0,
    };
    let background = (ratio * f64::from(o_w)) as u32;
    let Ok(scene) = Scene::centred(Layout::Left, (o_w, o_h), background, a.trigger_size) else {
        return Ok(None);
    };
    let stride = (scene.width / 48).max(1);
    let grid = TriggerGrid::whole_image(scene.width, scene.height, a.trigger_size, stride);
    let sampler = CropPolicy::Standard(RandomResizedCrop::default());
    let mc = McConfig { samples: 400_000, seed: config.seeds[0], ..Default::default() };
    let map =
        trigger_map((scene.width, scene.height), scene.object, a.trigger_size, grid, &sampler, &mc);
    let on_object = |i, j| {
        let (x, y) = grid.position(i, j);
        CropBox { x, y, w: a.trigger_size, h: a.trigger_size }.overlap(&scene.object) > 0
    };
    let mark = map.best(|i, j| !on_object(i, j));
    let img = render_trigger_map(&map, on_object, mark, 640);
    let file = "figures/theory-heatmap.png".to_owned();
    write_atomic(&out.join(&file), &png_bytes(&img))?;
    Ok(Some(Figure {
        file,
        caption: format!(
            "Layout theory: probability that a pair of standard crops is a poisoned pair, over \
             trigger positions, for reference {} ({o_w}x{o_h} object) at area ratio {ratio} \
             ({}x{} poison); the object is masked, the best position marked.",
            reference.name, scene.width, scene.height
        ),
    }))
}
