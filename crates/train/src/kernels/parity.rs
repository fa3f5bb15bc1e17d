//! Gradient parity of our kernels against burn's stock flex ops on random shapes
//! (property tests): batch, channels, sizes, 1x1 / 3x3 / 7x7, stride 1 and 2, padding.
//!
//! Tolerance: every element of the output and of each gradient agrees with the stock
//! op's within `1e-4 * (1 + max |stock|)` of that tensor. Both compute the same sums in
//! `f32` in different orders (our batch norm sums in `f64`), so exact equality is not
//! expected; 1e-4 leaves a margin of ~10x over the differences seen at these sizes.

use burn::nn::BatchNormConfig;
use burn::nn::PaddingConfig2d;
use burn::nn::conv::Conv2dConfig;
use burn::prelude::*;
use burn::tensor::TensorData;
use proptest::prelude::*;

use super::{batch_norm_own, conv2d_own};

const TOLERANCE: f32 = 1e-4;

fn device() -> Device {
    Device::flex().autodiff()
}

/// Deterministic pseudo-random values in [-1, 1).
fn values(n: usize, seed: u64) -> Vec<f32> {
    let mut state = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((state >> 40) as f32) / ((1u64 << 23) as f32) - 1.0
        })
        .collect()
}

fn tensor<const D: usize>(shape: [usize; D], seed: u64) -> Tensor<D> {
    let n = shape.iter().product();
    Tensor::from_data(TensorData::new(values(n, seed), shape), &device())
}

fn assert_close<const D: usize>(ours: Tensor<D>, stock: Tensor<D>, what: &str) {
    assert_close_at(ours, stock, what, 0.0);
}

/// [`assert_close`] where the values are differences of terms up to `terms` in size, whose
/// rounding the difference keeps: the tolerance is relative to the larger of the two.
fn assert_close_at<const D: usize>(ours: Tensor<D>, stock: Tensor<D>, what: &str, terms: f32) {
    assert_eq!(ours.dims(), stock.dims(), "{what}: shape");
    let (ours, stock) = (
        ours.into_data().try_to_vec::<f32>().unwrap(),
        stock.into_data().try_to_vec::<f32>().unwrap(),
    );
    let scale = 1.0 + stock.iter().fold(terms, |m, v| m.max(v.abs()));
    for (i, (a, b)) in ours.iter().zip(&stock).enumerate() {
        assert!(
            (a - b).abs() <= TOLERANCE * scale,
            "{what}[{i}]: ours {a}, stock {b} (scale {scale})"
        );
    }
}

#[derive(Debug, Clone)]
struct ConvCase {
    batch: usize,
    c_in: usize,
    c_out: usize,
    size: [usize; 2],
    kernel: usize,
    stride: usize,
    padding: usize,
}

fn conv_cases() -> impl Strategy<Value = ConvCase> {
    (1usize..4, 1usize..5, 1usize..5, prop_oneof![Just(1usize), Just(3), Just(7)], 1usize..3)
        .prop_flat_map(|(batch, c_in, c_out, kernel, stride)| {
            (0..=kernel / 2).prop_flat_map(move |padding| {
                let min = (kernel - 2 * padding).max(1);
                (min..min + 8, min..min + 8).prop_map(move |(h, w)| ConvCase {
                    batch,
                    c_in,
                    c_out,
                    size: [h, w],
                    kernel,
                    stride,
                    padding,
                })
            })
        })
}

