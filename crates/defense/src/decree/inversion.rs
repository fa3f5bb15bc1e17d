//! DECREE's trigger inversion (Feng et al., CCS 2023; `GiantSeaweed/DECREE`, `main.py`):
//! a mask `m` and a pattern `p`, each the image of an unbounded tensor through `tanh`, are
//! optimised so that clean images stamped with them, `(1 - m) x + m p`, collapse to one
//! embedding (the mean pairwise cosine similarity of their embeddings near 1) while the
//! mask stays small (`lambda * |m|_1`, with `lambda` raised or lowered as the similarity
//! passes a threshold or not). A backdoored encoder collapses for a mask the size of its
//! trigger; a clean one needs most of the image. The smallest mask that reached the
//! threshold is the inverted trigger.
use corruptencoder_core::{item_rng, uniform};
use corruptencoder_train::burn::prelude::*;

use super::DecreeConfig;

/// What the reference adds so `atanh` and `tanh` stay inside (0, 1).
const EPSILON: f64 = 1e-6;

/// The random stream of the mask's and pattern's starting values.
const INIT_STREAM: u64 = 7;

/// The inverted trigger and how it was found.
#[derive(Debug, Clone)]
pub struct Inversion {
    /// The smallest successful mask, `size x size` in [0, 1]; `None` if no step reached
    /// the similarity threshold.
    pub mask: Option<Vec<f32>>,
    /// Its pattern, planar `3 x size x size` in [0, 1].
    pub pattern: Option<Vec<f32>>,
    /// Side of the mask.
    pub size: usize,
    /// The mask's L1 norm over its three channels, as the reference's regulariser counts it.
    pub l1: Option<f64>,
    /// Steps taken.
    pub steps: usize,
    /// Mean pairwise cosine similarity of the stamped images' embeddings, last step.
    pub last_similarity: f64,
}

impl Inversion {
    /// The mask's L1 norm over the image's pixels and channels: the share of the image the
    /// trigger covers (DECREE's PL1-norm). `None` without a successful mask.
    pub fn pl1(&self) -> Option<f64> {
        self.l1.map(|l1| l1 / (3 * self.size * self.size) as f64)
    }
}

/// Adam's state for one flat parameter.
struct Adam {
    m: Vec<f64>,
    v: Vec<f64>,
    t: i32,
}

impl Adam {
    /// The reference's betas (0.5, 0.9).
    const BETAS: (f64, f64) = (0.5, 0.9);

    fn new(len: usize) -> Self {
        Self { m: vec![0.0; len], v: vec![0.0; len], t: 0 }
    }

    fn step(&mut self, param: &mut [f64], grad: &[f32], lr: f64) {
        let (b1, b2) = Self::BETAS;
        self.t += 1;
        let (c1, c2) = (1.0 - b1.powi(self.t), 1.0 - b2.powi(self.t));
        for (((p, &g), m), v) in param.iter_mut().zip(grad).zip(&mut self.m).zip(&mut self.v) {
            let g = f64::from(g);
            *m = b1 * *m + (1.0 - b1) * g;
            *v = b2 * *v + (1.0 - b2) * g * g;
            *p -= lr * (*m / c1) / ((*v / c2).sqrt() + 1e-8);
        }
    }
}

/// The reference's learning rate for its CIFAR-sized encoders: the set rate for 30 epochs,
/// then 0.1 until epoch 50, then 0.05.
fn learning_rate(config: &DecreeConfig, epoch: usize) -> f64 {
    match epoch {
        e if e < 30 => config.lr,
        e if e < 50 => 0.1,
        _ => 0.05,
    }
}

/// The values of a tensor this module made as `f32`.
fn host<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().expect("the inversion's tensors are f32")
}

/// `(tanh(raw) / (2 - eps) + 0.5)`, clipped to [0, 1]: the reference's squashing.
fn squash(raw: Tensor<2>) -> Tensor<2> {
    (raw.tanh() / (2.0 - EPSILON) + 0.5).clamp(0.0, 1.0)
}

/// `atanh((x - 0.5) (2 - eps))`: the unbounded value whose squashing is `x`.
fn unsquash(x: f64) -> f64 {
    ((x - 0.5) * (2.0 - EPSILON)).atanh()
}

/// Mean cosine similarity between the rows of `z` `[N, D]`, the diagonal left out.
fn self_similarity(z: Tensor<2>) -> Tensor<1> {
    let [n, _] = z.dims();
    let unit = z.clone() / z.powi_scalar(2).sum_dim(1).sqrt().clamp_min(1e-12);
    let sims = unit.clone().matmul(unit.transpose());
    let total = sims.sum();
    // The diagonal holds n ones.
    (total - n as f64) / (n * (n - 1)) as f64
}

