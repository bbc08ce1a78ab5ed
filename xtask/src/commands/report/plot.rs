//! Drawing Figure 4 as SVG with plotters: success rate against difficulty,
//! one line per setting with its bootstrap band, pair counts per bucket, and
//! the legend in a margin of its own so that it never covers data.

use plotters::prelude::*;

use crate::study::fig4::{center, Bucket, RELIABLE_BUCKET_PAIRS};

const COLORS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(23, 190, 207),
];

/// (x, rate, interval low, interval high, resting on enough pairs).
type Point = (f64, f64, f64, f64, bool);

pub fn fig4_svg(buckets: &[Bucket], settings: &[String], title: &str, x_desc: &str) -> anyhow::Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, 480)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let (plot_area, legend_area) = root.split_horizontally(680);
        let mut chart = ChartBuilder::on(&plot_area)
            .caption(title, ("sans-serif", 20))
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(56)
            .build_cartesian_2d(0f64..1f64, 0f64..1.08f64)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc(x_desc)
            .y_desc("success rate (both features pass)")
            .light_line_style(WHITE)
            .x_labels(11)
            .y_labels(6)
            .x_label_formatter(&|x| format!("{x:.1}"))
            .y_label_formatter(&|y| format!("{y:.1}"))
            .draw()
            .map_err(err)?;
        for (i, setting) in settings.iter().enumerate() {
            let color = COLORS[i % COLORS.len()];
            // A point on fewer than RELIABLE_BUCKET_PAIRS pairs is drawn
            // hollow, with no line or band of its own: a curve through it
            // would claim a shape the data do not have.
            let (points, hollow): (Vec<Point>, Vec<Point>) = buckets
                .iter()
                .filter_map(|b| {
                    let c = b.settings.get(setting)?;
                    Some((center(b.bucket), c.rate?, c.ci_lower, c.ci_upper, b.pairs >= RELIABLE_BUCKET_PAIRS))
                })
                .partition(|p| p.4);
            chart.draw_series(hollow.iter().map(|p| Circle::new((p.0, p.1), 4, color.stroke_width(1)))).map_err(err)?;
            let y = 60 + 24 * i as i32;
            legend_area.draw(&PathElement::new(vec![(8, y), (32, y)], color.stroke_width(2))).map_err(err)?;
            legend_area.draw(&Text::new(setting.clone(), (38, y - 7), ("sans-serif", 13).into_font())).map_err(err)?;
            if points.is_empty() {
                continue;
            }
            let mut band: Vec<(f64, f64)> = points.iter().map(|p| (p.0, p.3)).collect();
            band.extend(points.iter().rev().map(|p| (p.0, p.2)));
            chart.draw_series(std::iter::once(Polygon::new(band, color.mix(0.15)))).map_err(err)?;
            chart
                .draw_series(LineSeries::new(points.iter().map(|p| (p.0, p.1)), color.stroke_width(2)))
                .map_err(err)?;
            chart.draw_series(points.iter().map(|p| Circle::new((p.0, p.1), 3, color.filled()))).map_err(err)?;
        }
        // Bucket populations along the top, so sparse buckets are visible.
        chart
            .draw_series(buckets.iter().map(|b| {
                Text::new(format!("n={}", b.pairs), (center(b.bucket) - 0.03, 1.065), ("sans-serif", 12).into_font())
            }))
            .map_err(err)?;
        let note = ("sans-serif", 11).into_font();
        let y = 70 + 24 * settings.len() as i32;
        legend_area.draw(&Text::new("bands: cluster-bootstrap 95%", (8, y), note.clone())).map_err(err)?;
        let hollow = format!("hollow: under {RELIABLE_BUCKET_PAIRS} pairs, not joined");
        legend_area.draw(&Text::new(hollow, (8, y + 16), note.clone())).map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

fn err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow::anyhow!("drawing fig4.svg: {e:?}")
}
