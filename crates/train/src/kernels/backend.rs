//! Our kernels as a burn backend extension: [`CpuKernels`] is implemented for flex (the
//! forward computations) and for `Autodiff<Flex>` (recording a backward that calls our
//! gradient kernels). Callers reach it through `Dispatch`; see `mod.rs` for when they do.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, AutodiffBackend, Backend, Flex, TensorMetadata, backend_extension};
use burn::tensor::TensorData;

use super::batch_norm::{BnShape, batch_norm_backward, batch_norm_forward};
use super::conv::{ConvShape, conv2d_forward, conv2d_input_grad, conv2d_weight_grad};

/// Convolution and batch norm kernels of our own for the CPU backend.
#[backend_extension(Flex, Autodiff)]
pub(crate) trait CpuKernels: Backend {
    /// `[B, C_in, H, W]` convolved with `[C_out, C_in, KH, KW]`, no bias, symmetric
    /// zero padding: `[B, C_out, OH, OW]`.
    fn own_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        stride_h: usize,
        stride_w: usize,
        pad_h: usize,
        pad_w: usize,
    ) -> FloatTensor<Self>;

    /// Batch norm with the batch's statistics: `(output, mean, biased variance)`, the last
    /// two `[C]`, as burn's `batch_norm_train`.
    fn own_batch_norm_train(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>);
}

/// A contiguous copy of `t` unless it already is one.
fn contiguous(t: FlexTensor) -> FlexTensor {
    if t.as_slice::<f32>().is_some() { t } else { t.to_contiguous() }
}

fn values(t: &FlexTensor) -> &[f32] {
    t.as_slice::<f32>().expect("our kernels take contiguous f32 tensors")
}

fn tensor(values: Vec<f32>, shape: &[usize]) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape.to_vec()))
}

fn conv_shape(
    x: &FlexTensor,
    w: &FlexTensor,
    stride: [usize; 2],
    padding: [usize; 2],
) -> ConvShape {
    let (xs, ws) = (x.shape(), w.shape());
    assert!(xs.num_dims() == 4 && ws.num_dims() == 4, "conv2d takes 4-d tensors");
    assert_eq!(xs[1], ws[1], "input channels differ from the weight's");
    ConvShape {
        batch: xs[0],
        c_in: xs[1],
        height: xs[2],
        width: xs[3],
        c_out: ws[0],
        kernel: [ws[2], ws[3]],
        stride,
        padding,
    }
}

fn flex_conv2d(
    x: FlexTensor,
    w: FlexTensor,
    stride: [usize; 2],
    padding: [usize; 2],
) -> FlexTensor {
    let (x, w) = (contiguous(x), contiguous(w));
    let s = conv_shape(&x, &w, stride, padding);
    let [oh, ow] = s.out_hw();
    tensor(conv2d_forward(&s, values(&x), values(&w)), &[s.batch, s.c_out, oh, ow])
}

fn bn_shape(x: &FlexTensor) -> BnShape {
    let shape = x.shape();
    let (batch, channels) = (shape[0], shape[1]);
    BnShape { batch, channels, pixels: shape.num_elements() / (batch * channels).max(1) }
}

impl CpuKernels for Flex {
    fn own_conv2d(
        x: FlexTensor,
        weight: FlexTensor,
        stride_h: usize,
        stride_w: usize,
        pad_h: usize,
        pad_w: usize,
    ) -> FlexTensor {
        flex_conv2d(x, weight, [stride_h, stride_w], [pad_h, pad_w])
    }

    fn own_batch_norm_train(
        x: FlexTensor,
        gamma: FlexTensor,
        beta: FlexTensor,
        epsilon: f64,
    ) -> (FlexTensor, FlexTensor, FlexTensor) {
        let (x, gamma, beta) = (contiguous(x), contiguous(gamma), contiguous(beta));
        let s = bn_shape(&x);
        let (y, mean, var) =
            batch_norm_forward(&s, values(&x), values(&gamma), values(&beta), epsilon);
        let dims = x.shape().to_vec();
        (tensor(y, &dims), tensor(mean, &[s.channels]), tensor(var, &[s.channels]))
    }
}

