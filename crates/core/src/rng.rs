use rand::{Rng as _, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The one RNG type of the project. ChaCha8 is portable and its output is fixed by the
/// pinned `rand_chacha` version, unlike `StdRng`.
pub type Rng = ChaCha8Rng;

/// The RNG of item `index` in stream `stream` of a run seeded with `seed`.
///
/// Each (seed, stream, index) triple is a distinct ChaCha key, so items drawn in parallel
/// are bit-identical to items drawn in order, whatever the thread count.
pub fn item_rng(seed: u64, stream: u64, index: u64) -> Rng {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    key[8..16].copy_from_slice(&stream.to_le_bytes());
    key[16..24].copy_from_slice(&index.to_le_bytes());
    // A fixed tag keeps these keys apart from any other use of ChaCha8 with small seeds.
    key[24..].copy_from_slice(b"ce-item1");
    ChaCha8Rng::from_seed(key)
}

/// Python's `random.uniform(a, b)`: `a + (b - a) * u` with `u ~ U[0, 1)`.
///
/// Defined also when `a > b` (then the result lies in `(b, a]`), as the authors' generator
/// relies on for narrow objects (method.md section 3, step 7).
#[inline]
pub fn uniform(rng: &mut Rng, a: f64, b: f64) -> f64 {
    a + (b - a) * rng.random::<f64>()
}

/// Python's `random.randint(a, b)`: an integer in the closed range `[a, b]`.
///
/// Returns `a` when `b < a` rather than panicking.
#[inline]
pub fn uniform_int(rng: &mut Rng, a: i64, b: i64) -> i64 {
    if b <= a { a } else { rng.random_range(a..=b) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_and_indices_differ() {
        let draw = |s, i| uniform(&mut item_rng(1, s, i), 0.0, 1.0);
        assert_ne!(draw(0, 0), draw(0, 1));
        assert_ne!(draw(0, 0), draw(1, 0));
        assert_eq!(draw(3, 9), draw(3, 9));
    }

    #[test]
    fn uniform_handles_reversed_bounds() {
        let mut rng = item_rng(0, 0, 0);
        for _ in 0..1000 {
            let x = uniform(&mut rng, 5.0, 2.0);
            assert!(x > 2.0 && x <= 5.0, "{x}");
        }
    }

    #[test]
    fn uniform_int_covers_closed_range() {
        let mut rng = item_rng(0, 0, 0);
        let mut seen = [false; 4];
        for _ in 0..200 {
            seen[(uniform_int(&mut rng, 3, 6) - 3) as usize] = true;
        }
        assert!(seen.iter().all(|s| *s));
        assert_eq!(uniform_int(&mut rng, 4, 1), 4);
    }
}
