//! `index.html`: the report as one page that opens from disk with no
//! server, no network and no script. On top what REPORT.md says first (what
//! the data can show, the paired comparison) and Figure 4 inline; below, a
//! grid of every pair (rows, grouped by difficulty, by task within) against
//! every run (columns: the solo runs, then each coop run), each cell
//! coloured and named by its outcome class; a pair's row opens (a
//! `<details>`) to its story in each run, the words of `triage`
//! (`study::story`). Then the whole of REPORT.md, folded.
//!
//! Every text that reaches the page is escaped here: a patch, a model's
//! message or an error can hold `<script>`. REPORT.md's Markdown goes
//! through pulldown-cmark with raw HTML turned into text, save the
//! `<details><summary>` our own Markdown builder writes.

use std::fmt::Write as _;

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd};

use crate::study::class::{Class, Trial};
use crate::study::pair::PairId;

/// One column of the grid.
pub struct Column {
    pub run: String,
    pub setting: String,
}

/// One (pair, run) cell: its class and its story, with a link to its
/// folder when the logs can be reached from the page.
pub struct Cell {
    pub class: Class,
    pub story: String,
    pub link: Option<String>,
}

/// One pair: its difficulty over the solo runs, and a cell per column.
pub struct Row {
    pub pair: PairId,
    /// Failed seeds over valid ones (`2/3`), or `undefined`.
    pub difficulty: String,
    pub value: Option<f64>,
    pub valid_seeds: u32,
    pub cells: Vec<Cell>,
}

pub struct Page<'a> {
    pub title: &'a str,
    /// REPORT.md's opening: title, what the data can show, the paired table.
    pub head_md: &'a str,
    /// The whole of REPORT.md.
    pub report_md: &'a str,
    pub fig4_svg: &'a str,
    pub per_model_svg: &'a [(String, String)],
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
    /// Where the links lead, in words (`None`: no links).
    pub logs_note: Option<String>,
}

/// Text as HTML text or an attribute's value.
pub fn escape(text: &str) -> String {
    let mut o = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// A pair's anchor: letters, digits and `-` only, so that it is one in
/// every browser and needs no escaping.
pub fn anchor(pair: &PairId) -> String {
    pair.to_string().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect()
}

/// The cell's colour: the model's success green, the model's failures warm
/// (a fail darker than a limit), what is not a trial grey or violet. The
/// class's name is written in every cell too: the colour is never the only
/// signal.
fn colour(c: Class) -> &'static str {
    match c {
        Class::Pass => "#2e7d32",
        Class::Fail => "#c62828",
        Class::FailNoTests => "#e57373",
        Class::Limits | Class::ModelContext => "#ef6c00",
        Class::EmptyPatch => "#f9a825",
        Class::Missing | Class::NotEvaluated => "#eeeeee",
        Class::EvalGraderLimit | Class::EvalTimeout | Class::EvalInfra => "#9575cd",
        Class::AgentConfigError | Class::AgentError => "#616161",
        Class::InfraSandbox | Class::InfraProvider | Class::InfraContainer => "#90a4ae",
    }
}

fn ink(c: Class) -> &'static str {
    match c {
        Class::Missing | Class::NotEvaluated | Class::EmptyPatch | Class::InfraSandbox => "#222",
        Class::InfraProvider | Class::InfraContainer => "#222",
        _ => "#fff",
    }
}

/// REPORT.md's Markdown as HTML, every raw HTML in it shown as text except
/// the `<details><summary>…</summary>` and `</details>` lines the builder
/// writes (their summary escaped); links only to relative paths or http(s);
/// images (fig4.svg, beside REPORT.md) left out: the page shows the figure.
pub fn markdown(md: &str) -> String {
    let events = Parser::new_ext(md, Options::ENABLE_TABLES).filter_map(|e| match e {
        Event::Html(h) | Event::InlineHtml(h) => Some(Event::Html(CowStr::from(raw_html(&h)))),
        Event::Start(Tag::Image { .. }) | Event::End(TagEnd::Image) => None,
        Event::Start(Tag::Link { link_type, dest_url, title, id }) => {
            let safe = !dest_url.contains(':') || dest_url.starts_with("https://") || dest_url.starts_with("http://");
            let dest_url = if safe { dest_url } else { CowStr::from("#") };
            Some(Event::Start(Tag::Link { link_type, dest_url, title, id }))
        }
        other => Some(other),
    });
    let mut o = String::new();
    pulldown_cmark::html::push_html(&mut o, events);
    o
}

