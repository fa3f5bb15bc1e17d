//! Where an encoder looks: Grad-CAM (Selvaraju et al. 2017; the reference runs
//! `pytorch-grad-cam`'s `GradCAM` on ResNet's `layer4`) for the similarity of an image's
//! embedding to its nearest cluster centre, and the window of the image that holds the most
//! of it, PatchSearch's candidate trigger.
//!
//! The target is the reference's `KMeansLinear` head: the cosine similarity
//! `s = <z / |z|, c_k>` of the embedding `z` to each unit cluster centre `c_k`, the largest
//! of them taken (Grad-CAM's default target, the top class). Our encoders' embedding is the
//! global average of the last feature map `A` (`[C, h, w]`), so `ds/dA[c, i, j]` is
//! `(ds/dz)_c / (h w)` at every position and Grad-CAM's channel weights, the spatial mean
//! of that gradient, are `(ds/dz)_c / (h w)` with `ds/dz = (c_k - s z / |z|) / |z|`:
//! computed in closed form rather than by backpropagation (a test holds it against burn's
//! autodiff). The map is `ReLU(sum_c w_c A_c)`, scaled to [0, 1], resized bilinearly to the
//! input side (OpenCV's `resize`, half-pixel centres) and scaled again, as the library does.

/// One image's feature map, `channels x h x w`, planar.
pub(crate) struct FeatureMap<'a> {
    pub(crate) values: &'a [f32],
    pub(crate) channels: usize,
    pub(crate) h: usize,
    pub(crate) w: usize,
}

/// The Grad-CAM weights `ds/dA` averaged over positions, one per channel, for the most
/// similar of the unit `centres` (`k x channels`, a zero row for an empty cluster, which is
/// never the target); all zero when the embedding is zero (no direction to follow).
pub(crate) fn channel_weights(map: &FeatureMap<'_>, centres: &[f32]) -> Vec<f64> {
    let (c, hw) = (map.channels, map.h * map.w);
    let z: Vec<f64> = (0..c)
        .map(|ch| map.values[ch * hw..(ch + 1) * hw].iter().map(|&v| f64::from(v)).sum::<f64>())
        .map(|sum| sum / hw as f64)
        .collect();
    let norm = z.iter().map(|v| v * v).sum::<f64>().sqrt();
    if norm == 0.0 {
        return vec![0.0; c];
    }
    let unit: Vec<f64> = z.iter().map(|v| v / norm).collect();
    let mut best: Option<(f64, &[f32])> = None;
    for centre in centres.chunks_exact(c) {
        if centre.iter().all(|&v| v == 0.0) {
            continue;
        }
        let s: f64 = unit.iter().zip(centre).map(|(u, &v)| u * f64::from(v)).sum();
        if best.is_none_or(|b| s > b.0) {
            best = Some((s, centre));
        }
    }
    let Some((s, centre)) = best else { return vec![0.0; c] };
    unit.iter().zip(centre).map(|(u, &ck)| (f64::from(ck) - s * u) / norm / hw as f64).collect()
}

/// The Grad-CAM map at the feature map's resolution, `h x w`: `ReLU(sum_c w_c A_c)`.
pub(crate) fn grad_cam(map: &FeatureMap<'_>, weights: &[f64]) -> Vec<f32> {
    let hw = map.h * map.w;
    (0..hw)
        .map(|p| {
            let v: f64 = weights
                .iter()
                .enumerate()
                .map(|(ch, w)| w * f64::from(map.values[ch * hw + p]))
                .sum();
            v.max(0.0) as f32
        })
        .collect()
}

/// `pytorch-grad-cam`'s `scale_cam_image`: `(x - min) / (max + 1e-7)` after the shift.
fn scale(values: &mut [f32]) {
    let min = values.iter().copied().fold(f32::INFINITY, f32::min);
    values.iter_mut().for_each(|v| *v -= min);
    let max = values.iter().copied().fold(0.0, f32::max);
    values.iter_mut().for_each(|v| *v /= max + 1e-7);
}

/// Source index and weight of the next one along one axis, OpenCV's `INTER_LINEAR`:
/// `x_src = (x + 0.5) * from / to - 0.5`, clamped to the edge pixels.
fn taps(to: usize, from: usize) -> Vec<(usize, f32)> {
    (0..to)
        .map(|x| {
            let f = (x as f64 + 0.5) * from as f64 / to as f64 - 0.5;
            let i = f.floor();
            if i < 0.0 {
                (0, 0.0)
            } else if i as usize >= from - 1 {
                (from - 1, 0.0)
            } else {
                (i as usize, (f - i) as f32)
            }
        })
        .collect()
}

