//! Times the linear probe with the paper's settings on random clustered features.
//!
//! `cargo run --release -p corruptencoder-eval --example probe_timing -- 5000 512 100`
#![expect(clippy::print_stdout, reason = "an example reports its timing on stdout")]

use std::time::Instant;

use corruptencoder_core::item_rng;
use corruptencoder_eval::{Features, KnnClassifier, KnnConfig, LinearProbe, LinearProbeConfig};
use rand::Rng as _;

fn main() -> Result<(), corruptencoder_eval::Error> {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let (rows, dim, classes) = match args[..] {
        [r, d, c, ..] => (r, d, c),
        _ => (5000, 512, 100),
    };
    // Class centres plus uniform noise: enough structure for the probe to learn.
    let mut rng = item_rng(0, 0, 0);
    let centres: Vec<f32> = (0..classes * dim).map(|_| rng.random::<f32>() - 0.5).collect();
    let labels: Vec<usize> = (0..rows).map(|i| i % classes).collect();
    let data: Vec<f32> = labels
        .iter()
        .flat_map(|&l| (0..dim).map(move |k| (l, k)))
        .map(|(l, k)| centres[l * dim + k] + 2.0 * (rng.random::<f32>() - 0.5))
        .collect();
    let features = Features::new(data, dim)?;

    let start = Instant::now();
    let (probe, history) =
        LinearProbe::fit(&LinearProbeConfig::default(), &features, &labels, classes, 1)?;
    let fit = start.elapsed();
    let predictions = probe.predict(&features)?;
    let correct = predictions.iter().zip(&labels).filter(|(p, l)| p == l).count();
    println!(
        "linear probe: {rows} x {dim}, {classes} classes, 40 epochs: {:.2} s \
         (final loss {:.4}, train acc {:.3}, {} threads)",
        fit.as_secs_f64(),
        history.epoch_loss.last().copied().unwrap_or(f32::NAN),
        correct as f64 / rows as f64,
        rayon::current_num_threads(),
    );

    let start = Instant::now();
    let knn = KnnClassifier::new(KnnConfig::default(), &features, &labels, classes)?;
    let knn_predictions = knn.predict(&features)?;
    let knn_correct = knn_predictions.iter().zip(&labels).filter(|(p, l)| p == l).count();
    println!(
        "kNN (k 200): {rows} queries against {rows}: {:.2} s (acc {:.3})",
        start.elapsed().as_secs_f64(),
        knn_correct as f64 / rows as f64
    );
    Ok(())
}
