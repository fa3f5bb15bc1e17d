//! Statistics over seeds: mean, sample standard deviation and the 95 % Student t interval
//! of the mean.
//!
//! The interval is `mean ± t(0.975, n − 1) · sd / √n`: exact for normally distributed
//! values, and the usual choice for the handful of seeds an experiment runs (a bootstrap
//! needs more values than that to mean anything). One value has no spread and no interval.
use serde::{Deserialize, Serialize};

/// How every interval of a report is computed, as the report states it.
pub const INTERVAL_METHOD: &str = "95 % Student t interval of the mean over seeds: \
mean ± t(0.975, n − 1) · sd / √n, sd the sample standard deviation (n − 1 denominator); \
none for a single seed";

/// `t(0.975, df)` for df = 1..=30: the two-sided 95 % quantiles of Student's t
/// distribution (checked against a numerical integral of the density in the tests).
const T_975: [f64; 30] = [
    12.706_204_736,
    4.302_652_730,
    3.182_446_305,
    2.776_445_105,
    2.570_581_836,
    2.446_911_851,
    2.364_624_252,
    2.306_004_135,
    2.262_157_163,
    2.228_138_852,
    2.200_985_160,
    2.178_812_830,
    2.160_368_656,
    2.144_786_688,
    2.131_449_546,
    2.119_905_299,
    2.109_815_578,
    2.100_922_040,
    2.093_024_054,
    2.085_963_447,
    2.079_613_845,
    2.073_873_068,
    2.068_657_610,
    2.063_898_562,
    2.059_538_553,
    2.055_529_439,
    2.051_830_516,
    2.048_407_142,
    2.045_229_642,
    2.042_272_456,
];

/// The 0.975 quantile of the standard normal distribution.
const Z_975: f64 = 1.959_963_984_540_054;

/// `t(0.975, df)`, the quantile that puts 2.5 % in each tail of Student's t with `df`
/// degrees of freedom (`df >= 1`; `df = 0` has none and gives NaN). Up to 30 from the table,
/// beyond it from the Cornish-Fisher expansion in 1/df (Abramowitz and Stegun 26.7.5), whose
/// error there is below 1e-7.
pub fn t_975(df: usize) -> f64 {
    match df {
        0 => f64::NAN,
        1..=30 => T_975[df - 1],
        _ => {
            let (z, v) = (Z_975, df as f64);
            let g1 = (z.powi(3) + z) / 4.0;
            let g2 = (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / 96.0;
            let g3 = (3.0 * z.powi(7) + 19.0 * z.powi(5) + 17.0 * z.powi(3) - 15.0 * z) / 384.0;
            let g4 = (79.0 * z.powi(9) + 776.0 * z.powi(7) + 1482.0 * z.powi(5)
                - 1920.0 * z.powi(3)
                - 945.0 * z)
                / 92160.0;
            z + g1 / v + g2 / v.powi(2) + g3 / v.powi(3) + g4 / v.powi(4)
        }
    }
}

/// A closed interval.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// Lower end.
    pub low: f64,
    /// Upper end.
    pub high: f64,
}

/// Mean, sample standard deviation and 95 % interval of values over seeds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Stat {
    /// Mean.
    pub mean: f64,
    /// Sample standard deviation (n - 1 denominator); 0 for a single seed.
    pub std: f64,
    /// How many values (0 in results written before it was kept).
    pub n: usize,
    /// The 95 % Student t interval of the mean ([`INTERVAL_METHOD`]); none for fewer than
    /// two values.
    pub interval: Option<Interval>,
}

