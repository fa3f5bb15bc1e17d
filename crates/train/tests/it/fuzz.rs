//! Arbitrary bytes as encoder weights: `load_encoder_weights` returns `Ok` or an error
//! naming the file, never panics, whatever the container (safetensors, PyTorch zip or
//! pickle) and whatever tensors a well-formed header declares.
use corruptencoder_train::burn::prelude::Device;
use corruptencoder_train::load_encoder_weights;
use proptest::prelude::*;

fn config() -> ProptestConfig {
    ProptestConfig { cases: 32, failure_persistence: None, ..ProptestConfig::default() }
}

/// Loads `bytes` as `name`; an error must name the file.
fn load(name: &str, bytes: &[u8]) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    fs_err::write(&path, bytes).unwrap();
    if let Err(e) = load_encoder_weights(&path, None, &Device::flex()) {
        prop_assert!(e.to_string().contains(name), "{e}");
    }
    Ok(())
}

/// A safetensors file: 8-byte little-endian header length, JSON header, data.
fn safetensors(tensors: &[(String, String, Vec<usize>)], extra: &[u8]) -> Vec<u8> {
    let mut header = Vec::new();
    let mut offset = 0usize;
    for (name, dtype, shape) in tensors {
        let size = if dtype == "F32" { 4 } else { 1 };
        let n = shape.iter().product::<usize>() * size;
        header.push(format!(
            "\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":{shape:?},\"data_offsets\":[{offset},{}]}}",
            offset + n
        ));
        offset += n;
    }
    let header = format!("{{{}}}", header.join(","));
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend(header.as_bytes());
    out.extend(vec![0u8; offset]);
    out.extend(extra);
    out
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_bytes_in_any_container(
        prefix in prop::sample::select(vec![
            &b""[..], &b"PK\x03\x04"[..], &b"\x80\x02"[..], &b"\x10\0\0\0\0\0\0\0{"[..],
        ]),
        body in prop::collection::vec(any::<u8>(), 0..400),
        name in prop::sample::select(vec!["w.safetensors", "w.pth", "w.pth.tar"]),
    ) {
        load(name, &[prefix, &body[..]].concat())?;
    }

    #[test]
    fn well_formed_headers_with_any_tensors(
        tensors in prop::collection::vec(
            (
                prop::sample::select(vec![
                    "conv1.weight", "bn1.weight", "bn1.running_var", "layer1.0.conv1.weight",
                    "layer4.1.bn2.bias", "fc.weight", "module.encoder_q.conv1.weight",
                    "state_dict.module.conv1.weight", "stem.weight", "x",
                ]),
                prop::sample::select(vec!["F32", "U8", "F16"]),
                prop::collection::vec(0usize..5, 0..5),
            ),
            0..6,
        ),
        extra in prop::collection::vec(any::<u8>(), 0..8),
    ) {
        let tensors: Vec<_> =
            tensors.into_iter().map(|(n, d, s)| (n.to_string(), d.to_string(), s)).collect();
        load("w.safetensors", &safetensors(&tensors, &extra))?;
    }
}