/// The backward of [`CpuKernels::own_conv2d`]; keeps the forward's input and weight.
#[derive(Debug)]
struct ConvBackward;

impl Backward<Flex, 2> for ConvBackward {
    type State = (FlexTensor, FlexTensor, [usize; 2], [usize; 2]);

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_w] = ops.parents;
        let dy = contiguous(grads.consume::<Flex>(&ops.node));
        let (x, w, stride, padding) = ops.state;
        let s = conv_shape(&x, &w, stride, padding);
        if let Some(node) = node_x {
            let dx = conv2d_input_grad(&s, values(&w), values(&dy));
            grads.register::<Flex>(node.id, tensor(dx, &[s.batch, s.c_in, s.height, s.width]));
        }
        if let Some(node) = node_w {
            let dw = conv2d_weight_grad(&s, values(&x), values(&dy));
            let shape = [s.c_out, s.c_in, s.kernel[0], s.kernel[1]];
            grads.register::<Flex>(node.id, tensor(dw, &shape));
        }
    }
}

/// The backward of [`CpuKernels::own_batch_norm_train`]; keeps the input, gamma and the
/// batch statistics.
#[derive(Debug)]
struct BatchNormBackward;

impl Backward<Flex, 3> for BatchNormBackward {
    type State = (FlexTensor, FlexTensor, FlexTensor, FlexTensor, f64);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_gamma, node_beta] = ops.parents;
        let dy = contiguous(grads.consume::<Flex>(&ops.node));
        let (x, gamma, mean, var, epsilon) = ops.state;
        let s = bn_shape(&x);
        let (dx, dgamma, dbeta) = batch_norm_backward(
            &s,
            values(&x),
            values(&gamma),
            values(&mean),
            values(&var),
            epsilon,
            values(&dy),
        );
        if let Some(node) = node_x {
            grads.register::<Flex>(node.id, tensor(dx, &x.shape().to_vec()));
        }
        if let Some(node) = node_gamma {
            grads.register::<Flex>(node.id, tensor(dgamma, &[s.channels]));
        }
        if let Some(node) = node_beta {
            grads.register::<Flex>(node.id, tensor(dbeta, &[s.channels]));
        }
    }
}

impl<C: CheckpointStrategy> CpuKernels for Autodiff<Flex, C> {
    fn own_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        stride_h: usize,
        stride_w: usize,
        pad_h: usize,
        pad_w: usize,
    ) -> FloatTensor<Self> {
        let (stride, padding) = ([stride_h, stride_w], [pad_h, pad_w]);
        match ConvBackward.prepare::<C>([x.node(), weight.node()]).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let (x, w) = (contiguous(x.into_primitive()), contiguous(weight.into_primitive()));
                let y = flex_conv2d(x.clone(), w.clone(), stride, padding);
                prep.finish((x, w, stride, padding), y)
            }
            OpsKind::UnTracked(prep) => prep.finish(flex_conv2d(
                x.into_primitive(),
                weight.into_primitive(),
                stride,
                padding,
            )),
        }
    }

    fn own_batch_norm_train(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        let parents = [x.node(), gamma.node(), beta.node()];
        let (x, gamma, beta) = (
            contiguous(x.into_primitive()),
            contiguous(gamma.into_primitive()),
            beta.into_primitive(),
        );
        let (y, mean, var) = Flex::own_batch_norm_train(x.clone(), gamma.clone(), beta, epsilon);
        let stats = (Self::from_inner(mean.clone()), Self::from_inner(var.clone()));
        let y = match BatchNormBackward.prepare::<C>(parents).compute_bound().stateful() {
            OpsKind::Tracked(prep) => prep.finish((x, gamma, mean, var, epsilon), y),
            OpsKind::UnTracked(prep) => prep.finish(y),
        };
        (y, stats.0, stats.1)
    }
}
