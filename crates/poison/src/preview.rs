//! Contact sheet of poisons with object (green) and trigger (red) boxes drawn.
use image::imageops::{self, FilterType};
use image::{Rgb, RgbImage};
use imageproc::drawing::draw_hollow_rect_mut;
use imageproc::rect::Rect;

use crate::attack::PoisonItem;

/// Tiles up to `cols` thumbnails per row, each `thumb` px wide, with boxes drawn.
pub fn contact_sheet(items: &[&PoisonItem], cols: usize, thumb: u32) -> RgbImage {
    let thumbs: Vec<RgbImage> = items.iter().map(|item| thumbnail(item, thumb)).collect();
    let cols = cols.clamp(1, thumbs.len().max(1));
    let rows = thumbs.len().div_ceil(cols);
    let cell_h = thumbs.iter().map(|t| t.height()).max().unwrap_or(1);
    let pad = 4;
    let mut sheet = RgbImage::from_pixel(
        cols as u32 * (thumb + pad) + pad,
        rows as u32 * (cell_h + pad) + pad,
        Rgb([40, 40, 40]),
    );
    for (i, t) in thumbs.iter().enumerate() {
        let x = pad + (i % cols) as u32 * (thumb + pad);
        let y = pad + (i / cols) as u32 * (cell_h + pad);
        imageops::replace(&mut sheet, t, i64::from(x), i64::from(y));
    }
    sheet
}

fn thumbnail(item: &PoisonItem, width: u32) -> RgbImage {
    let (w, h) = item.image.dimensions();
    let scale = f64::from(width) / f64::from(w);
    let th = ((f64::from(h) * scale).round() as u32).max(1);
    let mut t = imageops::resize(&item.image, width, th, FilterType::Triangle);
    let boxes = [(item.object_box, Rgb([0, 255, 0])), (item.trigger_box, Rgb([255, 0, 0]))];
    for (b, colour) in boxes {
        let Some(b) = b else { continue };
        let sx = |v: u32| (f64::from(v) * scale).round() as i32;
        let rect = Rect::at(sx(b.x), sx(b.y)).of_size(sx(b.w).max(1) as u32, sx(b.h).max(1) as u32);
        draw_hollow_rect_mut(&mut t, rect, colour);
        if rect.width() > 2 && rect.height() > 2 {
            let inner = Rect::at(rect.left() + 1, rect.top() + 1)
                .of_size(rect.width() - 2, rect.height() - 2);
            draw_hollow_rect_mut(&mut t, inner, colour);
        }
    }
    t
}
