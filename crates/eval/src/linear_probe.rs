//! The authors' linear probe on frozen features (method.md section 7).
//!
//! Ports the feature-cache linear evaluation of the SSL-Backdoor / CompRess code the
//! authors ran: L2-normalise, standardise with the training features' mean and standard
//! deviation, then train `nn.Linear(d, classes)` with softmax cross-entropy and SGD
//! (momentum, weight decay on weight and bias, `MultiStepLR`). Departures: a zero-variance
//! dimension is zeroed instead of turned into NaN, and the shuffling comes from a seed.
use corruptencoder_core::{NoProgress, Progress, SettingError, item_rng};
use rand::Rng as _;
use rand::seq::SliceRandom;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::evaluate::Classifier;
use crate::features::{Features, argmax, axpy, axpy4, check_labels, dot, dot4};
use crate::standardizer::Standardizer;

/// RNG streams of the probe, kept apart so changing one never shifts the other.
const STREAM_INIT: u64 = 0x11;
const STREAM_SHUFFLE: u64 = 0x12;

/// Linear-probe hyper-parameters. Defaults are the authors' (method.md section 7).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LinearProbeConfig {
    /// SGD learning rate (method.md section 7: 0.01).
    pub lr: f32,
    /// SGD momentum (method.md section 7: 0.9).
    pub momentum: f32,
    /// Weight decay on weight and bias, as `SGD(model.parameters())` applies (method.md section 7:
    /// 1e-4).
    pub weight_decay: f32,
    /// Mini-batch size; the last batch of an epoch may be smaller (method.md section 7: 256).
    pub batch_size: usize,
    /// Training epochs (method.md section 7: 40).
    pub epochs: usize,
    /// Epochs at whose start the learning rate is multiplied by `lr_gamma` (method.md section 7:
    /// 15, 30).
    pub lr_milestones: Vec<usize>,
    /// Learning-rate factor at each milestone (method.md section 7: 0.1).
    pub lr_gamma: f32,
}

impl Default for LinearProbeConfig {
    fn default() -> Self {
        Self {
            lr: 0.01,
            momentum: 0.9,
            weight_decay: 1e-4,
            batch_size: 256,
            epochs: 40,
            lr_milestones: vec![15, 30],
            lr_gamma: 0.1,
        }
    }
}

impl LinearProbeConfig {
    /// The report's line.
    pub fn describe(&self) -> String {
        format!(
            "linear probe on L2-normalised, standardised features: SGD lr {} momentum {} wd {}, \
             batch {}, {} epochs, x{} at {:?}",
            self.lr,
            self.momentum,
            self.weight_decay,
            self.batch_size,
            self.epochs,
            self.lr_gamma,
            self.lr_milestones
        )
    }

    /// Checks that every value can train.
    pub fn validate(&self) -> std::result::Result<(), SettingError> {
        let bad = |key, value: &dyn std::fmt::Display, problem| {
            Err(SettingError::new(key, value, problem))
        };
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return bad("lr", &self.lr, "must be a positive number");
        }
        if !(0.0..1.0).contains(&self.momentum) {
            return bad("momentum", &self.momentum, "must lie in [0, 1)");
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return bad("weight_decay", &self.weight_decay, "must be >= 0");
        }
        if self.batch_size == 0 {
            return bad("batch_size", &0, "must be > 0");
        }
        if self.epochs == 0 {
            return bad("epochs", &0, "must be > 0");
        }
        if !(self.lr_gamma.is_finite() && self.lr_gamma > 0.0) {
            return bad("lr_gamma", &self.lr_gamma, "must be a positive number");
        }
        Ok(())
    }

    /// The learning rate of 0-based `epoch` (`MultiStepLR` stepped once per epoch).
    pub fn lr_at(&self, epoch: usize) -> f32 {
        let passed = self.lr_milestones.iter().filter(|&&m| epoch >= m).count();
        self.lr * self.lr_gamma.powi(passed as i32)
    }
}

/// Per-epoch record of a probe's training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbeHistory {
    /// Mean cross-entropy over the training set, per epoch.
    pub epoch_loss: Vec<f32>,
    /// Learning rate used in each epoch.
    pub epoch_lr: Vec<f32>,
}

/// A trained linear classifier together with the preprocessing of its training features.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinearProbe {
    standardizer: Standardizer,
    /// Row-major `classes x dim`, as `nn.Linear.weight`.
    weight: Vec<f32>,
    bias: Vec<f32>,
    classes: usize,
}

impl LinearProbe {
    /// Trains a probe on `train` with `labels` in `0..classes`. Same inputs and seed give
    /// the same probe bit for bit, whatever the thread count.
    pub fn fit(
        config: &LinearProbeConfig,
        train: &Features,
        labels: &[usize],
        classes: usize,
        seed: u64,
    ) -> Result<(Self, ProbeHistory)> {
        Self::fit_with_progress(config, train, labels, classes, seed, &NoProgress)
    }

