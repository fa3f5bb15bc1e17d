//! Batch norm in training mode over contiguous `[B, C, S]` `f32` slices (S: pixels per
//! channel): one pass for the statistics, one to normalise (forward); one for the two
//! gradient sums, one for the input gradient (backward). burn's default instead records
//! reductions over `swap_dims` copies and element-wise passes, each its own full sweep.
//!
//! Sums run per channel in image order, accumulated in `f64`, so the bits never depend on
//! the thread count. Each sum is one sequential chain (its order fixes its bits), so a lone
//! chain waits on every addition's latency; a task therefore runs [`LANES`] channels' chains
//! side by side, each still in its own order.

use rayon::prelude::*;

/// Sizes of a batch-norm input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BnShape {
    pub(crate) batch: usize,
    pub(crate) channels: usize,
    pub(crate) pixels: usize,
}

/// Channels whose sums one task runs side by side.
const LANES: usize = 4;

impl BnShape {
    fn len(&self) -> usize {
        self.batch * self.channels * self.pixels
    }

    /// `f(c, lanes)` for the groups of up to [`LANES`] channels from `c` on, flattened to one
    /// value per channel in channel order.
    fn per_channel<T: Send + Copy>(
        &self,
        f: impl Fn(usize, usize) -> [T; LANES] + Sync + Send,
    ) -> Vec<T> {
        let groups: Vec<([T; LANES], usize)> = (0..self.channels.div_ceil(LANES))
            .into_par_iter()
            .map(|g| {
                let lanes = LANES.min(self.channels - g * LANES);
                (f(g * LANES, lanes), lanes)
            })
            .collect();
        groups.into_iter().flat_map(|(v, lanes)| v.into_iter().take(lanes)).collect()
    }

    /// Adds `term(lane, values...)` over channel `c + lane`'s elements, lane by lane, in
    /// image order then pixel order: for each of `LANES` channels from `c` (lanes past
    /// `lanes` sum nothing), the same chain of additions a loop over that channel alone
    /// makes. `slices` are `[B, C, S]` tensors read at the same element.
    fn sum_lanes<const K: usize, const N: usize>(
        &self,
        c: usize,
        lanes: usize,
        slices: [&[f32]; N],
        term: impl Fn(usize, [f32; N]) -> [f64; K],
    ) -> [[f64; K]; LANES] {
        let mut acc = [[0.0f64; K]; LANES];
        let image = self.channels * self.pixels;
        let at = |b: usize, lane: usize| b * image + (c + lane) * self.pixels;
        for b in 0..self.batch {
            if lanes == LANES {
                for i in 0..self.pixels {
                    for (lane, acc) in acc.iter_mut().enumerate() {
                        let values = slices.map(|v| v[at(b, lane) + i]);
                        for (a, t) in acc.iter_mut().zip(term(lane, values)) {
                            *a += t;
                        }
                    }
                }
            } else {
                for (lane, acc) in acc.iter_mut().enumerate().take(lanes) {
                    for i in 0..self.pixels {
                        let values = slices.map(|v| v[at(b, lane) + i]);
                        for (a, t) in acc.iter_mut().zip(term(lane, values)) {
                            *a += t;
                        }
                    }
                }
            }
        }
        acc
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
    let stats = s.per_channel(|c, lanes| {
        let sums = s.sum_lanes(c, lanes, [x], |_, [v]| [f64::from(v)]);
        let mean = sums.map(|[sum]| sum / n);
        let squares = s.sum_lanes(c, lanes, [x], |lane, [v]| [(f64::from(v) - mean[lane]).powi(2)]);
        std::array::from_fn(|lane| (mean[lane], squares[lane][0] / n))
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
    let sums = s.per_channel(|c, lanes| {
        let m: [f64; LANES] =
            std::array::from_fn(|l| mean.get(c + l).map_or(0.0, |&m| f64::from(m)));
        let sums = s.sum_lanes(c, lanes, [x, dy], |lane, [x, dy]| {
            [f64::from(dy), f64::from(dy) * (f64::from(x) - m[lane])]
        });
        sums.map(|[sum_dy, sum_dy_xc]| (sum_dy, sum_dy_xc))
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

    /// Channel `c`'s sums as one loop over that channel alone: `(sum x, sum (x - m)^2,
    /// sum dy, sum dy (x - m))` with `m` the mean from the first sum.
    fn channel_sums(s: &BnShape, x: &[f32], dy: &[f32], c: usize) -> [f64; 4] {
        let n = (s.batch * s.pixels) as f64;
        let at = |b: usize| b * s.channels * s.pixels + c * s.pixels;
        let elements = || (0..s.batch).flat_map(|b| (0..s.pixels).map(move |i| at(b) + i));
        let sum = elements().fold(0.0f64, |a, i| a + f64::from(x[i]));
        let m = sum / n;
        let squares = elements().fold(0.0f64, |a, i| a + (f64::from(x[i]) - m).powi(2));
        let m32 = f64::from(m as f32);
        let sum_dy = elements().fold(0.0f64, |a, i| a + f64::from(dy[i]));
        let sum_dy_xc =
            elements().fold(0.0f64, |a, i| a + f64::from(dy[i]) * (f64::from(x[i]) - m32));
        [sum, squares, sum_dy, sum_dy_xc]
    }

    #[test]
    fn side_by_side_sums_equal_each_channels_own_loop_bit_for_bit() {
        // 6 channels: one full group of four and a group of two.
        let s = BnShape { batch: 3, channels: 6, pixels: 7 };
        let x: Vec<f32> = (0..126).map(|i| ((i * 7919) % 1013) as f32 / 97.0 - 4.0).collect();
        let dy: Vec<f32> = (0..126).map(|i| ((i * 104_729) % 997) as f32 / 113.0 - 3.0).collect();
        let gamma: Vec<f32> = (0..6).map(|c| 0.5 + c as f32 * 0.25).collect();
        let (_, mean, var) = batch_norm_forward(&s, &x, &gamma, &[0.0; 6], 1e-5);
        let (_, dgamma, dbeta) = batch_norm_backward(&s, &x, &gamma, &mean, &var, 1e-5, &dy);
        let n = 21.0;
        for c in 0..6 {
            let [sum, squares, sum_dy, sum_dy_xc] = channel_sums(&s, &x, &dy, c);
            assert_eq!(mean[c].to_bits(), ((sum / n) as f32).to_bits(), "mean {c}");
            assert_eq!(var[c].to_bits(), ((squares / n) as f32).to_bits(), "var {c}");
            assert_eq!(dbeta[c].to_bits(), (sum_dy as f32).to_bits(), "dbeta {c}");
            let inv_std = 1.0 / (f64::from(var[c]) + 1e-5).sqrt();
            assert_eq!(dgamma[c].to_bits(), ((sum_dy_xc * inv_std) as f32).to_bits(), "dgamma {c}");
        }
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