/// Inverts a trigger for `forward` (unnormalised `[N, 3, S, S]` images in [0, 1] to
/// embeddings; it must carry gradients to its input on `device`, an autodiff device) over
/// the clean `shadow` images (planar, `[0, 1]`, `n x 3 x size x size`), one batch per
/// epoch as the reference's 50-image shadow sets make it.
pub fn invert_trigger(
    forward: &dyn Fn(Tensor<4>) -> Tensor<2>,
    shadow: &[f32],
    size: usize,
    config: &DecreeConfig,
    device: &Device,
) -> Inversion {
    let pixels = size * size;
    let n = shadow.len() / (3 * pixels);
    let rng = &mut item_rng(config.seed, INIT_STREAM, 0);
    let mut mask_raw: Vec<f64> = (0..pixels).map(|_| unsquash(uniform(rng, 0.0, 1.0))).collect();
    let mut pattern_raw: Vec<f64> =
        (0..3 * pixels).map(|_| unsquash(uniform(rng, 0.0, 1.0))).collect();
    let (mut adam_mask, mut adam_pattern) = (Adam::new(pixels), Adam::new(3 * pixels));
    let clean =
        Tensor::<4>::from_data(TensorData::new(shadow.to_vec(), [n, 3, size, size]), device);
    let mut schedule = Lambda::new(config);
    let mut best: Option<(f64, Vec<f32>, Vec<f32>)> = None;
    let (mut steps, mut last_similarity) = (0, 0.0);
    let mut stall = 0;
    for epoch in 0..config.epochs {
        let to_tensor = |v: &[f64], shape: [usize; 2]| {
            let data: Vec<f32> = v.iter().map(|&x| x as f32).collect();
            Tensor::<2>::from_data(TensorData::new(data, shape), device).require_grad()
        };
        let (m_raw, p_raw) =
            (to_tensor(&mask_raw, [1, pixels]), to_tensor(&pattern_raw, [3, pixels]));
        let (mask, pattern) = (squash(m_raw.clone()), squash(p_raw.clone()));
        let m4 = mask.clone().reshape([1, 1, size, size]);
        let p4 = pattern.clone().reshape([1, 3, size, size]);
        let stamped = (clean.clone() * (m4.clone().neg() + 1.0) + m4 * p4).clamp(0.0, 1.0);
        let similarity = self_similarity(forward(stamped));
        // The reference's L1 counts the 2-D mask repeated over three channels.
        let l1 = mask.clone().sum() * 3.0;
        let loss = similarity.clone().neg() + l1.clone() * schedule.lambda;
        let grads = loss.backward();
        let g_mask = host(m_raw.grad(&grads).expect("the mask is tracked"));
        let g_pattern = host(p_raw.grad(&grads).expect("the pattern is tracked"));
        let lr = learning_rate(config, epoch);
        adam_mask.step(&mut mask_raw, &g_mask, lr);
        adam_pattern.step(&mut pattern_raw, &g_pattern, lr);
        steps += 1;
        let cos = similarity.into_scalar::<f64>();
        let l1 = l1.into_scalar::<f64>();
        last_similarity = cos;
        let success = cos.abs() > config.similarity_threshold;
        if success && best.as_ref().is_none_or(|b| l1 < b.0) {
            best = Some((l1, host(mask), host(pattern)));
            stall = 0;
        } else if best.is_some() {
            stall += 1;
        }
        schedule.update(success);
        if success && stall > config.early_stop_patience {
            break;
        }
    }
    let (l1, mask, pattern) = match best {
        Some((l1, m, p)) => (Some(l1), Some(m), Some(p)),
        None => (None, None, None),
    };
    Inversion { mask, pattern, size, l1, steps, last_similarity }
}

/// The reference's adaptive weight of the mask's L1 norm: up 5x after more than
/// `patience` successful steps in a row, down 5x after as many failures (not below
/// `lambda_min`), reset to its start when it sat below `lambda_min` through `2 patience`
/// successes.
struct Lambda {
    lambda: f64,
    start: f64,
    min: f64,
    patience: usize,
    up: usize,
    down: usize,
    low: usize,
}

impl Lambda {
    const FACTOR: f64 = 5.0;
    const MAX: f64 = 1e5;

    fn new(c: &DecreeConfig) -> Self {
        Self {
            lambda: c.lambda_start,
            start: c.lambda_start,
            min: c.lambda_min,
            patience: c.patience,
            up: 0,
            down: 0,
            low: 0,
        }
    }

    fn update(&mut self, success: bool) {
        if self.lambda < self.min && success {
            self.low += 1;
            if self.low > 2 * self.patience {
                self.lambda = self.start;
                (self.up, self.down) = (0, 0);
            }
        } else {
            self.low = 0;
        }
        if success {
            (self.up, self.down) = (self.up + 1, 0);
        } else {
            (self.up, self.down) = (0, self.down + 1);
        }
        if self.up > self.patience {
            if self.lambda < Self::MAX {
                self.lambda *= Self::FACTOR;
            }
            self.up = 0;
        } else if self.down > self.patience {
            if self.lambda >= self.min {
                self.lambda /= Self::FACTOR;
            }
            self.down = 0;
        }
    }
}
