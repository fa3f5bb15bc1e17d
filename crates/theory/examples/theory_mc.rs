//! Times the layout Monte Carlo: view pairs per second under each crop policy, on the
//! authors' default geometry (object 400x300, background 800x300, trigger 40 centred).
//! Run with `bench/theory_mc.sh` (release build; `RAYON_NUM_THREADS` picks the cores).
#![expect(clippy::print_stdout, reason = "a benchmark prints its timings")]

use std::time::Instant;

use corruptencoder_augment::{CropPolicy, LocalizedCrop, RandomResizedCrop, SquareCrop};
use corruptencoder_theory::{Layout, McConfig, Scene, estimate};

fn main() {
    let samples = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(100_000_000);
    let scene = Scene::centred(Layout::Left, (400, 300), 800, 40).expect("default geometry fits");
    let cfg = McConfig { samples, seed: 0, object_fraction: 0.5 };
    let threads = rayon::current_num_threads();
    // Other work on the machine slows the wall rate; the load average says how much.
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load = load.split(' ').next().unwrap_or("?");
    println!("{threads} threads, {samples} pairs per policy, load average {load} before");
    let time = |name: &str, run: &dyn Fn() -> f64| {
        let (start, cpu0) = (Instant::now(), cpu_seconds());
        let pair = run();
        let (secs, cpu) = (start.elapsed().as_secs_f64(), cpu_seconds() - cpu0);
        let m = samples as f64 / 1e6;
        // Wall rate: what this run got. Per core (pairs per CPU second): not diluted by
        // time-sharing with other processes, though still slowed by any sharing caches or
        // hyperthreads; times the thread count it is what the threads would do on idle
        // cores (chunks are independent, so it scales).
        println!(
            "{name:>10}: {:>6.1} M pairs/s wall, {:>5.1} M pairs/s per core, {:>6.1} M pairs/s \
             on {threads} idle cores (P(pair) = {pair:.4}, {secs:.2} s wall, {cpu:.2} s CPU)",
            m / secs,
            m / cpu,
            m / cpu * threads as f64
        );
    };
    let standard = CropPolicy::Standard(RandomResizedCrop::default());
    let localized = CropPolicy::Localized(LocalizedCrop::default());
    time("standard", &|| estimate(&scene, &standard, &cfg).pair.p);
    time("localized", &|| estimate(&scene, &localized, &cfg).pair.p);
    time("square", &|| estimate(&scene, &SquareCrop { size: 150 }, &cfg).pair.p);
}

/// User + system CPU seconds of this process (all threads), from `/proc/self/stat`
/// (clock ticks of 1/100 s); NaN where that file does not exist.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    let rest = stat.rsplit_once(") ").map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split(' ').collect();
    let tick = |k: usize| f.get(k).and_then(|v| v.parse::<f64>().ok()).unwrap_or(f64::NAN);
    (tick(11) + tick(12)) / 100.0
}
