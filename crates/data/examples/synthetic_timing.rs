//! Times synthetic image generation and writes a preview sheet.
//!
//! `cargo run --release -p corruptencoder-data --example synthetic_timing -- 5000 preview.png`
//! (a third argument, `objects`, shows the objects world instead of the patterns world; a
//! fourth sets the image side, 64 by default).
#![expect(clippy::print_stdout, reason = "an example reports its timing on stdout")]

use std::time::Instant;

use corruptencoder_data::{
    SyntheticConfig, SyntheticSet, SyntheticSplit, SyntheticWorld, png_bytes,
};
use image::{RgbImage, imageops};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let count: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5000);
    let preview = args.next();
    let kind = match args.next().as_deref() {
        None | Some("patterns") => SyntheticWorld::Patterns,
        Some("objects") => SyntheticWorld::Objects,
        Some(other) => return Err(format!("unknown world `{other}`").into()),
    };
    let size: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(64);
    let set = SyntheticSet::new(SyntheticConfig { kind, size, ..Default::default() })?;

    let start = Instant::now();
    let data = set.labelled(SyntheticSplit::Pretrain, count);
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{count} labelled {size}x{size} images in {secs:.2} s: {:.0} images/s ({} threads)",
        count as f64 / secs,
        rayon::current_num_threads()
    );

    if let Some(path) = preview {
        // Rows: two samples of each class, then the class's first reference and a
        // background, all at `size` px.
        let classes = set.config().classes;
        let mut sheet = RgbImage::new(size * 4, size * classes as u32);
        let at = |k: u32| i64::from(size * k);
        for c in 0..classes {
            let y = at(c as u32);
            imageops::overlay(&mut sheet, &data.images[c], 0, y);
            imageops::overlay(&mut sheet, &data.images[c + classes], at(1), y);
            let reference = &set.references(c, 1)?[0].image;
            let small = imageops::resize(reference, size, size, imageops::FilterType::Triangle);
            imageops::overlay(&mut sheet, &small, at(2), y);
            imageops::overlay(&mut sheet, &set.background(c, size, size), at(3), y);
        }
        std::fs::write(&path, png_bytes(&sheet))?;
        println!("preview written to {path}");
    }
    Ok(())
}
