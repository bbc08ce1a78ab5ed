//! Drawing Figure 4 as SVG with plotters: success rate against difficulty,
//! one line per setting with its Wilson band, pair counts per bucket.

use plotters::prelude::*;

use crate::fig4::{center, Bucket};

const COLORS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(23, 190, 207),
];

pub fn fig4_svg(buckets: &[Bucket], settings: &[String], title: &str) -> anyhow::Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (760, 480)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(56)
            .build_cartesian_2d(0f64..1f64, 0f64..1.08f64)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("pair difficulty d = 1 - mean solo success over seeds")
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
            let points: Vec<(f64, f64, f64, f64)> = buckets
                .iter()
                .filter_map(|b| {
                    let c = b.settings.get(setting)?;
                    Some((center(b.bucket), c.rate?, c.ci_lower, c.ci_upper))
                })
                .collect();
            if points.is_empty() {
                continue;
            }
            let mut band: Vec<(f64, f64)> = points.iter().map(|p| (p.0, p.3)).collect();
            band.extend(points.iter().rev().map(|p| (p.0, p.2)));
            chart.draw_series(std::iter::once(Polygon::new(band, color.mix(0.15)))).map_err(err)?;
            chart
                .draw_series(LineSeries::new(points.iter().map(|p| (p.0, p.1)), color.stroke_width(2)))
                .map_err(err)?
                .label(setting.as_str())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
            chart.draw_series(points.iter().map(|p| Circle::new((p.0, p.1), 3, color.filled()))).map_err(err)?;
        }
        // Bucket populations along the top, so sparse buckets are visible.
        chart
            .draw_series(buckets.iter().map(|b| {
                Text::new(format!("n={}", b.pairs), (center(b.bucket) - 0.03, 1.065), ("sans-serif", 12).into_font())
            }))
            .map_err(err)?;
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::MiddleRight)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .draw()
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

fn err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow::anyhow!("drawing fig4.svg: {e:?}")
}
