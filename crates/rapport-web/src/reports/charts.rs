//! Charts drawn on the server as SVG: columns per day (one series as bars, another as a
//! line over them) and horizontal bars per name. No script; the colours come from the
//! stylesheet's classes. Every chart names what it shows (`aria-label`); the data table
//! beside it carries the numbers for a screen reader. Text in a chart (a category's or a
//! team's name) is escaped.

use rapport_domain::text::escape_html;

/// Width of a chart's drawing area, in CSS pixels.
const W: f64 = 640.0;
/// Room for the value axis on the left.
const LEFT: f64 = 40.0;

/// A round number at or above `max`, so the axis reads 0 … top.
fn top(max: i64) -> i64 {
    if max <= 5 {
        return 5;
    }
    let mag = 10_i64.pow((max as f64).log10().floor() as u32);
    for step in [1, 2, 5, 10] {
        if step * mag >= max {
            return step * mag;
        }
    }
    10 * mag
}

/// Columns of `bars` per day with `line` drawn over them: `days` holds each day's label
/// (`YYYY-MM-DD`), bar value and line value. `bar_name` and `line_name` say what they
/// are, for the legend and the label.
pub fn columns(
    label: &str,
    days: &[(String, i64, i64)],
    bar_name: &str,
    line_name: &str,
) -> String {
    const H: f64 = 180.0;
    let max = days.iter().map(|d| d.1.max(d.2)).max().unwrap_or(0);
    let top = top(max) as f64;
    let n = days.len().max(1) as f64;
    let step = (W - LEFT) / n;
    let y = |v: i64| H - (v as f64 / top) * H;
    let mut svg = format!(
        r#"<svg class="chart" viewBox="0 -10 {w} {h}" role="img" aria-label="{label}"><g class="grid">"#,
        w = W + 10.0,
        h = H + 44.0,
        label = escape_html(label),
    );
    for frac in [0.0, 0.5, 1.0] {
        let v = (top * frac).round() as i64;
        svg.push_str(&format!(
            r#"<line x1="{LEFT}" x2="{W}" y1="{yy:.1}" y2="{yy:.1}"/><text x="{tx}" y="{ty:.1}" class="axis-label" text-anchor="end">{v}</text>"#,
            yy = y(v),
            tx = LEFT - 4.0,
            ty = y(v) + 4.0,
        ));
    }
    svg.push_str(r#"</g><g class="bars">"#);
    let bw = (step * 0.7).max(1.0);
    for (i, (_, b, _)) in days.iter().enumerate() {
        if *b > 0 {
            svg.push_str(&format!(
                r#"<rect x="{x:.1}" y="{yy:.1}" width="{bw:.1}" height="{hh:.1}"/>"#,
                x = LEFT + i as f64 * step + (step - bw) / 2.0,
                yy = y(*b),
                hh = H - y(*b),
            ));
        }
    }
    svg.push_str("</g>");
    let pts: Vec<String> = days
        .iter()
        .enumerate()
        .map(|(i, d)| format!("{:.1},{:.1}", LEFT + (i as f64 + 0.5) * step, y(d.2)))
        .collect();
    svg.push_str(&format!(
        r#"<polyline class="line" points="{}" fill="none"/>"#,
        pts.join(" ")
    ));
    if let (Some(first), Some(last)) = (days.first(), days.last()) {
        svg.push_str(&format!(
            r#"<text x="{LEFT}" y="{ty}" class="axis-label">{}</text><text x="{W}" y="{ty}" class="axis-label" text-anchor="end">{}</text>"#,
            escape_html(&first.0),
            escape_html(&last.0),
            ty = H + 16.0,
        ));
    }
    svg.push_str(&format!(
        r#"<g class="legend"><rect x="{LEFT}" y="{ly}" width="10" height="10" class="bar-key"/><text x="{tx}" y="{ty}">{}</text><line x1="{lx}" x2="{lx2}" y1="{lm}" y2="{lm}" class="line"/><text x="{tx2}" y="{ty}">{}</text></g></svg>"#,
        escape_html(bar_name),
        escape_html(line_name),
        ly = H + 24.0,
        ty = H + 33.0,
        tx = LEFT + 14.0,
        lx = LEFT + 140.0,
        lx2 = LEFT + 156.0,
        lm = H + 29.0,
        tx2 = LEFT + 160.0,
    ));
    svg
}

/// Horizontal bars, one per `(name, value)`, longest first as given.
pub fn bars(label: &str, items: &[(String, i64)]) -> String {
    const ROW: f64 = 22.0;
    const NAME: f64 = 160.0;
    let max = items.iter().map(|i| i.1).max().unwrap_or(0).max(1) as f64;
    let h = ROW * items.len().max(1) as f64;
    let mut svg = format!(
        r#"<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-label="{label}"><g class="bars">"#,
        w = W + 10.0,
        label = escape_html(label),
    );
    let room = W - NAME - 60.0;
    for (i, (name, v)) in items.iter().enumerate() {
        let yy = i as f64 * ROW;
        let len = (*v as f64 / max) * room;
        let shown: String = name.chars().take(24).collect();
        svg.push_str(&format!(
            r#"<text x="{tx}" y="{ty:.1}" class="axis-label" text-anchor="end">{name}</text><rect x="{NAME}" y="{ry:.1}" width="{len:.1}" height="{rh}"/><text x="{vx:.1}" y="{ty:.1}" class="axis-label">{v}</text>"#,
            tx = NAME - 6.0,
            ty = yy + 15.0,
            name = escape_html(&shown),
            ry = yy + 3.0,
            rh = ROW - 6.0,
            vx = NAME + len + 6.0,
        ));
    }
    svg.push_str("</g></svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_end_on_round_numbers() {
        assert_eq!(top(0), 5);
        assert_eq!(top(7), 10);
        assert_eq!(top(11), 20);
        assert_eq!(top(48), 50);
        assert_eq!(top(51), 100);
        assert_eq!(top(100), 100);
        assert_eq!(top(1234), 2000);
    }

    #[test]
    fn names_in_charts_are_escaped_and_bars_scale() {
        let svg = bars(
            "By team",
            &[("<script>x</script>".into(), 10), ("Billing".into(), 5)],
        );
        assert!(!svg.contains("<script>"), "{svg}");
        assert!(svg.contains("&lt;script&gt;"));
        // The longest bar takes the whole room; the half one half of it.
        assert!(svg.contains(r#"width="420.0""#), "{svg}");
        assert!(svg.contains(r#"width="210.0""#), "{svg}");
        let svg = columns(
            "Volume",
            &[("2026-11-01".into(), 4, 2), ("2026-11-02".into(), 0, 5)],
            "created",
            "solved",
        );
        // One column (a day with none draws none), the line through both days.
        assert_eq!(
            svg.matches("<rect").count(),
            2,
            "one bar and the legend's key"
        );
        assert!(svg.contains("2026-11-01") && svg.contains("2026-11-02"));
        assert!(
            svg.contains(r#"<polyline class="line" points="190.0,108.0 490.0,0.0""#),
            "{svg}"
        );
    }
}
