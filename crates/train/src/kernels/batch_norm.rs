//! Batch norm in training mode over contiguous `[B, C, S]` `f32` slices (S: pixels per
//! channel): one pass for the statistics, one to normalise (forward); one for the two
//! gradient sums, one for the input gradient (backward). burn's default instead records
//! reductions over `swap_dims` copies and element-wise passes, each its own full sweep.
//!
//! Sums run per channel in image order, accumulated in `f64`, one channel per task, so
//! the bits never depend on the thread count.

use rayon::prelude::*;

/// Sizes of a batch-norm input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BnShape {
    pub(crate) batch: usize,
    pub(crate) channels: usize,
    pub(crate) pixels: usize,
}

impl BnShape {
    fn len(&self) -> usize {
        self.batch * self.channels * self.pixels
    }

    /// `f(c, segment)` summed over channel `c`'s segments (one per image), in image order.
    fn per_channel<T: Send>(&self, f: impl Fn(usize, usize) -> T + Sync + Send) -> Vec<T> {
        (0..self.channels).into_par_iter().map(|c| f(c, self.channels * self.pixels)).collect()
    }
}

/// Output, batch mean and biased batch variance (both `[C]`), as `batch_norm_train` returns.
pub(crate) fn batch_norm_forward(
    s: &BnShape,
    x: &[f32],
    gamma: &[f32],
    beta: &[f32],
    epsilon: f64,
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    assert_eq!(x.len(), s.len(), "input shape");
    assert!(gamma.len() == s.channels && beta.len() == s.channels, "affine shape");
    let n = (s.batch * s.pixels) as f64;
    let stats = s.per_channel(|c, image| {
        let segments = || (0..s.batch).map(move |b| &x[b * image + c * s.pixels..][..s.pixels]);
        let mean = segments().flatten().map(|v| f64::from(*v)).sum::<f64>() / n;
        let var = segments().flatten().map(|v| (f64::from(*v) - mean).powi(2)).sum::<f64>() / n;
        (mean, var)
    });
    // y = x * scale + shift per channel.
    let affine: Vec<(f32, f32)> = stats
        .iter()
        .zip(gamma.iter().zip(beta))
        .map(|(&(mean, var), (&g, &b))| {
            let scale = f64::from(g) / (var + epsilon).sqrt();
            (scale as f32, (f64::from(b) - mean * scale) as f32)
        })
        .collect();
    let mut y = vec![0.0; s.len()];
    y.par_chunks_mut(s.pixels).zip(x.par_chunks(s.pixels)).enumerate().for_each(|(i, (y, x))| {
        let (scale, shift) = affine[i % s.channels];
        // Not `mul_add`: without FMA in the target features (portable x86-64 builds) it is a
        // call to libm's `fmaf` per element, 8 % of a training step in the profile.
        for (y, x) in y.iter_mut().zip(x) {
            *y = x * scale + shift;
        }
    });
    let (mean, var) = stats.iter().map(|&(m, v)| (m as f32, v as f32)).unzip();
    (y, mean, var)
}