fn check_conv(case: &ConvCase, seed: u64) {
    let ConvCase { batch, c_in, c_out, size, kernel, stride, padding } = *case;
    let conv = Conv2dConfig::new([c_in, c_out], [kernel, kernel])
        .with_stride([stride, stride])
        .with_padding(PaddingConfig2d::Explicit(padding, padding, padding, padding))
        .with_bias(false)
        .init(&device());
    let x = tensor([batch, c_in, size[0], size[1]], seed).require_grad();
    let run = |ours: bool| {
        let y = if ours {
            conv2d_own(&conv, x.clone(), [padding, padding])
        } else {
            conv.forward(x.clone())
        };
        let r = tensor(y.dims(), seed + 1);
        let grads = (y.clone() * r).sum().backward();
        let gx = x.grad(&grads).expect("input gradient");
        let gw = conv.weight.val().grad(&grads).expect("weight gradient");
        (y, gx, gw)
    };
    let (ours, stock) = (run(true), run(false));
    assert_close(ours.0, stock.0, "conv output");
    assert_close(ours.1, stock.1, "conv input gradient");
    assert_close(ours.2, stock.2, "conv weight gradient");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn conv2d_matches_stock_flex_forward_and_gradients(case in conv_cases(), seed in 0u64..1000) {
        check_conv(&case, seed);
    }

    #[test]
    fn batch_norm_matches_stock_flex_forward_gradients_and_running_stats(
        batch in 1usize..5, channels in 1usize..6, h in 1usize..6, w in 1usize..6, seed in 0u64..1000,
    ) {
        prop_assume!(batch * h * w > 1);
        let bn_ours = BatchNormConfig::new(channels).init(&device());
        let bn_stock = BatchNormConfig::new(channels).init(&device());
        let x = (tensor([batch, channels, h, w], seed) * 3.0 + 0.5).require_grad();
        let run = |bn: &burn::nn::BatchNorm, ours: bool| {
            let y = if ours { batch_norm_own(bn, x.clone()) } else { bn.forward(x.clone()) };
            let r = tensor(y.dims(), seed + 1);
            let grads = (y.clone() * r).sum().backward();
            let gx = x.grad(&grads).expect("input gradient");
            let gg = bn.gamma.val().grad(&grads).expect("gamma gradient");
            let gb = bn.beta.val().grad(&grads).expect("beta gradient");
            (y, gx, gg, gb)
        };
        let (ours, stock) = (run(&bn_ours, true), run(&bn_stock, false));
        // The input gradient is `gamma / sigma * (dy - mean(dy) - x_hat * mean(dy * x_hat))`
        // per channel: terms of about |dy| / sigma that cancel (exactly, but for epsilon,
        // over two values), so its rounding scales with 1 / sigma of the narrowest channel.
        let (n, data) = (batch * h * w, x.clone().into_data().try_to_vec::<f32>().unwrap());
        let sigma = (0..channels)
            .map(|c| {
                let v: Vec<f64> = (0..batch)
                    .flat_map(|b| data[(b * channels + c) * h * w..][..h * w].iter())
                    .map(|&v| f64::from(v))
                    .collect();
                let mean = v.iter().sum::<f64>() / n as f64;
                let var = v.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64;
                (var + bn_ours.epsilon).sqrt()
            })
            .fold(f64::INFINITY, f64::min);
        let dy_max = tensor([batch, channels, h, w], seed + 1).abs().max().into_scalar::<f32>();
        assert_close(ours.0, stock.0, "bn output");
        assert_close_at(ours.1, stock.1, "bn input gradient", dy_max / sigma as f32);
        assert_close(ours.2, stock.2, "bn gamma gradient");
        assert_close(ours.3, stock.3, "bn beta gradient");
        assert_close(bn_ours.running_mean.value(), bn_stock.running_mean.value(), "running mean");
        assert_close(bn_ours.running_var.value(), bn_stock.running_var.value(), "running var");
    }
}

#[test]
fn conv2d_matches_stock_flex_on_the_encoder_shapes() {
    // The ResNet layer kinds at small width: stem 3x3 and 7x7/2, 3x3/1, 3x3/2, 1x1/2.
    for (c_in, c_out, kernel, stride, size) in
        [(3, 4, 3, 1, 8), (3, 4, 7, 2, 11), (4, 4, 3, 1, 6), (4, 8, 3, 2, 6), (4, 8, 1, 2, 6)]
    {
        let case = ConvCase {
            batch: 3,
            c_in,
            c_out,
            size: [size, size],
            kernel,
            stride,
            padding: kernel / 2,
        };
        check_conv(&case, 7);
    }
}

/// The wide 3x3 convolutions at stride 1 that run as Winograd F(2x2, 3x3), odd and even
/// sizes: output and both gradients agree with stock flex.
#[test]
fn conv2d_matches_stock_flex_where_winograd_runs() {
    for (c_in, c_out, size) in [(128, 128, [4, 4]), (128, 136, [5, 3])] {
        let case = ConvCase { batch: 2, c_in, c_out, size, kernel: 3, stride: 1, padding: 1 };
        let shape = super::conv::ConvShape {
            batch: 2,
            c_in,
            height: size[0],
            width: size[1],
            c_out,
            kernel: [3, 3],
            stride: [1, 1],
            padding: [1, 1],
        };
        assert!(super::winograd::applies(&shape), "{case:?} must take the Winograd path");
        check_conv(&case, 8);
    }
}

