//! Module tensors by path, to and from safetensors bytes. Shared by checkpoints and the
//! torchvision export.
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use burn::module::{ModuleMapper, ModuleVisitor, Param};
use burn::prelude::*;
use corruptencoder_core::IoError;
use safetensors::{Dtype, SafeTensors, tensor::TensorView};

use crate::error::{Error, Result};

/// A tensor's shape and values, host side.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HostTensor {
    pub(crate) shape: Vec<usize>,
    pub(crate) values: HostValues,
}

/// f32 for weights; i64 for torchvision's `num_batches_tracked` counters.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum HostValues {
    F32(Vec<f32>),
    I64(Vec<i64>),
}

impl HostTensor {
    pub(crate) fn from_tensor<const D: usize>(t: Tensor<D>) -> Self {
        let shape = t.dims().to_vec();
        let values = t
            .inner()
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .expect("f32 data after convert");
        Self { shape, values: HostValues::F32(values) }
    }

    fn bytes(&self) -> Vec<u8> {
        match &self.values {
            HostValues::F32(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            HostValues::I64(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        }
    }
}

/// Every float tensor of `module` (parameters and buffers) under its dotted module path.
pub(crate) fn module_tensors<M: Module>(module: &M) -> BTreeMap<String, HostTensor> {
    let mut v = Collect { path: Vec::new(), out: BTreeMap::new() };
    module.visit(&mut v);
    v.out
}

/// Every float of `module`'s tensors, in [`module_tensors`]' order (tests compare modules
/// value by value with it).
#[cfg(test)]
pub(crate) fn module_floats<M: Module>(module: &M) -> Vec<f32> {
    module_tensors(module)
        .into_values()
        .flat_map(|t| match t.values {
            HostValues::F32(v) => v,
            HostValues::I64(_) => unreachable!("module tensors are floats"),
        })
        .collect()
}

struct Collect {
    path: Vec<String>,
    out: BTreeMap<String, HostTensor>,
}

impl ModuleVisitor for Collect {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_owned());
    }
    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.out.insert(self.path.join("."), HostTensor::from_tensor(param.val()));
    }
}

/// Replaces every float tensor of `module` by `tensors[prefix + path]`, keeping each
/// parameter's id, device and gradient requirement. Fails naming every missing key and
/// mismatched shape.
pub(crate) fn load_module<M: Module>(
    module: M,
    tensors: &HashMap<String, HostTensor>,
    prefix: &str,
    file: &Path,
) -> Result<M> {
    let (module, report) = map_module(module, tensors, &|path| format!("{prefix}{path}"));
    match report.problems() {
        Some(what) => Err(Error::BadWeights { path: file.to_path_buf(), what }),
        None => Ok(module),
    }
}

/// What [`map_module`] found: the keys it took and those it could not.
#[derive(Debug, Default)]
pub(crate) struct LoadReport {
    /// Keys the module asked for that `tensors` lacks.
    pub(crate) missing: Vec<String>,
    /// `key: file shape vs module shape` for each tensor whose shape or dtype differs.
    pub(crate) mismatched: Vec<String>,
    /// Keys the module asked for and found, loaded or mismatched.
    pub(crate) used: BTreeSet<String>,
}

impl LoadReport {
    /// One line naming every problem, or `None` when everything loaded.
    pub(crate) fn problems(&self) -> Option<String> {
        let mut parts = Vec::new();
        if !self.missing.is_empty() {
            parts.push(format!("missing {}", list_keys(&self.missing)));
        }
        if !self.mismatched.is_empty() {
            parts.push(format!("wrong shape: {}", cut(&self.mismatched, "; ")));
        }
        (!parts.is_empty()).then(|| parts.join("; "))
    }
}

/// `n tensor(s): a, b, c`, cut short like [`cut`].
pub(crate) fn list_keys(keys: &[String]) -> String {
    let plural = if keys.len() == 1 { "" } else { "s" };
    format!("{} tensor{plural}: {}", keys.len(), cut(keys, ", "))
}

/// `items` joined by `sep`, cut after 8 with a count of the rest, so that a wholly wrong
/// file gives a readable message rather than hundreds of names.
fn cut(items: &[String], sep: &str) -> String {
    const SHOWN: usize = 8;
    let mut out = items.iter().take(SHOWN).cloned().collect::<Vec<_>>().join(sep);
    if items.len() > SHOWN {
        out += &format!("{sep}... ({} more)", items.len() - SHOWN);
    }
    out
}

