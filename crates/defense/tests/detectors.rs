//! The embedding-space detectors on constructed sets whose outliers are known.
use corruptencoder_core::{Rng, item_rng, uniform};
use corruptencoder_defense::{
    Dao, DefenseConfig, EmbeddingDetector, EmbeddingDetectorConfig, KDistance,
};
use corruptencoder_eval::{Features, auroc};

/// A standard normal draw (Box-Muller), so the test needs no distribution crate.
fn normal(rng: &mut Rng) -> f64 {
    let u = uniform(rng, f64::EPSILON, 1.0);
    let v = uniform(rng, 0.0, 1.0);
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// `clean` points from a unit Gaussian around `(3, 0, ..)` and `planted` ones scattered
/// with ten times the spread, in `dim` dimensions; the planted rows come last.
fn planted_set(clean: usize, planted: usize, dim: usize, seed: u64) -> (Features, Vec<bool>) {
    let mut values = Vec::new();
    for i in 0..clean + planted {
        let mut rng = item_rng(seed, 0, i as u64);
        let spread = if i < clean { 1.0 } else { 10.0 };
        for d in 0..dim {
            let centre = if d == 0 { 3.0 } else { 0.0 };
            values.push((centre + spread * normal(&mut rng)) as f32);
        }
    }
    let poison = (0..clean + planted).map(|i| i >= clean).collect();
    (Features::new(values, dim).unwrap(), poison)
}

fn detector(kind: &str, config: EmbeddingDetectorConfig) -> Box<dyn EmbeddingDetector> {
    match kind {
        "k-distance" => Box::new(KDistance::new(config)),
        _ => Box::new(Dao::new(config)),
    }
}

fn scores(kind: &str, config: EmbeddingDetectorConfig, set: &Features) -> Vec<f64> {
    detector(kind, config).score(set).unwrap()
}

#[test]
fn both_detectors_rank_planted_outliers_first() {
    for seed in 0..3 {
        let (set, poison) = planted_set(300, 10, 8, seed);
        for kind in ["k-distance", "dao"] {
            for normalize in [false, true] {
                let c = EmbeddingDetectorConfig { normalize, ..Default::default() };
                let s = scores(kind, c, &set);
                let area = auroc(&s, &poison).unwrap().unwrap();
                // Unit length folds the spread onto a sphere; the outliers still stand
                // apart there, but not all of them perfectly.
                let floor = if normalize { 0.9 } else { 0.99 };
                assert!(area >= floor, "{kind} normalize={normalize} seed {seed}: {area}");
            }
        }
    }
}

#[test]
fn dao_is_scale_free_and_k_distance_scales() {
    let (set, _) = planted_set(60, 4, 5, 7);
    let scaled: Vec<f32> =
        (0..set.rows()).flat_map(|i| set.row(i).iter().map(|v| v * 8.0)).collect();
    let scaled = Features::new(scaled, set.dim()).unwrap();
    let c = EmbeddingDetectorConfig { k: 5, normalize: false, ..Default::default() };
    let (a, b) = (scores("dao", c.clone(), &set), scores("dao", c.clone(), &scaled));
    for (x, y) in a.iter().zip(&b) {
        assert!((x - y).abs() < 1e-3 * x.abs().max(1.0), "{x} vs {y}");
    }
    let (a, b) = (scores("k-distance", c.clone(), &set), scores("k-distance", c, &scaled));
    for (x, y) in a.iter().zip(&b) {
        assert!((8.0 * x - y).abs() < 1e-4 * y.abs(), "{x} vs {y}");
    }
}

#[test]
fn a_set_too_small_for_k_is_an_error_naming_k() {
    let (set, _) = planted_set(10, 0, 3, 1);
    let config = EmbeddingDetectorConfig { k: 9, ..Default::default() };
    let err = detector("k-distance", config).score(&set).unwrap_err().to_string();
    assert!(err.starts_with("k = 9:"), "{err}");
}

#[test]
fn settings_are_checked_by_key_and_round_trip_from_toml() {
    let c: DefenseConfig = toml::from_str("kind = \"dao\"\nk = 8\nflag_fraction = 0.1").unwrap();
    assert_eq!(c.name(), "dao");
    assert!(c.validate().is_ok());
    let bad: DefenseConfig = toml::from_str("kind = \"k-distance\"\nflag_fraction = 1.5").unwrap();
    assert!(bad.validate().unwrap_err().to_string().starts_with("flag_fraction = 1.5:"));
    let zero: DefenseConfig = toml::from_str("kind = \"k-distance\"\nk = 0").unwrap();
    assert!(zero.validate().unwrap_err().to_string().starts_with("k = 0:"));
    assert!(toml::from_str::<DefenseConfig>("kind = \"dao\"\nkk = 3").is_err());
    assert_eq!(
        DefenseConfig::names(),
        [
            "localized-cropping",
            "i-cutmix",
            "k-distance",
            "dao",
            "patch-search",
            "decree",
            "cleanclip"
        ]
    );
}
