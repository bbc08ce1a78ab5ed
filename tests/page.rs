//! `index.html`, the report as one page: every text on it escaped and
//! scrubbed, one row per pair, each run's story under it; and, in headless
//! Chromium, what a person opening it from disk sees: the verdict first,
//! Figure 4, 100 rows, a pair's story after opening it, a planted
//! `<script>` shown as text.
//!
//! What the page *shows* is read as Chromium prints it (`--print-to-pdf`,
//! then `pdftotext`): a closed row's story is not printed, an opened one
//! is, so the check sees what the eye would. The browser tests are
//! `#[ignore]`d so that a plain `cargo test` reports them as ignored, never
//! as passed, where Chromium is missing; with `--include-ignored` (as
//! .ci/run) they install Debian's `chromium` and `poppler-utils` when they
//! can (root, apt-get), and fail when they cannot.

mod common;

use std::path::{Path, PathBuf};

use common::*;

const RUN: &str = "command-a-solo";
const PAIR: &str = "amber_task/1000/f1_f2";
const SCRIPT: &str = "<script>alert(1)</script>";

/// The anchor of a pair's story (`html::anchor`: `-` for every other char).
fn story_anchor(pair: &str) -> String {
    let a: String = pair.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    format!("story-{a}")
}

/// A baseline whose PAIR carries a `<script>` in its agent's error (with the
/// key beside it, as a provider's auth error echoes one) and in its patch.
fn planted() -> Checkout {
    let c = Checkout::with_baseline("");
    edit_json(&c.pair_dir(RUN, PAIR).join("result.json"), |v| {
        v["agent"]["status"] = "Error".into();
        v["agent"]["error"] = format!("litellm.AuthenticationError: {SCRIPT} bad key {KEY}").into();
    });
    std::fs::write(c.pair_dir(RUN, PAIR).join("solo.patch"), format!("+{SCRIPT}\n+<img src=x onerror=alert(2)>\n"))
        .unwrap();
    std::fs::write(
        c.pair_dir(RUN, PAIR).join("solo_traj.json"),
        format!(r#"{{"messages": [{{"role": "assistant", "content": "I read {SCRIPT} in the docs; key {KEY}"}}]}}"#),
    )
    .unwrap();
    c
}

fn report(c: &Checkout) -> PathBuf {
    let out = c.tmp.path().join("results");
    let o = c
        .xtask(&["report", "--runs", RUN, "--bootstrap", "50", "--out", out.to_str().unwrap()])
        .env("COHERE_API_KEY", KEY)
        .ran();
    o.expect_code(0);
    out.join("index.html")
}

/// Every text that reaches the page is escaped (no element of the page
/// comes from the data) and scrubbed of the key, whatever file it came
/// from: result.json's error, the patch, the trajectory.
#[test]
fn every_text_on_the_page_is_escaped_and_scrubbed() {
    let c = planted();
    let html = std::fs::read_to_string(report(&c)).unwrap();
    assert!(!html.contains(KEY), "the key is on the page");
    assert!(html.contains("AuthenticationError"), "the error is not told");
    let lower = html.to_lowercase();
    // The page has no script of its own: any `<script` is the data's.
    assert!(!lower.contains("<script"), "a script element on the page");
    assert!(!lower.contains("<img"), "an img element on the page");
    let shown = "&lt;script&gt;alert(1)&lt;/script&gt;";
    // In the error (twice: the class's evidence and the agent's line), the
    // patch's first lines, and the last message.
    assert!(html.matches(shown).count() >= 3, "{}", html.matches(shown).count());
}

/// One row per pair of the subset, a cell and a story per run, a link to
/// each pair's folder that leads to it from the page's folder, and the
/// story in the words of `triage`.
#[test]
fn one_row_per_pair_a_story_per_run_and_links_that_lead_to_the_files() {
    let c = planted();
    let page = report(&c);
    let html = std::fs::read_to_string(&page).unwrap();
    assert_eq!(html.matches("<details class=\"pair\"").count(), 100);
    assert_eq!(html.matches("<span class=\"cell\"").count(), 100);
    let anchor = story_anchor(PAIR);
    let at = html.find(&format!("id=\"{anchor}\"")).unwrap_or_else(|| panic!("no {anchor}"));
    let story = &html[at..at + html[at..].find("</div>").unwrap()];
    let triage = c.xtask(&["triage", RUN, PAIR]).env("COHERE_API_KEY", KEY).ran();
    triage.expect_code(0);
    // The same words, escaped.
    for line in triage.stdout_text().lines().filter(|l| !l.trim().is_empty()) {
        let escaped = line.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
        let escaped = escaped.replace('\'', "&#39;");
        assert!(story.contains(&escaped), "triage's line {line:?} is not in the page's story:\n{story}");
    }
    let href = story.split("href=\"").nth(1).and_then(|s| s.split('"').next()).expect("a link to the files");
    let target = page.parent().unwrap().join(href);
    assert!(target.join("result.json").is_file(), "{href} does not lead to the pair's folder");
}

// ---- In Chromium -------------------------------------------------------

struct Browser {
    chromium: PathBuf,
    profile: tempfile::TempDir,
}

/// Chromium and pdftotext, installed from Debian's packages when missing
/// and this process may (root, apt-get); else a failure that says what to
/// install.
fn browser() -> Browser {
    static INSTALL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    let have = |p: &str| duct::cmd!("sh", "-c", format!("command -v {p}")).stdout_capture().unchecked().run().ok();
    let found =
        |p: &str| have(p).filter(|o| o.status.success()).map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    if found("chromium").is_none() || found("pdftotext").is_none() {
        let root = unsafe { libc::geteuid() } == 0;
        if root && found("apt-get").is_some() {
            let script = "apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium poppler-utils >/dev/null";
            let o = duct::cmd!("sh", "-c", script).stdout_capture().stderr_capture().unchecked().run().unwrap();
            assert!(o.status.success(), "installing chromium failed: {}", String::from_utf8_lossy(&o.stderr));
        }
    }
    let chromium = found("chromium").unwrap_or_else(|| {
        panic!("this test needs Chromium and pdftotext (Debian: apt-get install chromium poppler-utils); or run without --include-ignored")
    });
    assert!(found("pdftotext").is_some(), "this test needs pdftotext (Debian: apt-get install poppler-utils)");
    // A profile of its own: the user's Chromium settings are not ours.
    Browser { chromium: chromium.into(), profile: tempfile::tempdir().unwrap() }
}

impl Browser {
    fn run(&self, args: &[String]) {
        let mut all = vec![
            "120".to_string(),
            self.chromium.display().to_string(),
            "--headless".into(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--no-first-run".into(),
            "--hide-scrollbars".into(),
            format!("--user-data-dir={}", self.profile.path().display()),
        ];
        all.extend_from_slice(args);
        // `timeout`: a browser that hangs fails the test instead.
        let o = duct::cmd("timeout", all).stdout_capture().stderr_capture().unchecked().run().unwrap();
        assert!(o.status.success(), "chromium failed: {}", String::from_utf8_lossy(&o.stderr));
    }

    /// The text the page shows, as Chromium prints it.
    fn shown(&self, url: &str, dir: &Path, name: &str) -> String {
        let pdf = dir.join(format!("{name}.pdf"));
        self.run(&["--no-pdf-header-footer".into(), format!("--print-to-pdf={}", pdf.display()), url.into()]);
        let o = duct::cmd!("pdftotext", "-layout", &pdf, "-").stdout_capture().unchecked().run().unwrap();
        assert!(o.status.success(), "pdftotext failed on {}", pdf.display());
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    /// The page's DOM after Chromium loaded it (a fragment opens its row).
    fn dom(&self, url: &str) -> String {
        let mut all = vec![
            self.chromium.display().to_string(),
            "--headless".into(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            format!("--user-data-dir={}", self.profile.path().display()),
            "--dump-dom".into(),
            url.into(),
        ];
        all.insert(0, "120".into());
        let o = duct::cmd("timeout", all).stdout_capture().stderr_capture().unchecked().run().unwrap();
        assert!(o.status.success(), "chromium --dump-dom failed: {}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    /// A screenshot kept under target/page-shots for a person to look at.
    fn screenshot(&self, url: &str, name: &str, height: u32) -> PathBuf {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("page-shots");
        std::fs::create_dir_all(&dir).unwrap();
        let png = dir.join(format!("{name}.png"));
        self.run(&[format!("--screenshot={}", png.display()), format!("--window-size=1280,{height}"), url.into()]);
        assert!(std::fs::metadata(&png).is_ok_and(|m| m.len() > 10_000), "no screenshot at {}", png.display());
        png
    }
}

fn url(page: &Path, fragment: &str) -> String {
    format!("file://{}{fragment}", page.display())
}

/// A pair row as pdftotext lays it out: the pair, then its difficulty.
fn pair_rows(text: &str) -> Vec<&str> {
    let re = regex::Regex::new(r"^\s*[a-z_]+_task/\d+/f\d+_f\d+\s+(\d+/\d+|undefined)\b").unwrap();
    text.lines().filter(|l| re.is_match(l)).collect()
}

/// `cargo xtask demo`'s page, opened from disk: the verdict first (the
/// words REPORT.md opens its verdict with), Figure 4, 100 pair rows, no
/// story until a row is opened; a pair's story, opened by its link, shows
/// that pair's story in every run and no other pair's.
#[test]
#[ignore = "needs Chromium: run with --include-ignored, as .ci/run does"]
fn the_demo_page_in_chromium_shows_the_verdict_the_figure_every_pair_and_a_story() {
    let b = browser();
    let tmp = tempfile::Builder::new().prefix("page-").tempdir_in(scratch()).unwrap();
    let o = duct::cmd(XTASK, ["demo", "--dir", tmp.path().to_str().unwrap()])
        .env("XTASK_DOCKER", fake_docker())
        .stdout_capture()
        .stderr_capture()
        .unchecked()
        .ran();
    o.expect_code(0);
    let page = tmp.path().join("results/index.html");
    let md = std::fs::read_to_string(tmp.path().join("results/REPORT.md")).unwrap();
    let verdict = md.split("## What the data can show\n\n").nth(1).unwrap().lines().next().unwrap();
    let first_words: String = verdict.split_whitespace().take(6).collect::<Vec<_>>().join(" ");

    let shown = b.shown(&url(&page, ""), tmp.path(), "closed");
    let flat = shown.split_whitespace().collect::<Vec<_>>().join(" ");
    let at = |s: &str| flat.find(s).unwrap_or_else(|| panic!("{s:?} is not shown:\n{shown}"));
    assert!(at("demo: difficulty and Figure 4") < at("What the data can show"));
    assert!(at("What the data can show") < at(&first_words), "the verdict's words");
    assert!(at(&first_words) < at("Paired comparison"));
    // Figure 4 is drawn on the page (its title and axis are SVG text).
    assert!(at("Paired comparison") < at("Figure 4: demo (lite, held-out difficulty)"));
    assert!(flat.contains("success rate (both features pass)"), "the figure's axis");
    let rows = pair_rows(&shown);
    assert_eq!(rows.len(), 100, "pair rows shown:\n{}", rows.join("\n"));
    assert!(!flat.contains("a trial: yes"), "a story is shown before any row is opened");

    // Open one pair by its link, as a reviewer's shared URL would.
    let pair = rows[4].split_whitespace().next().unwrap().to_string();
    let fragment = format!("#{}", story_anchor(&pair));
    let shown = b.shown(&url(&page, &fragment), tmp.path(), "open");
    let flat = shown.split_whitespace().collect::<Vec<_>>().join(" ");
    for run in ["command-a-solo", "command-a-solo-seed1", "command-a-solo-seed2", "command-a-coop-comm"] {
        assert!(flat.contains(&format!("{run} {pair} (")), "{run}'s story of {pair} is not shown:\n{shown}");
    }
    assert!(flat.contains("last messages") && flat.contains("patch, its first lines"), "{shown}");
    assert!(flat.contains("conversation: "), "the coop story's conversation:\n{shown}");
    let other = rows[5].split_whitespace().next().unwrap();
    assert!(!flat.contains(&format!("command-a-solo {other} (solo)")), "another pair's story is shown too");
    let dom = b.dom(&url(&page, &fragment));
    assert!(dom.contains(&format!("id=\"{}\" open", &story_anchor(&pair)["story-".len()..])), "the row is not open");

    // For a person to look at (the issue's note quotes them).
    b.screenshot(&url(&page, ""), "demo-top", 1600);
    b.screenshot(&url(&page, &fragment), "demo-story", 9000);
}

/// A `<script>` in an error and in a patch is shown, as text, in the
/// opened story; the browser made no element of it.
#[test]
#[ignore = "needs Chromium: run with --include-ignored, as .ci/run does"]
fn a_planted_script_is_shown_as_text_in_chromium() {
    let b = browser();
    let c = planted();
    let page = report(&c);
    let fragment = format!("#{}", story_anchor(PAIR));
    let dom = b.dom(&url(&page, &fragment));
    assert!(!dom.to_lowercase().contains("<script"), "Chromium made a script element");
    assert!(!dom.to_lowercase().contains("<img"), "Chromium made an img element");
    let shown = b.shown(&url(&page, &fragment), c.tmp.path(), "planted");
    let flat = shown.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.matches(SCRIPT).count() >= 3, "the script is not shown as text:\n{shown}");
    assert!(flat.contains("<img src=x onerror=alert(2)>"), "{shown}");
    assert!(!flat.contains(KEY), "the key is shown");
}

/// N18: `report` run later, where the study's key is set nowhere (a
/// reviewer's machine), still writes no key a log echoes: it scrubs
/// key-shaped text by format, and says so.
#[test]
fn a_report_made_without_the_key_still_shows_none() {
    let c = planted();
    let out = c.tmp.path().join("later");
    let o = c.xtask(&["report", "--runs", RUN, "--bootstrap", "50", "--out", out.to_str().unwrap()]).ran();
    o.expect_code(0);
    assert!(text(&o.output).contains("COHERE_API_KEY not set here"), "{}", o.story());
    for f in ["index.html", "REPORT.md", "outcomes.csv"] {
        let body = std::fs::read_to_string(out.join(f)).unwrap();
        assert!(!body.contains(KEY), "{f} holds the key");
    }
    assert!(std::fs::read_to_string(out.join("index.html")).unwrap().contains("AuthenticationError"));
}