/// Replaces every float tensor of `module` at module path `p` by `tensors[key(p)]` where
/// present with the same shape; reports what it could not replace rather than failing, so
/// callers can add their own findings to one error.
pub(crate) fn map_module<M: Module>(
    module: M,
    tensors: &HashMap<String, HostTensor>,
    key: &dyn Fn(&str) -> String,
) -> (M, LoadReport) {
    let mut m = Load { path: Vec::new(), tensors, key, report: LoadReport::default() };
    let module = module.map(&mut m);
    (module, m.report)
}

struct Load<'a> {
    path: Vec<String>,
    tensors: &'a HashMap<String, HostTensor>,
    key: &'a dyn Fn(&str) -> String,
    report: LoadReport,
}

impl ModuleMapper for Load<'_> {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_owned());
    }
    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (id, tensor, mapper) = param.consume();
        let key = (self.key)(&self.path.join("."));
        let found = self.tensors.get(&key);
        if found.is_some() {
            self.report.used.insert(key.clone());
        }
        let loaded = match found {
            Some(HostTensor { shape, values: HostValues::F32(v) })
                if shape[..] == tensor.dims()[..] =>
            {
                let require_grad = tensor.is_require_grad();
                let t = Tensor::<D>::from_data(
                    TensorData::new(v.clone(), shape.clone()),
                    &tensor.device(),
                );
                if require_grad { t.require_grad() } else { t }
            }
            None => {
                self.report.missing.push(key);
                tensor
            }
            Some(t) => {
                let dtype = match t.values {
                    HostValues::F32(_) => "",
                    HostValues::I64(_) => " (integer)",
                };
                self.report.mismatched.push(format!(
                    "{key} is {:?}{dtype} in the file, the encoder needs {:?}",
                    t.shape,
                    tensor.dims()
                ));
                tensor
            }
        };
        Param::from_mapped_value(id, loaded, mapper)
    }
}

/// safetensors bytes of `tensors` with string `metadata`.
pub(crate) fn to_safetensors(
    tensors: &BTreeMap<String, HostTensor>,
    metadata: HashMap<String, String>,
    file: &Path,
) -> Result<Vec<u8>> {
    let bytes: Vec<(&String, Vec<u8>, &HostTensor)> =
        tensors.iter().map(|(k, t)| (k, t.bytes(), t)).collect();
    let views = bytes.iter().map(|(k, b, t)| {
        let dtype = match t.values {
            HostValues::F32(_) => Dtype::F32,
            HostValues::I64(_) => Dtype::I64,
        };
        (k.as_str(), TensorView::new(dtype, t.shape.clone(), b).expect("length matches shape"))
    });
    safetensors::serialize(views, Some(metadata))
        .map_err(|source| Error::Encode { path: file.to_path_buf(), source })
}

/// Reads a safetensors file's f32/i64 tensors and metadata.
pub(crate) fn read_safetensors(
    file: &Path,
) -> Result<(HashMap<String, HostTensor>, HashMap<String, String>)> {
    let bytes = fs_err::read(file).map_err(IoError::at("read", file))?;
    let bad = |what: String| Error::BadWeights { path: file.to_path_buf(), what };
    let (_, meta) = SafeTensors::read_metadata(&bytes).map_err(|e| bad(e.to_string()))?;
    let st = SafeTensors::deserialize(&bytes).map_err(|e| bad(e.to_string()))?;
    let mut out = HashMap::new();
    for (name, view) in st.tensors() {
        let data = view.data();
        let values = match view.dtype() {
            Dtype::F32 => HostValues::F32(
                data.chunks_exact(4)
                    .map(|c| f32::from_le_bytes(c.try_into().unwrap_or_default()))
                    .collect(),
            ),
            Dtype::I64 => HostValues::I64(
                data.chunks_exact(8)
                    .map(|c| i64::from_le_bytes(c.try_into().unwrap_or_default()))
                    .collect(),
            ),
            other => return Err(bad(format!("tensor {name} has unsupported dtype {other:?}"))),
        };
        out.insert(name, HostTensor { shape: view.shape().to_vec(), values });
    }
    Ok((out, meta.metadata().clone().unwrap_or_default()))
}
