//! Times the layout Monte Carlo: view pairs per second under each crop policy, on the
//! authors' default geometry (object 400x300, background 800x300, trigger 40 centred).
//! Run with `bench/theory_mc.sh` (release build; `RAYON_NUM_THREADS` picks the cores).
#![expect(clippy::print_stdout, reason = "a benchmark prints its timings")]

use std::time::Instant;

use corruptencoder_augment::{CropPolicy, LocalizedCrop, RandomResizedCrop, SquareCrop};
use corruptencoder_poison::{Layout, McConfig, Scene, estimate};

fn main() {
    let samples = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(100_000_000);
    let scene = Scene::centred(Layout::Left, (400, 300), 800, 40).expect("default geometry fits");
    let cfg = McConfig { samples, seed: 0, object_fraction: 0.5 };
    println!("threads {}, {samples} pairs per policy", rayon::current_num_threads());
    let time = |name: &str, run: &dyn Fn() -> f64| {
        let start = Instant::now();
        let pair = run();
        let secs = start.elapsed().as_secs_f64();
        println!(
            "{name:>10}: {:>6.1} M pairs/s  (P(pair) = {pair:.4}, {secs:.2} s)",
            samples as f64 / secs / 1e6
        );
    };
    let standard = CropPolicy::Standard(RandomResizedCrop::default());
    let localized = CropPolicy::Localized(LocalizedCrop::default());
    time("standard", &|| estimate(&scene, &standard, &cfg).pair.p);
    time("localized", &|| estimate(&scene, &localized, &cfg).pair.p);
    time("square", &|| estimate(&scene, &SquareCrop { size: 150 }, &cfg).pair.p);
}