    /// [`LinearProbe::fit`], reporting one step per epoch to `progress`.
    pub fn fit_with_progress(
        config: &LinearProbeConfig,
        train: &Features,
        labels: &[usize],
        classes: usize,
        seed: u64,
        progress: &dyn Progress,
    ) -> Result<(Self, ProbeHistory)> {
        config.validate()?;
        if train.rows() == 0 {
            return Err(Error::Empty { what: "training features" });
        }
        if classes == 0 {
            return Err(Error::Empty { what: "the set of classes" });
        }
        check_labels("training labels", labels, train.rows(), classes)?;
        let normalized = train.l2_normalized();
        let standardizer = Standardizer::fit(&normalized);
        let x = standardizer.apply(&normalized)?;
        let d = x.dim();

        // nn.Linear's default init: weight and bias ~ U(-1/sqrt(d), 1/sqrt(d)).
        let mut rng = item_rng(seed, STREAM_INIT, 0);
        let bound = 1.0 / (d as f32).sqrt();
        let mut init = |len: usize| -> Vec<f32> {
            (0..len).map(|_| bound * (2.0 * rng.random::<f32>() - 1.0)).collect()
        };
        let mut probe =
            Self { weight: init(classes * d), bias: init(classes), standardizer, classes };
        let mut trainer = Trainer::new(classes, d, config.batch_size);

        let mut order: Vec<usize> = (0..x.rows()).collect();
        let mut history = ProbeHistory { epoch_loss: Vec::new(), epoch_lr: Vec::new() };
        progress.start("linear probe", config.epochs as u64);
        for epoch in 0..config.epochs {
            order.shuffle(&mut item_rng(seed, STREAM_SHUFFLE, epoch as u64));
            let lr = config.lr_at(epoch);
            let mut loss_sum = 0.0f64;
            for batch in order.chunks(config.batch_size) {
                loss_sum += trainer.step(&mut probe, config, lr, &x, labels, batch);
            }
            history.epoch_loss.push((loss_sum / x.rows() as f64) as f32);
            history.epoch_lr.push(lr);
            progress.advance(1);
        }
        progress.finish();
        Ok((probe, history))
    }

    /// Number of classes.
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// The preprocessing fitted on the training features.
    pub fn standardizer(&self) -> &Standardizer {
        &self.standardizer
    }

    /// Class scores, row-major `rows x classes`, after the training preprocessing.
    pub fn logits(&self, features: &Features) -> Result<Vec<f32>> {
        let x = self.standardizer.apply(&features.l2_normalized())?;
        let mut out = vec![0.0f32; x.rows() * self.classes];
        out.par_chunks_mut(self.classes).enumerate().for_each(|(i, o)| self.forward(x.row(i), o));
        Ok(out)
    }

    /// The predicted class of every row.
    pub fn predict(&self, features: &Features) -> Result<Vec<usize>> {
        Ok(self.logits(features)?.chunks_exact(self.classes).map(argmax).collect())
    }

    fn forward(&self, x: &[f32], out: &mut [f32]) {
        for ((o, w), b) in out.iter_mut().zip(self.weight.chunks_exact(x.len())).zip(&self.bias) {
            *o = dot(w, x) + b;
        }
    }

    /// Logits of up to four rows into `out` (`rows.len() x classes`), four at a time when
    /// it can so each weight row is read once per block.
    fn forward_block(&self, rows: &[&[f32]], out: &mut [f32]) {
        let c = self.classes;
        if let &[x0, x1, x2, x3] = rows {
            let d = x0.len();
            for (k, (w, b)) in self.weight.chunks_exact(d).zip(&self.bias).enumerate() {
                let z = dot4(w, [x0, x1, x2, x3]);
                (0..4).for_each(|r| out[r * c + k] = z[r] + b);
            }
        } else {
            rows.iter().zip(out.chunks_exact_mut(c)).for_each(|(x, o)| self.forward(x, o));
        }
    }
}

/// SGD state and scratch buffers, reused across batches.
struct Trainer {
    /// Momentum buffers of weight (`classes x dim`) and bias.
    buf_w: Vec<f32>,
    buf_b: Vec<f32>,
    /// d(loss)/d(logits) of the batch, `batch x classes`, already divided by the batch size.
    grad: Vec<f32>,
    loss: Vec<f32>,
}

impl Trainer {
    fn new(classes: usize, d: usize, batch: usize) -> Self {
        Self {
            buf_w: vec![0.0; classes * d],
            buf_b: vec![0.0; classes],
            grad: vec![0.0; batch * classes],
            loss: vec![0.0; batch],
        }
    }

