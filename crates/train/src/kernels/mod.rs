//! Convolution and batch-norm kernels of our own for burn's flex CPU backend,
//! used by the encoders whenever their tensors live on flex; every other backend (CUDA,
//! wgpu, LibTorch) keeps burn's stock ops.
//!
//! `conv.rs` and `batch_norm.rs` are the kernels over plain slices (`winograd.rs` the wide
//! 3x3 convolutions at stride 1), `matmul.rs` the one `gemm` call, `backend.rs` the burn backend extension (forward on `Flex`, backward
//! recorded on `Autodiff<Flex>`).
mod backend;
mod batch_norm;
mod conv;
mod conv_layout;
mod matmul;
#[cfg(test)]
mod parity;
mod winograd;

use burn::backend::{Dispatch, DispatchDevice};
use burn::nn::conv::Conv2d;
use burn::nn::{BatchNorm, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::DType;
use serde::{Deserialize, Serialize};

use backend::CpuKernels;

/// Which convolution and batch-norm kernels an encoder runs on the flex CPU backend; every
/// other backend keeps burn's stock ops either way. Chosen per encoder (`EncoderConfig`), not
/// per process, so a benchmark can hold both kinds side by side. The two agree to float
/// rounding, not bit for bit: a resumed run must keep its choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kernels {
    /// Ours (this module): the default.
    #[default]
    Own,
    /// burn's stock flex ops: for benchmarks and parity checks.
    Stock,
}

impl Kernels {
    /// Whether this is the default, so configs leave it out.
    pub fn is_own(&self) -> bool {
        *self == Self::Own
    }
}

/// Whether our kernels apply to `x`: chosen, and an `f32` tensor on flex (with or without
/// autodiff).
fn applies<const D: usize>(kernels: Kernels, x: &Tensor<D>) -> bool {
    kernels == Kernels::Own
        && x.dtype() == DType::F32
        && matches!(x.device().inner().as_dispatch(), DispatchDevice::Flex(_))
}

/// `conv.forward(x)`, through our kernels where they apply: chosen, flex, no groups, no
/// dilation, no bias, symmetric padding. `[B, C_in, H, W]` to `[B, C_out, OH, OW]`.
pub fn conv2d(conv: &Conv2d, x: Tensor<4>, kernels: Kernels) -> Tensor<4> {
    let padding = match conv.padding {
        PaddingConfig2d::Valid => Some([0, 0]),
        PaddingConfig2d::Explicit(top, left, bottom, right) if top == bottom && left == right => {
            Some([top, left])
        }
        _ => None,
    };
    let plain = conv.groups == 1 && conv.dilation == [1, 1] && conv.bias.is_none();
    match padding {
        Some(padding) if plain && applies(kernels, &x) => conv2d_own(conv, x, padding),
        _ => conv.forward(x),
    }
}

/// Our convolution, unconditionally (the caller checked that it applies).
fn conv2d_own(conv: &Conv2d, x: Tensor<4>, [ph, pw]: [usize; 2]) -> Tensor<4> {
    let [sh, sw] = conv.stride;
    Tensor::from_dispatch(<Dispatch as CpuKernels>::own_conv2d(
        x.into_dispatch(),
        conv.weight.val().into_dispatch(),
        sh,
        sw,
        ph,
        pw,
    ))
}

/// `bn.forward(x)`, through our fused kernels in training mode on flex; the running
/// statistics are updated as burn's `BatchNorm` does. `[B, C, H, W]` in and out.
pub fn batch_norm(bn: &BatchNorm, x: Tensor<4>, kernels: Kernels) -> Tensor<4> {
    if applies(kernels, &x) && x.device().is_autodiff() && bn.training.is_enabled() {
        batch_norm_own(bn, x)
    } else {
        bn.forward(x)
    }
}

/// `bn.forward(x)` with the batch in `groups` interleaved groups, each normalised by its own
/// batch statistics (sample `b` in group `b % groups`): MoCo's `SplitBatchNorm`, which views
/// `[B, C, H, W]` as `[B / G, G·C, H, W]` and normalises that. The running statistics take
/// one update per call, from the mean of the groups' statistics, as `SplitBatchNorm`'s
/// average of its groups' running statistics (which start equal) gives. Outside training
/// mode, or with one group, it is [`batch_norm`]. `groups` must divide the batch.
pub fn split_batch_norm(
    bn: &BatchNorm,
    x: Tensor<4>,
    kernels: Kernels,
    groups: usize,
) -> Tensor<4> {
    if groups <= 1 || !bn.training.is_enabled() {
        return batch_norm(bn, x, kernels);
    }
    let [b, c, h, w] = x.dims();
    assert!(b.is_multiple_of(groups), "{groups} batch-norm groups do not divide a batch of {b}");
    let x = x.reshape([b / groups, groups * c, h, w]);
    let (gamma, beta) = (bn.gamma.val().repeat_dim(0, groups), bn.beta.val().repeat_dim(0, groups));
    let (y, mean, var) = if applies(kernels, &x) && x.device().is_autodiff() {
        own_batch_norm_train(x, gamma, beta, bn.epsilon)
    } else {
        let out = burn::tensor::module::batch_norm_train(x, gamma, beta, bn.epsilon);
        (out.output, out.mean, out.variance)
    };
    let over_groups = |t: Tensor<1>| t.detach().reshape([groups, c]).mean_dim(0).reshape([c]);
    update_running_statistics(bn, over_groups(mean), over_groups(var));
    y.reshape([b, c, h, w])
}

/// Our training-mode batch norm, unconditionally (the caller checked that it applies).
fn batch_norm_own(bn: &BatchNorm, x: Tensor<4>) -> Tensor<4> {
    let (y, mean, var) = own_batch_norm_train(x, bn.gamma.val(), bn.beta.val(), bn.epsilon);
    update_running_statistics(bn, mean, var);
    y
}

/// Our training-mode batch norm of `x` over its channels: the output and the batch's mean
/// and (biased) variance per channel.
fn own_batch_norm_train(
    x: Tensor<4>,
    gamma: Tensor<1>,
    beta: Tensor<1>,
    epsilon: f64,
) -> (Tensor<4>, Tensor<1>, Tensor<1>) {
    let (y, mean, var) = <Dispatch as CpuKernels>::own_batch_norm_train(
        x.into_dispatch(),
        gamma.into_dispatch(),
        beta.into_dispatch(),
        epsilon,
    );
    (Tensor::from_dispatch(y), Tensor::from_dispatch(mean), Tensor::from_dispatch(var))
}

/// burn's `BatchNorm` update of the running statistics from a batch's `mean` and `var`.
fn update_running_statistics(bn: &BatchNorm, mean: Tensor<1>, var: Tensor<1>) {
    let (m, device) = (bn.momentum, mean.device());
    let running_mean = bn.running_mean.value_sync().to_device(&device);
    let running_var = bn.running_var.value_sync().to_device(&device);
    let running_mean = running_mean.mul_scalar(1.0 - m).add(mean.detach().mul_scalar(m));
    let running_var = running_var.mul_scalar(1.0 - m).add(var.detach().mul_scalar(m));
    bn.running_mean.update(running_mean.detach());
    bn.running_var.update(running_var.detach());
}
