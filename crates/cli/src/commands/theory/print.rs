//! The tables `theory` prints: the sweep, the closed form for square views and the
//! per-reference optima.
#![expect(clippy::print_stdout, reason = "the tables are this command's output")]

use corruptencoder_theory::{
    Scene, Sweep, SweepConfig, centred_square_background, optimal_square_layout, square_probs,
};

use super::Optimum;

/// One line per reference: where its optimum lies. The generator sizes each reference on
/// its own (and `--area-ratio optimal` picks a ratio per reference), so this is what
/// differs between them.
pub(super) fn print_optima(optima: &[Optimum]) {
    println!("\nper-reference optimum (trigger centred; and at the best offset):");
    println!(
        "{:<16} {:>9} {:>5} {:>5} {:>16}   {:>5} {:>6} {:>7}",
        "reference", "object", "ratio", "bg", "pair centred", "ratio", "offset", "pair"
    );
    for o in optima {
        let size = format!("{}x{}", o.size.0, o.size.1);
        let centred = o.centred.map_or_else(
            || format!("{:>5} {:>5} {:>16}", "-", "-", "-"),
            |(r, bg, e)| format!("{r:>5.2} {bg:>5} {:>7.4} +- {:.4}", e.p, e.se),
        );
        let any = o.any.map_or_else(
            || format!("{:>5} {:>6} {:>7}", "-", "-", "-"),
            |(r, offset, e)| format!("{r:>5.2} {offset:>6} {:>7.4}", e.p),
        );
        println!("{:<16} {size:>9} {centred}   {any}", o.name);
    }
}

pub(super) fn print_square_theory(cfg: &SweepConfig, s: u32) {
    match optimal_square_layout(cfg.layout, cfg.object, cfg.trigger, s) {
        Ok(best) => {
            let o = best.area_ratio(cfg.layout, cfg.object);
            println!(
                "square views {s}px, closed form: best background {} px ({o:.2}x object), \
                 trigger {} px from the object, p1 {:.4} p2 {:.4} p1*p2 {:.4}",
                best.background,
                best.offset,
                best.probs.p1,
                best.probs.p2,
                best.probs.product()
            );
        }
        Err(e) => println!("square views {s}px: {e}"),
    }
    if let Ok(b) = centred_square_background(cfg.layout, cfg.object, cfg.trigger, s) {
        let value = Scene::centred(cfg.layout, cfg.object, b, cfg.trigger)
            .ok()
            .and_then(|sc| square_probs(&sc, s).ok())
            .map_or(f64::NAN, |p| p.product());
        println!(
            "  with the trigger centred (method.md section 4 formula): background {b} px, p1*p2 {value:.4}"
        );
    }
}

pub(super) fn print_table(cfg: &SweepConfig, sweep: &Sweep) {
    let pos: Vec<String> = cfg.positions.iter().map(|f| format!("@{f:<5}")).collect();
    println!(
        "{:>5} {:>5} {:>7} {:>7} {:>16} {} {:>5} {:>7}",
        "ratio",
        "bg",
        "p1",
        "p2",
        "pair centred",
        pos.join(" "),
        "best",
        "pair"
    );
    for (k, r) in sweep.rows.iter().enumerate() {
        let Some(c) = r.centred else {
            println!("{:>5.2} {:>5}  (no room for the trigger)", r.ratio, r.background);
            continue;
        };
        let at: Vec<String> = r.at_positions.iter().map(|e| format!("{:.4}", e.p)).collect();
        let mut mark = String::new();
        if sweep.best_centred == Some(k) {
            mark.push_str(" <- best centred");
        }
        if sweep.best_any == Some(k) {
            mark.push_str(" <- best overall");
        }
        println!(
            "{:>5.2} {:>5} {:>7.4} {:>7.4} {:>7.4} +- {:.4} {} {:>5} {:>7.4}{mark}",
            r.ratio,
            r.background,
            c.p1.p,
            c.p2.p,
            c.pair.p,
            c.pair.se,
            at.join("  "),
            r.best_offset,
            r.best.p
        );
    }
    println!(
        "p1: view inside the object box; p2: view contains the whole (centred) trigger; pair: \
         one object view and the other view containing the trigger; @f: trigger at fraction f \
         of the free slack from the object; best: offset (px) from the object with the \
         highest pair probability."
    );
}