    /// One SGD step on `batch` (row indices); returns the summed loss of its rows.
    ///
    /// Rows are processed in parallel for the softmax, then classes in parallel for the
    /// weight update; each sum runs in a fixed order, so results do not depend on threads.
    fn step(
        &mut self,
        probe: &mut LinearProbe,
        cfg: &LinearProbeConfig,
        lr: f32,
        x: &Features,
        labels: &[usize],
        batch: &[usize],
    ) -> f64 {
        let (c, d, n) = (probe.classes, x.dim(), batch.len());
        let inv_n = 1.0 / n as f32;
        let grad = &mut self.grad[..n * c];
        let model = &*probe;
        let blocks = grad.par_chunks_mut(4 * c).zip(self.loss[..n].par_chunks_mut(4));
        blocks.zip(batch.par_chunks(4)).for_each(|((g, loss), idx)| {
            let rows: Vec<&[f32]> = idx.iter().map(|&i| x.row(i)).collect();
            model.forward_block(&rows, g);
            for ((g, loss), &i) in g.chunks_exact_mut(c).zip(loss).zip(idx) {
                softmax_grad(g, labels[i], inv_n, loss);
            }
        });
        let grad = &self.grad[..n * c];
        let (m, wd) = (cfg.momentum, cfg.weight_decay);
        probe.weight.par_chunks_mut(d).zip(self.buf_w.par_chunks_mut(d)).enumerate().for_each(
            |(k, (w, buf))| {
                // torch SGD: buf = m * buf + (grad + wd * w); w -= lr * buf.
                buf.iter_mut().zip(w.iter()).for_each(|(b, &wi)| *b = m * *b + wd * wi);
                let blocks = batch.chunks_exact(4);
                let done = n - blocks.remainder().len();
                for (b, idx) in blocks.enumerate() {
                    let a = std::array::from_fn(|j| grad[(4 * b + j) * c + k]);
                    axpy4(a, std::array::from_fn(|j| x.row(idx[j])), buf);
                }
                for (r, &i) in batch.iter().enumerate().skip(done) {
                    axpy(grad[r * c + k], x.row(i), buf);
                }
                axpy(-lr, buf, w);
            },
        );
        for k in 0..c {
            let g: f32 = (0..n).map(|r| grad[r * c + k]).sum();
            self.buf_b[k] = m * self.buf_b[k] + g + wd * probe.bias[k];
            probe.bias[k] -= lr * self.buf_b[k];
        }
        self.loss[..n].iter().map(|&l| f64::from(l)).sum()
    }
}

/// Turns logits `g` into d(mean loss)/d(logits) for true class `y` in place, and writes the
/// row's cross-entropy to `loss`.
fn softmax_grad(g: &mut [f32], y: usize, inv_n: f32, loss: &mut f32) {
    let max = g.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    // log-sum-exp form: the loss never takes the log of an underflowed probability.
    let shifted_y = g[y] - max;
    let mut z = 0.0f32;
    g.iter_mut().for_each(|v| {
        *v = (*v - max).exp();
        z += *v;
    });
    *loss = z.ln() - shifted_y;
    g.iter_mut().for_each(|v| *v *= inv_n / z);
    g[y] -= inv_n;
}

impl Classifier for LinearProbe {
    fn classes(&self) -> usize {
        LinearProbe::classes(self)
    }
    fn predict(&self, features: &Features) -> Result<Vec<usize>> {
        LinearProbe::predict(self, features)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_drops_at_milestones() {
        let c = LinearProbeConfig::default();
        assert_eq!(c.lr_at(0), 0.01);
        assert_eq!(c.lr_at(14), 0.01);
        assert!((c.lr_at(15) - 0.001).abs() < 1e-9);
        assert!((c.lr_at(29) - 0.001).abs() < 1e-9);
        assert!((c.lr_at(30) - 0.0001).abs() < 1e-9);
    }

    #[test]
    fn config_defaults_fill_missing_fields_and_unknown_fields_fail() {
        let c: LinearProbeConfig = toml::from_str("epochs = 5").unwrap();
        assert_eq!(c, LinearProbeConfig { epochs: 5, ..Default::default() });
        assert!(toml::from_str::<LinearProbeConfig>("epoch = 5").is_err());
        assert!(LinearProbeConfig { momentum: 1.0, ..Default::default() }.validate().is_err());
    }

    #[test]
    fn gradient_step_lowers_loss_on_tiny_problem() {
        let f = Features::from_rows(&[[1.0, 0.1], [0.9, 0.0], [0.0, 1.0], [0.1, 0.8]]).unwrap();
        let cfg = LinearProbeConfig { epochs: 30, batch_size: 2, lr: 0.1, ..Default::default() };
        let (probe, h) = LinearProbe::fit(&cfg, &f, &[0, 0, 1, 1], 2, 3).unwrap();
        assert!(h.epoch_loss.last().unwrap() < &(h.epoch_loss[0] * 0.5), "{h:?}");
        assert_eq!(probe.predict(&f).unwrap(), vec![0, 0, 1, 1]);
    }
}