/// `map` (`h x w`) resized bilinearly to `side x side`.
fn resize(map: &[f32], h: usize, w: usize, side: usize) -> Vec<f32> {
    let (rows, cols) = (taps(side, h), taps(side, w));
    let at = |y: usize, x: usize| map[y * w + x];
    let mut out = Vec::with_capacity(side * side);
    for &(y, fy) in &rows {
        let y1 = (y + 1).min(h - 1);
        for &(x, fx) in &cols {
            let x1 = (x + 1).min(w - 1);
            let top = at(y, x) * (1.0 - fx) + at(y, x1) * fx;
            let bottom = at(y1, x) * (1.0 - fx) + at(y1, x1) * fx;
            out.push(top * (1.0 - fy) + bottom * fy);
        }
    }
    out
}

/// The saliency of one image at input side `side`, `side x side` in [0, 1].
pub(crate) fn saliency(map: &FeatureMap<'_>, centres: &[f32], side: usize) -> Vec<f32> {
    let mut cam = grad_cam(map, &channel_weights(map, centres));
    scale(&mut cam);
    let mut big = resize(&cam, map.h, map.w, side);
    scale(&mut big);
    big
}

/// The top-left corner `(row, column)` of the `window x window` square of `saliency`
/// (`side x side`) with the largest sum, the first in row-major order on ties (the
/// reference's box-filter convolution and `argmax`).
pub(crate) fn best_window(saliency: &[f32], side: usize, window: usize) -> (usize, usize) {
    // Summed-area table with a zero border.
    let n = side + 1;
    let mut table = vec![0.0f64; n * n];
    for y in 0..side {
        for x in 0..side {
            table[(y + 1) * n + x + 1] =
                f64::from(saliency[y * side + x]) + table[y * n + x + 1] + table[(y + 1) * n + x]
                    - table[y * n + x];
        }
    }
    let mut best = (0, 0, f64::NEG_INFINITY);
    for y in 0..=side - window {
        for x in 0..=side - window {
            let (y1, x1) = (y + window, x + window);
            let sum = table[y1 * n + x1] - table[y * n + x1] - table[y1 * n + x] + table[y * n + x];
            if sum > best.2 {
                best = (y, x, sum);
            }
        }
    }
    (best.0, best.1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resizing_follows_opencv_half_pixel_centres() {
        // OpenCV: cv2.resize(np.float32([[0, 1], [2, 3]]), (4, 4)) gives these rows.
        let out = resize(&[0.0, 1.0, 2.0, 3.0], 2, 2, 4);
        let want = [
            [0.0, 0.25, 0.75, 1.0],
            [0.5, 0.75, 1.25, 1.5],
            [1.5, 1.75, 2.25, 2.5],
            [2.0, 2.25, 2.75, 3.0],
        ];
        for (y, row) in want.iter().enumerate() {
            for (x, v) in row.iter().enumerate() {
                assert!((out[y * 4 + x] - v).abs() < 1e-6, "({y}, {x}): {}", out[y * 4 + x]);
            }
        }
    }

    #[test]
    fn the_best_window_is_the_heaviest_and_the_first_on_ties() {
        let mut s = vec![0.0; 36];
        for (y, x) in [(3, 4), (4, 4), (4, 5), (3, 5)] {
            s[y * 6 + x] = 1.0;
        }
        assert_eq!(best_window(&s, 6, 2), (3, 4));
        assert_eq!(best_window(&s, 6, 3), (2, 3), "the first of the windows holding all four");
        assert_eq!(best_window(&[0.0; 36], 6, 2), (0, 0));
    }

    /// A 2-channel 4 x 4 map whose channel 0 lights one 2 x 2 corner and channel 1 is flat:
    /// towards a centre along channel 0, the saliency sits in that corner.
    #[test]
    fn the_saliency_follows_the_channel_that_pulls_towards_the_centre() {
        for (corner_y, corner_x) in [(0, 0), (0, 2), (2, 0), (2, 2)] {
            let mut values = vec![0.0f32; 32];
            for (y, x) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
                values[(corner_y + y) * 4 + corner_x + x] = 4.0;
            }
            values[16..].iter_mut().for_each(|v| *v = 1.0);
            let map = FeatureMap { values: &values, channels: 2, h: 4, w: 4 };
            // Centres along channel 0 and along channel 1: the embedding (1, 1) is as similar
            // to both, and the tie goes to the first.
            let centres = [1.0, 0.0, 0.0, 1.0];
            let weights = channel_weights(&map, &centres);
            assert!(weights[0] > 0.0 && weights[1] < 0.0, "{weights:?}");
            let s = saliency(&map, &centres, 16);
            let (row, col) = best_window(&s, 16, 8);
            assert_eq!((row, col), (corner_y * 4, corner_x * 4), "corner {corner_y},{corner_x}");
            assert!(s.iter().all(|v| (0.0..=1.0).contains(v)));
        }
    }
}
