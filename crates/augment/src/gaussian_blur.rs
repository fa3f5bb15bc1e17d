use crate::FloatImage;

/// Separable Gaussian blur with standard deviation `sigma`, as MoCo-v2's `GaussianBlur`
/// (PIL `ImageFilter.GaussianBlur(radius=sigma)`) applies it with `sigma ~ U[0.1, 2]`
/// (method.md section 6). The kernel spans `ceil(3 sigma)` pixels each side, where PIL's
/// box-filter approximation and an exact Gaussian agree to within a grey level; borders
/// reflect (torchvision's `gaussian_blur` padding).
pub fn gaussian_blur(image: &mut FloatImage, sigma: f32) {
    let (radius, kernel) = gaussian_kernel(sigma);
    let (w, h) = (image.width, image.height);
    // Nothing to blur in an empty image (and `chunks_mut(0)` would panic).
    if w * h == 0 {
        return;
    }
    let taps = kernel.len();
    let mut tmp = vec![0.0; w * h];
    // A row with its reflected borders, and a row of sums: each output is the same sum of
    // the same products in the same order (from -0.0, as `Iterator::sum` starts) as a
    // per-pixel loop reflecting every index, without the index arithmetic per tap.
    let mut padded = vec![0.0; w + taps - 1];
    let mut acc = vec![0.0; w];
    for plane in image.data.chunks_mut(w * h) {
        for y in 0..h {
            let row = &plane[y * w..][..w];
            for (j, p) in padded.iter_mut().enumerate() {
                *p = row[reflect(j as isize - radius as isize, w)];
            }
            for (x, t) in tmp[y * w..][..w].iter_mut().enumerate() {
                *t = kernel.iter().zip(&padded[x..x + taps]).map(|(wk, v)| wk * v).sum();
            }
        }
        for y in 0..h {
            acc.fill(-0.0);
            for (k, wk) in kernel.iter().enumerate() {
                let source = &tmp[reflect(y as isize + k as isize - radius as isize, h) * w..][..w];
                for (a, v) in acc.iter_mut().zip(source) {
                    *a += wk * v;
                }
            }
            plane[y * w..][..w].copy_from_slice(&acc);
        }
    }
}

/// The blur's radius and its normalised kernel of `2 radius + 1` taps.
fn gaussian_kernel(sigma: f32) -> (usize, Vec<f32>) {
    let radius = (3.0 * sigma).ceil().max(1.0) as usize;
    let raw: Vec<f32> = (0..=2 * radius)
        .map(|i| {
            let d = i as f32 - radius as f32;
            (-d * d / (2.0 * sigma * sigma)).exp()
        })
        .collect();
    let sum: f32 = raw.iter().sum();
    (radius, raw.into_iter().map(|k| k / sum).collect())
}

/// Reflect padding without repeating the edge (`torch.nn.functional.pad(mode="reflect")`),
/// folded repeatedly so kernels wider than the image stay in range.
fn reflect(i: isize, n: usize) -> usize {
    if n == 1 {
        return 0;
    }
    let period = 2 * (n as isize - 1);
    let m = i.rem_euclid(period);
    (if m < n as isize { m } else { period - m }) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blur_keeps_constants_and_mass_and_spreads_a_spike() {
        let mut flat = FloatImage { width: 5, height: 5, data: vec![0.5; 75] };
        gaussian_blur(&mut flat, 1.5);
        assert!(flat.data.iter().all(|v| (v - 0.5).abs() < 1e-5));

        let mut spike = FloatImage { width: 9, height: 9, data: vec![0.0; 243] };
        spike.data[4 * 9 + 4] = 1.0;
        gaussian_blur(&mut spike, 1.0);
        let centre = spike.data[4 * 9 + 4];
        assert!(centre < 0.5 && centre > spike.data[4 * 9 + 5]);
        let mass: f32 = spike.data[..81].iter().sum();
        assert!((mass - 1.0).abs() < 1e-3, "{mass}");
        assert!(spike.data[81..].iter().all(|v| *v == 0.0));
    }

    /// The blur as a per-pixel loop reflecting every tap's index: the definition the
    /// row-wise passes must equal bit for bit.
    fn blur_per_pixel(image: &mut FloatImage, sigma: f32) {
        let (radius, kernel) = gaussian_kernel(sigma);
        let (w, h) = (image.width, image.height);
        let mut tmp = vec![0.0; w * h];
        let at = |i: usize, k: usize| i as isize + k as isize - radius as isize;
        for plane in image.data.chunks_mut(w * h) {
            for y in 0..h {
                for x in 0..w {
                    tmp[y * w + x] = kernel
                        .iter()
                        .enumerate()
                        .map(|(k, wk)| wk * plane[y * w + reflect(at(x, k), w)])
                        .sum();
                }
            }
            for y in 0..h {
                for x in 0..w {
                    plane[y * w + x] = kernel
                        .iter()
                        .enumerate()
                        .map(|(k, wk)| wk * tmp[reflect(at(y, k), h) * w + x])
                        .sum();
                }
            }
        }
    }

    #[test]
    fn row_passes_equal_the_per_pixel_definition_bit_for_bit() {
        for (w, h, sigma) in [(32, 32, 0.1), (32, 32, 2.0), (7, 5, 1.3), (3, 9, 2.0), (1, 4, 0.7)] {
            let data: Vec<f32> =
                (0..3 * w * h).map(|i| ((i * 7919) % 257) as f32 / 256.0).collect();
            let mut fast = FloatImage { width: w, height: h, data: data.clone() };
            let mut slow = FloatImage { width: w, height: h, data };
            gaussian_blur(&mut fast, sigma);
            blur_per_pixel(&mut slow, sigma);
            let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&fast.data), bits(&slow.data), "{w}x{h}, sigma {sigma}");
        }
    }

    #[test]
    fn reflect_folds_without_repeating_the_edge() {
        let got: Vec<usize> = (-3..7).map(|i| reflect(i, 4)).collect();
        assert_eq!(got, vec![3, 2, 1, 0, 1, 2, 3, 2, 1, 0]);
    }
}