/// Gradients `(dx, dgamma, dbeta)` of [`batch_norm_forward`]'s output, given the statistics
/// it returned and the output gradient `dy`.
pub(crate) fn batch_norm_backward(
    s: &BnShape,
    x: &[f32],
    gamma: &[f32],
    mean: &[f32],
    var: &[f32],
    epsilon: f64,
    dy: &[f32],
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    assert!(x.len() == s.len() && dy.len() == s.len(), "input shape");
    let n = (s.batch * s.pixels) as f64;
    let inv_std: Vec<f64> = var.iter().map(|v| 1.0 / (f64::from(*v) + epsilon).sqrt()).collect();
    // Per channel: sum(dy) and sum(dy * (x - mean)); the latter times inv_std is dgamma.
    let sums = s.per_channel(|c, image| {
        let m = f64::from(mean[c]);
        let (mut sum_dy, mut sum_dy_xc) = (0.0f64, 0.0f64);
        for b in 0..s.batch {
            let at = b * image + c * s.pixels;
            for (x, dy) in x[at..][..s.pixels].iter().zip(&dy[at..][..s.pixels]) {
                sum_dy += f64::from(*dy);
                sum_dy_xc += f64::from(*dy) * (f64::from(*x) - m);
            }
        }
        (sum_dy, sum_dy_xc)
    });
    let dbeta: Vec<f32> = sums.iter().map(|s| s.0 as f32).collect();
    let dgamma: Vec<f32> = sums.iter().zip(&inv_std).map(|(s, i)| (s.1 * i) as f32).collect();
    // dx = g*is * (dy - mean(dy) - (x - mean) * is^2 * mean(dy * (x - mean)))
    //    = dy * a + x * b + c per channel.
    let coef: Vec<(f32, f32, f32)> = (0..s.channels)
        .map(|c| {
            let (g, is, m) = (f64::from(gamma[c]), inv_std[c], f64::from(mean[c]));
            let a = g * is;
            let b = -a * is * is * sums[c].1 / n;
            let k = -a * sums[c].0 / n - b * m;
            (a as f32, b as f32, k as f32)
        })
        .collect();
    let mut dx = vec![0.0; s.len()];
    dx.par_chunks_mut(s.pixels)
        .zip(x.par_chunks(s.pixels).zip(dy.par_chunks(s.pixels)))
        .enumerate()
        .for_each(|(i, (dx, (x, dy)))| {
            let (a, b, k) = coef[i % s.channels];
            for ((dx, x), dy) in dx.iter_mut().zip(x).zip(dy) {
                *dx = dy * a + (x * b + k);
            }
        });
    (dx, dgamma, dbeta)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_each_channel_and_its_gradient_matches_finite_differences() {
        let s = BnShape { batch: 3, channels: 2, pixels: 4 };
        let x: Vec<f32> = (0..24).map(|i| ((i * 7) % 11) as f32 * 0.3 - 1.0).collect();
        let (gamma, beta) = (vec![1.5, -0.5], vec![0.25, 2.0]);
        let (y, mean, var) = batch_norm_forward(&s, &x, &gamma, &beta, 1e-5);
        for c in 0..2 {
            let ys: Vec<f32> = (0..3).flat_map(|b| y[b * 8 + c * 4..][..4].to_vec()).collect();
            let m = ys.iter().sum::<f32>() / 12.0;
            assert!((m - beta[c]).abs() < 1e-5, "mean of output is beta");
            assert!(var[c] > 0.0 && mean[c].is_finite());
        }
        // Loss L = sum(y * w) for fixed weights w; compare dL/dx with central differences.
        let w: Vec<f32> = (0..24).map(|i| ((i * 5) % 7) as f32 - 3.0).collect();
        let loss = |x: &[f32]| -> f64 {
            let (y, _, _) = batch_norm_forward(&s, x, &gamma, &beta, 1e-5);
            y.iter().zip(&w).map(|(y, w)| f64::from(*y) * f64::from(*w)).sum()
        };
        let (dx, dgamma, dbeta) = batch_norm_backward(&s, &x, &gamma, &mean, &var, 1e-5, &w);
        for i in [0, 5, 13, 23] {
            let (mut up, mut down) = (x.clone(), x.clone());
            up[i] += 1e-2;
            down[i] -= 1e-2;
            let numeric = (loss(&up) - loss(&down)) / 2e-2;
            assert!((numeric - f64::from(dx[i])).abs() < 2e-2, "dx[{i}]: {numeric} vs {}", dx[i]);
        }
        let w_sum_c0: f32 = (0..3).flat_map(|b| w[b * 8..][..4].to_vec()).sum();
        assert!((dbeta[0] - w_sum_c0).abs() < 1e-5);
        assert!(dgamma.iter().all(|g| g.is_finite()));
    }

    #[test]
    fn results_are_bit_identical_whatever_the_thread_count() {
        let s = BnShape { batch: 6, channels: 5, pixels: 9 };
        let x: Vec<f32> = (0..270).map(|i| ((i * 37) % 101) as f32 * 0.02 - 1.0).collect();
        let dy: Vec<f32> = (0..270).map(|i| ((i * 13) % 29) as f32 * 0.1 - 1.4).collect();
        let (gamma, beta) = (vec![0.5, 1.0, 1.5, 2.0, -1.0], vec![0.0, 0.1, 0.2, 0.3, 0.4]);
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| {
                let (y, mean, var) = batch_norm_forward(&s, &x, &gamma, &beta, 1e-5);
                let grads = batch_norm_backward(&s, &x, &gamma, &mean, &var, 1e-5, &dy);
                (y, mean, var, grads)
            })
        };
        let (one, three) = (run(1), run(3));
        let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&one.0), bits(&three.0));
        assert_eq!(bits(&one.2), bits(&three.2));
        assert_eq!(bits(&one.3.0), bits(&three.3.0));
        assert_eq!(bits(&one.3.1), bits(&three.3.1));
    }
}