impl Stat {
    /// The statistic of `values` (empty gives zeros).
    pub fn of(values: &[f64]) -> Self {
        let n = values.len();
        if n == 0 {
            return Self::default();
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        if n < 2 {
            return Self { mean, std: 0.0, n, interval: None };
        }
        let std = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt();
        let half = t_975(n - 1) * std / (n as f64).sqrt();
        Self { mean, std, n, interval: Some(Interval { low: mean - half, high: mean + half }) }
    }
}

impl std::fmt::Display for Stat {
    /// `mean ± sd [low, high]`; a single value alone. `{:+}` signs the numbers (gains and
    /// differences).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let num = |v: f64| if f.sign_plus() { format!("{v:+.1}") } else { format!("{v:.1}") };
        let mean = num(self.mean);
        match self.interval {
            Some(i) => write!(f, "{mean} ± {:.1} [{}, {}]", self.std, num(i.low), num(i.high)),
            // Results written before intervals were kept: the spread alone.
            None if self.n == 0 && self.std > 0.0 => write!(f, "{mean} ± {:.1}", self.std),
            None => write!(f, "{mean}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// P(0 <= T <= x) for Student's t with `df` degrees of freedom, by Simpson's rule on the
    /// density `Γ((ν+1)/2) / (√(νπ) Γ(ν/2)) (1 + x²/ν)^(−(ν+1)/2)`.
    fn t_mass(x: f64, df: usize) -> f64 {
        // r(ν) = Γ((ν+1)/2) / Γ(ν/2): r(1) = 1/√π, r(ν+1) = (ν/2) / r(ν).
        let mut r = 1.0 / std::f64::consts::PI.sqrt();
        for v in 1..df {
            r = (v as f64 / 2.0) / r;
        }
        let v = df as f64;
        let c = r / (v * std::f64::consts::PI).sqrt();
        let density = |t: f64| c * (1.0 + t * t / v).powf(-(v + 1.0) / 2.0);
        let steps = 20_000;
        let h = x / steps as f64;
        let inner: f64 =
            (1..steps).map(|i| density(i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 }).sum();
        (density(0.0) + density(x) + inner) * h / 3.0
    }

    #[test]
    fn t_quantiles_leave_two_and_a_half_percent_in_each_tail() {
        for df in (1..=35).chain([40, 60, 120, 1000]) {
            let mass = t_mass(t_975(df), df);
            assert!((mass - 0.475).abs() < 1e-8, "df {df}: P(0 <= T <= t) = {mass}");
        }
        // Published values (any statistics table).
        assert_eq!(t_975(1), 12.706_204_736);
        assert_eq!(t_975(4), 2.776_445_105);
        assert!((t_975(60) - 2.000_298).abs() < 1e-6);
        assert!((t_975(100_000) - Z_975).abs() < 1e-4);
        assert!(t_975(0).is_nan());
    }

    #[test]
    fn stat_is_mean_sample_std_and_t_interval() {
        // mean 2.5, sd √(5/3) = 1.2910, t(0.975, 3) = 3.1824: half-width 3.1824 · 1.2910 / 2.
        let s = Stat::of(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!((s.mean, s.n), (2.5, 4));
        assert!((s.std - 1.290_994_448_7).abs() < 1e-9);
        let i = s.interval.unwrap();
        assert!((i.low - 0.445_739_743).abs() < 1e-6 && (i.high - 4.554_260_257).abs() < 1e-6);
        // Two seeds 10 and 20: sd 7.0711, half-width 12.7062 · 7.0711 / √2 = 63.531.
        let two = Stat::of(&[10.0, 20.0]).interval.unwrap();
        assert!((two.low - -48.531_023_68).abs() < 1e-6, "{two:?}");
        // One seed: no spread and no interval.
        assert_eq!(Stat::of(&[7.0]), Stat { mean: 7.0, std: 0.0, n: 1, interval: None });
        assert_eq!(Stat::of(&[]), Stat::default());
    }

    #[test]
    fn stat_prints_the_interval_only_where_there_is_one() {
        assert_eq!(Stat::of(&[1.0, 2.0, 3.0, 4.0]).to_string(), "2.5 ± 1.3 [0.4, 4.6]");
        assert_eq!(format!("{:+}", Stat::of(&[4.0, 6.0])), "+5.0 ± 1.4 [-7.7, +17.7]");
        assert_eq!(Stat::of(&[7.04]).to_string(), "7.0");
        assert_eq!(format!("{:+}", Stat::of(&[5.04])), "+5.0");
        // Equal values over several seeds: the interval is the point, and says so.
        assert_eq!(Stat::of(&[0.0, 0.0]).to_string(), "0.0 ± 0.0 [0.0, 0.0]");
        // A Stat read from results.json written before intervals were kept.
        let old: Stat = serde_json::from_str(r#"{"mean": 92.94, "std": 1.26}"#).unwrap();
        assert_eq!((old.n, old.interval, old.to_string()), (0, None, "92.9 ± 1.3".into()));
    }
}
