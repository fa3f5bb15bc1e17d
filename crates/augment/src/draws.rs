//! Cheap exact draws for the crop samplers' hot loops. `rand`'s `random_range` is not
//! inlined across crates and spends 64 bits where 32 do; these take 32-bit words.
use rand::RngCore;

use corruptencoder_core::Rng;

/// A uniform in `[0, 1)` from 32 random bits. Crop sides span at most a few thousand
/// pixels, so 2^-32 steps are far below a pixel (torchvision's own draws are float32).
#[inline]
pub(crate) fn unit32(bits: u32) -> f64 {
    f64::from(bits) * (1.0 / 4_294_967_296.0)
}

/// A uniform integer in `0..=n` (torchvision's `randint(0, n + 1)`), by Lemire's
/// multiply-and-reject: exactly uniform, and the rejection (a `%`) runs only when the low
/// word falls below `n + 1`, about `n / 2^32` of the time.
#[inline]
pub(crate) fn up_to(rng: &mut Rng, n: u32) -> u32 {
    let Some(range) = n.checked_add(1) else {
        return rng.next_u32();
    };
    let mut m = u64::from(rng.next_u32()) * u64::from(range);
    if (m as u32) < range {
        let threshold = range.wrapping_neg() % range;
        while (m as u32) < threshold {
            m = u64::from(rng.next_u32()) * u64::from(range);
        }
    }
    (m >> 32) as u32
}

/// A fair coin.
#[inline]
pub(crate) fn coin(rng: &mut Rng) -> bool {
    rng.next_u32() >> 31 == 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use corruptencoder_core::item_rng;

    #[test]
    fn up_to_covers_the_closed_range_evenly() {
        let mut rng = item_rng(0, 0, 0);
        for n in [0u32, 1, 2, 6, 1000] {
            let mut counts = vec![0u32; n as usize + 1];
            let draws = 2000 * (n + 1);
            for _ in 0..draws {
                counts[up_to(&mut rng, n) as usize] += 1;
            }
            // Each count is Binomial(draws, 1/(n+1)): mean 2000, SD below 45.
            assert!(counts.iter().all(|&k| (1800..2200).contains(&k)), "{n}: {counts:?}");
        }
    }

    #[test]
    fn unit32_stays_below_one() {
        assert_eq!(unit32(0), 0.0);
        assert!(unit32(u32::MAX) < 1.0);
    }

    #[test]
    fn coin_is_fair() {
        let mut rng = item_rng(1, 0, 0);
        let heads = (0..100_000).filter(|_| coin(&mut rng)).count();
        assert!((49_000..51_000).contains(&heads), "{heads}");
    }
}
