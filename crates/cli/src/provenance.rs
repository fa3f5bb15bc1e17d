//! What the binary records about itself and the machine beside every run it makes: the
//! commit it was built from, the CPU and the vector instructions the CPU backend will use.
use corruptencoder_report::Provenance;

/// The commit `build.rs` found (`unknown` when built outside a git checkout).
const COMMIT: &str = env!("CORRUPTENCODER_COMMIT");

/// This process's provenance.
pub(crate) fn provenance() -> Provenance {
    Provenance {
        commit: COMMIT.into(),
        cpu: cpu_model(),
        simd: simd_level().into(),
        threads: rayon::current_num_threads(),
    }
}

/// The CPU's model name from `/proc/cpuinfo` (Linux), with the x86 family and model numbers
/// (a virtual machine often shows only a generic name such as `AMD EPYC`, and the numbers
/// tell the generation: family 25 model 1 is Zen 3, model 17 Zen 4), else the architecture.
fn cpu_model() -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let field = |names: &[&str]| {
        info.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            names.contains(&key.trim()).then(|| value.trim().to_string())
        })
    };
    let Some(name) = field(&["model name", "Model", "cpu model"]) else {
        return std::env::consts::ARCH.into();
    };
    match (field(&["cpu family"]), field(&["model"])) {
        (Some(family), Some(model)) => format!("{name} (family {family} model {model})"),
        _ => name,
    }
}

/// The widest vector instruction set the backend's SIMD dispatch picks on this CPU.
fn simd_level() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx512f") {
            return "avx512f";
        }
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            return "avx2+fma";
        }
        if std::is_x86_feature_detected!("sse4.1") {
            return "sse4.1";
        }
        "sse2"
    }
    #[cfg(target_arch = "aarch64")]
    {
        "neon"
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        "scalar"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provenance_names_a_cpu_and_an_instruction_set() {
        let p = provenance();
        assert!(!p.cpu.is_empty() && !p.simd.is_empty() && !p.commit.is_empty());
        assert!(p.threads >= 1);
    }
}