#[test]
fn our_kernels_run_without_autodiff_too() {
    let conv = Conv2dConfig::new([2, 3], [3, 3])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
        .with_bias(false)
        .init(&Device::flex());
    let x = Tensor::<4>::from_data(
        TensorData::new(values(2 * 2 * 5 * 5, 3), [2, 2, 5, 5]),
        &Device::flex(),
    );
    assert_close(
        conv2d_own(&conv, x.clone(), [1, 1]),
        conv.forward(x),
        "conv output without autodiff",
    );
}

/// Rows `rows` of a `[B, ...]` tensor, in that order.
fn rows<const D: usize>(t: Tensor<D>, rows: &[usize]) -> Tensor<D> {
    let index = Tensor::<1, Int>::from_data(
        TensorData::new(rows.iter().map(|&r| r as i64).collect::<Vec<_>>(), [rows.len()]),
        &t.device(),
    );
    t.select(0, index)
}

/// Split BN in 2 groups of a batch of 6 is plain batch norm over each interleaved group
/// (rows 0, 2, 4 and rows 1, 3, 5) with the same affine weights; its running statistics
/// take one update from the groups' mean; the gradients of the affine weights sum over the
/// groups. Ours and stock flex both.
#[test]
fn split_batch_norm_normalises_interleaved_groups_and_averages_their_statistics() {
    use super::{Kernels, split_batch_norm};
    let x = tensor([6, 3, 4, 4], 11).mul_scalar(3.0).add_scalar(0.5);
    let weights = tensor([6, 3, 4, 4], 12);
    for kernels in [Kernels::Own, Kernels::Stock] {
        let split = BatchNormConfig::new(3).init(&device());
        let y = split_batch_norm(&split, x.clone(), kernels, 2);
        let grads = (y.clone() * weights.clone()).sum().backward();
        let gamma_grad = split.gamma.grad(&grads).unwrap();
        let (mut expected_mean, mut expected_var) = (None, None);
        let mut expected_gamma_grad = None;
        for group in [[0, 2, 4], [1, 3, 5]] {
            let alone = BatchNormConfig::new(3).init(&device());
            let y_alone = super::batch_norm(&alone, rows(x.clone(), &group), kernels);
            let g = (y_alone.clone() * rows(weights.clone(), &group)).sum().backward();
            let what = format!("{kernels:?} group {group:?}");
            assert_close(rows(y.clone(), &group), y_alone, &what);
            let add = |sum: Option<Tensor<1>>, t: Tensor<1>| Some(sum.map_or(t.clone(), |s| s + t));
            expected_mean = add(expected_mean, alone.running_mean.value_sync());
            expected_var = add(expected_var, alone.running_var.value_sync());
            expected_gamma_grad = add(expected_gamma_grad, alone.gamma.grad(&g).unwrap());
        }
        let half = |t: Option<Tensor<1>>| t.unwrap().div_scalar(2.0);
        assert_close(split.running_mean.value_sync(), half(expected_mean), "running mean");
        assert_close(split.running_var.value_sync(), half(expected_var), "running var");
        assert_close(gamma_grad, expected_gamma_grad.unwrap(), "gamma gradient");
    }
}

/// One group is plain batch norm, bit for bit, so runs without split BN keep their numbers.
#[test]
fn split_batch_norm_in_one_group_is_batch_norm_bit_for_bit() {
    use super::{Kernels, batch_norm, split_batch_norm};
    let x = tensor([4, 2, 3, 3], 21);
    let (a, b) = (BatchNormConfig::new(2).init(&device()), BatchNormConfig::new(2).init(&device()));
    let (ya, yb) =
        (split_batch_norm(&a, x.clone(), Kernels::Own, 1), batch_norm(&b, x, Kernels::Own));
    assert_eq!(
        ya.into_data().try_to_vec::<f32>().unwrap(),
        yb.into_data().try_to_vec::<f32>().unwrap()
    );
    assert_eq!(
        a.running_var.value_sync().into_data().try_to_vec::<f32>().unwrap(),
        b.running_var.value_sync().into_data().try_to_vec::<f32>().unwrap()
    );
}
