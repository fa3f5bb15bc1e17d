//! Times synthetic image generation and writes a preview sheet.
//!
//! `cargo run --release -p corruptencoder-data --example synthetic_timing -- 5000 preview.png`
#![expect(clippy::print_stdout, reason = "an example reports its timing on stdout")]

use std::time::Instant;

use corruptencoder_data::{SyntheticConfig, SyntheticSet, SyntheticSplit, png_bytes};
use image::{RgbImage, imageops};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let count: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5000);
    let preview = args.next();
    let set = SyntheticSet::new(SyntheticConfig::default())?;

    let start = Instant::now();
    let data = set.labelled(SyntheticSplit::Pretrain, count);
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{count} labelled 64x64 images in {secs:.2} s: {:.0} images/s ({} threads)",
        count as f64 / secs,
        rayon::current_num_threads()
    );

    if let Some(path) = preview {
        // Rows: two samples of each class, then the class's first reference and a
        // background, all at 64 px.
        let classes = set.config().classes;
        let mut sheet = RgbImage::new(64 * 4, 64 * classes as u32);
        for c in 0..classes {
            let y = 64 * c as i64;
            imageops::overlay(&mut sheet, &data.images[c], 0, y);
            imageops::overlay(&mut sheet, &data.images[c + classes], 64, y);
            let reference = &set.references(c, 1)?[0].image;
            let small = imageops::resize(reference, 64, 64, imageops::FilterType::Triangle);
            imageops::overlay(&mut sheet, &small, 128, y);
            imageops::overlay(&mut sheet, &set.background(c, 64, 64), 192, y);
        }
        std::fs::write(&path, png_bytes(&sheet))?;
        println!("preview written to {path}");
    }
    Ok(())
}
