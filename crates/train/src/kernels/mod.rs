//! Convolution and batch-norm kernels of our own for burn's flex CPU backend (issue 13),
//! used by the encoders whenever their tensors live on flex; every other backend (CUDA,
//! wgpu, LibTorch) keeps burn's stock ops.
//!
//! `conv.rs` and `batch_norm.rs` are the kernels over plain slices, `matmul.rs` the one
//! `gemm` call, `backend.rs` the burn backend extension (forward on `Flex`, backward
//! recorded on `Autodiff<Flex>`).
mod backend;
mod batch_norm;
mod conv;
mod conv_layout;
mod matmul;
#[cfg(test)]
mod parity;

use std::sync::atomic::{AtomicBool, Ordering};

use burn::backend::{Dispatch, DispatchDevice};
use burn::nn::conv::Conv2d;
use burn::nn::{BatchNorm, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::DType;

use backend::CpuKernels;

static ENABLED: AtomicBool = AtomicBool::new(true);

/// Switches our CPU kernels on (the default) or off, process-wide: off, the encoders run
/// burn's stock flex ops. For benchmarks and parity checks; results agree to float
/// rounding, not bit for bit, so do not switch within one training run.
pub fn set_own_cpu_kernels(enabled: bool) {
    ENABLED.store(enabled, Ordering::Relaxed);
}

/// Whether our kernels apply to `x`: switched on, an `f32` tensor on flex (with or
/// without autodiff).
fn applies<const D: usize>(x: &Tensor<D>) -> bool {
    ENABLED.load(Ordering::Relaxed)
        && x.dtype() == DType::F32
        && matches!(x.device().inner().as_dispatch(), DispatchDevice::Flex(_))
}

/// `conv.forward(x)`, through our kernels where they apply: flex, no groups, no dilation,
/// no bias, symmetric padding. `[B, C_in, H, W]` to `[B, C_out, OH, OW]`.
pub fn conv2d(conv: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    let padding = match conv.padding {
        PaddingConfig2d::Valid => Some([0, 0]),
        PaddingConfig2d::Explicit(top, left, bottom, right) if top == bottom && left == right => {
            Some([top, left])
        }
        _ => None,
    };
    let plain = conv.groups == 1 && conv.dilation == [1, 1] && conv.bias.is_none();
    match padding {
        Some(padding) if plain && applies(&x) => conv2d_own(conv, x, padding),
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
pub fn batch_norm(bn: &BatchNorm, x: Tensor<4>) -> Tensor<4> {
    if applies(&x) && x.device().is_autodiff() && bn.training.is_enabled() {
        batch_norm_own(bn, x)
    } else {
        bn.forward(x)
    }
}

/// Our training-mode batch norm, unconditionally (the caller checked that it applies).
fn batch_norm_own(bn: &BatchNorm, x: Tensor<4>) -> Tensor<4> {
    let device = x.device();
    let (y, mean, var) = <Dispatch as CpuKernels>::own_batch_norm_train(
        x.into_dispatch(),
        bn.gamma.val().into_dispatch(),
        bn.beta.val().into_dispatch(),
        bn.epsilon,
    );
    let (mean, var) = (Tensor::<1>::from_dispatch(mean), Tensor::<1>::from_dispatch(var));
    let m = bn.momentum;
    let running_mean = bn.running_mean.value_sync().to_device(&device);
    let running_var = bn.running_var.value_sync().to_device(&device);
    let running_mean = running_mean.mul_scalar(1.0 - m).add(mean.detach().mul_scalar(m));
    let running_var = running_var.mul_scalar(1.0 - m).add(var.detach().mul_scalar(m));
    bn.running_mean.update(running_mean.detach());
    bn.running_var.update(running_var.detach());
    Tensor::from_dispatch(y)
}
