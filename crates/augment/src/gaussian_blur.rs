use crate::FloatImage;

/// Separable Gaussian blur with standard deviation `sigma`, as MoCo-v2's `GaussianBlur`
/// (PIL `ImageFilter.GaussianBlur(radius=sigma)`) applies it with `sigma ~ U[0.1, 2]`
/// (method.md section 6). The kernel spans `ceil(3 sigma)` pixels each side, where PIL's
/// box-filter approximation and an exact Gaussian agree to within a grey level; borders
/// reflect (torchvision's `gaussian_blur` padding).
pub fn gaussian_blur(image: &mut FloatImage, sigma: f32) {
    let radius = (3.0 * sigma).ceil().max(1.0) as usize;
    let kernel: Vec<f32> = {
        let raw: Vec<f32> = (0..=2 * radius)
            .map(|i| {
                let d = i as f32 - radius as f32;
                (-d * d / (2.0 * sigma * sigma)).exp()
            })
            .collect();
        let sum: f32 = raw.iter().sum();
        raw.into_iter().map(|k| k / sum).collect()
    };
    let (w, h) = (image.width, image.height);
    // Nothing to blur in an empty image (and `chunks_mut(0)` would panic).
    if w * h == 0 {
        return;
    }
    let mut tmp = vec![0.0; w * h];
    for plane in image.data.chunks_mut(w * h) {
        for y in 0..h {
            for x in 0..w {
                tmp[y * w + x] = kernel
                    .iter()
                    .enumerate()
                    .map(|(k, wk)| {
                        wk * plane[y * w + reflect(x as isize + k as isize - radius as isize, w)]
                    })
                    .sum();
            }
        }
        for y in 0..h {
            for x in 0..w {
                plane[y * w + x] = kernel
                    .iter()
                    .enumerate()
                    .map(|(k, wk)| {
                        wk * tmp[reflect(y as isize + k as isize - radius as isize, h) * w + x]
                    })
                    .sum();
            }
        }
    }
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

    #[test]
    fn reflect_folds_without_repeating_the_edge() {
        let got: Vec<usize> = (-3..7).map(|i| reflect(i, 4)).collect();
        assert_eq!(got, vec![3, 2, 1, 0, 1, 2, 3, 2, 1, 0]);
    }
}