fn raw_html(h: &str) -> String {
    let t = h.trim_end();
    if let Some(summary) = t.strip_prefix("<details><summary>").and_then(|s| s.strip_suffix("</summary>")) {
        if !summary.contains('<') {
            return format!("<details><summary>{}</summary>\n", escape(summary));
        }
    }
    if t == "</details>" {
        return "</details>\n".into();
    }
    escape(h)
}

const STYLE: &str = r#"
body { font: 14px/1.45 system-ui, sans-serif; margin: 1.5em auto; max-width: 1200px; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: .6em 0; }
th, td { border: 1px solid #ccc; padding: 2px 6px; text-align: left; vertical-align: top; }
code { background: #f4f4f4; padding: 0 2px; }
pre { background: #f8f8f8; border: 1px solid #ddd; padding: .5em; overflow-x: auto; white-space: pre-wrap; word-break: break-word; font-size: 12px; }
.figure svg { max-width: 100%; height: auto; }
.legend span, .cell { display: inline-block; padding: 1px 5px; border-radius: 3px; font-size: 11px; }
.legend span { margin: 2px 4px 2px 0; }
.grid-head, details.pair > summary { display: grid; grid-template-columns: 26em 5em repeat(var(--runs), 1fr); gap: 3px; align-items: center; }
.grid-head { font-weight: 600; font-size: 12px; position: sticky; top: 0; background: #fff; padding: 4px 0; border-bottom: 1px solid #ccc; }
.grid-head span { overflow-wrap: anywhere; }
details.pair > summary { cursor: pointer; list-style: none; padding: 1px 0; border-bottom: 1px solid #f0f0f0; }
details.pair > summary::-webkit-details-marker { display: none; }
details.pair > summary:hover { background: #f6f6ff; }
details.pair[open] > summary { background: #eef; }
.pairname { font-family: ui-monospace, monospace; font-size: 12px; }
.cell { text-align: center; overflow: hidden; white-space: nowrap; }
.story { margin: .4em 0 1em 1.5em; }
.story h4 { margin: .6em 0 .2em; }
h2.bucket { font-size: 15px; margin: 1.2em 0 .3em; }
"#;

/// The page.
pub fn page(p: &Page) -> String {
    let mut o = String::new();
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        escape(&format!("{}: difficulty and Figure 4", p.title))
    );
    o += &markdown(p.head_md);
    o += "<h2>Figure 4</h2>\n<div class=\"figure\">\n";
    o += svg_body(p.fig4_svg);
    o += "</div>\n";
    for (name, svg) in p.per_model_svg {
        let _ = write!(o, "<h3>{}</h3>\n<div class=\"figure\">\n{}</div>\n", escape(name), svg_body(svg));
    }
    grid(&mut o, p);
    o += "<h2 id=\"report\">The whole report</h2>\n<details>\n<summary>REPORT.md, as committed beside this page</summary>\n";
    o += &markdown(p.report_md);
    o += "</details>\n</body>\n</html>\n";
    o
}

/// The SVG without its XML declaration (inline SVG takes none).
fn svg_body(svg: &str) -> &str {
    match svg.find("<svg") {
        Some(i) => &svg[i..],
        None => svg,
    }
}

fn grid(o: &mut String, p: &Page) {
    let _ = writeln!(o, "<h2 id=\"pairs\">Every pair</h2>");
    let _ = writeln!(
        o,
        "<p>{} pairs (rows) by {} runs (columns). A cell is the pair's outcome class in that run; open a row for its story in every run: class and evidence, cost and steps, each agent's patch and last messages, the conversation (coop), the eval and the end of its test outputs: the words of <code>cargo xtask triage RUN PAIR</code>. Rows are grouped by difficulty (the share of valid solo seeds that failed), by pair within.{}</p>",
        p.rows.len(),
        p.columns.len(),
        p.logs_note.as_ref().map(|n| format!(" {}", escape(n))).unwrap_or_default()
    );
    legend(o, p);
    let _ = write!(
        o,
        "<div style=\"--runs: {}\">\n<div class=\"grid-head\"><span>pair</span><span>difficulty</span>",
        p.columns.len()
    );
    for c in &p.columns {
        let _ =
            write!(o, "<span title=\"{0} ({1})\">{0} <small>({1})</small></span>", escape(&c.run), escape(&c.setting));
    }
    o.push_str("</div>\n");
    let mut rows: Vec<&Row> = p.rows.iter().collect();
    // Hardest last; a pair with no difficulty (no valid seed) at the end.
    rows.sort_by(|a, b| {
        let key = |r: &Row| r.value.unwrap_or(f64::INFINITY);
        key(a).total_cmp(&key(b)).then_with(|| a.difficulty.cmp(&b.difficulty)).then_with(|| a.pair.cmp(&b.pair))
    });
    let mut current: Option<&str> = None;
    for r in rows {
        if current != Some(r.difficulty.as_str()) {
            let n = p.rows.iter().filter(|x| x.difficulty == r.difficulty).count();
            let _ = writeln!(o, "<h2 class=\"bucket\">difficulty {} ({n} pair(s))</h2>", escape(&r.difficulty));
            current = Some(r.difficulty.as_str());
        }
        row(o, p, r);
    }
    o.push_str("</div>\n");
}

fn legend(o: &mut String, p: &Page) {
    o.push_str("<p class=\"legend\">");
    for c in Class::ALL {
        let n = p.rows.iter().flat_map(|r| &r.cells).filter(|x| x.class == c).count();
        if n == 0 {
            continue;
        }
        let trial = match c.policy().trial {
            Trial::Success => "a success",
            Trial::Failure => "a failure",
            Trial::None => "not a trial",
        };
        let _ = write!(
            o,
            "<span style=\"background:{};color:{}\" title=\"{trial}\">{} ({n}): {trial}</span>",
            colour(c),
            ink(c),
            c.name()
        );
    }
    o.push_str("</p>\n");
}

fn row(o: &mut String, p: &Page, r: &Row) {
    let id = anchor(&r.pair);
    let _ = write!(
        o,
        "<details class=\"pair\" id=\"{id}\"><summary><span class=\"pairname\">{}</span><span title=\"failed over valid solo seeds: {} valid\">{}</span>",
        escape(&r.pair.to_string()),
        r.valid_seeds,
        escape(&r.difficulty)
    );
    for (col, cell) in p.columns.iter().zip(&r.cells) {
        let _ = write!(
            o,
            "<span class=\"cell\" style=\"background:{};color:{}\" title=\"{}\">{}</span>",
            colour(cell.class),
            ink(cell.class),
            escape(&col.run),
            cell.class.name()
        );
    }
    let _ = write!(o, "</summary>\n<div class=\"story\" id=\"story-{id}\">\n");
    for (col, cell) in p.columns.iter().zip(&r.cells) {
        let _ = write!(o, "<h4>{} <small>({})</small>", escape(&col.run), escape(&col.setting));
        if let Some(link) = &cell.link {
            let _ = write!(o, " <small><a href=\"{}\">files</a></small>", escape(link));
        }
        let _ = write!(o, "</h4>\n<pre>{}</pre>\n", escape(&cell.story));
    }
    o.push_str("</div></details>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_html_in_markdown_is_shown_as_text_but_our_details_stay() {
        let md = "# t\n\n<script>alert(1)</script>\n\nsee <img src=x onerror=alert(2)>\n\n<details><summary>All 3 problem(s)</summary>\n\n- one\n\n</details>\n";
        let h = markdown(md);
        assert!(!h.contains("<script>"), "{h}");
        assert!(h.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{h}");
        assert!(!h.contains("<img"), "{h}");
        assert!(h.contains("<details><summary>All 3 problem(s)</summary>"), "{h}");
        assert!(h.contains("</details>"), "{h}");
        // A summary that would smuggle markup is text.
        let h = markdown("<details><summary>x<script>y</script></summary>\n\n</details>\n");
        assert!(!h.contains("<script>"), "{h}");
    }

    #[test]
    fn links_lead_only_to_relative_or_web_addresses() {
        let h = markdown("[a](javascript:alert(1)) [b](fig4.svg) [c](https://example.org/)");
        assert!(!h.contains("javascript:"), "{h}");
        assert!(h.contains("href=\"fig4.svg\"") && h.contains("href=\"https://example.org/\""), "{h}");
    }

    #[test]
    fn escape_covers_text_and_attributes() {
        assert_eq!(escape(r#"<a href="x">'&'</a>"#), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    }
}
