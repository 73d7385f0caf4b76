//! The morning report of a generated shop, opened in headless Chromium: it loads without
//! console errors and every section draws its chart. A screenshot is kept for people.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::*;

fn chromium() -> PathBuf {
    if let Ok(p) = std::env::var("ECOMWH_CHROMIUM") {
        return PathBuf::from(p);
    }
    for p in ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"] {
        if std::path::Path::new(p).exists() {
            return PathBuf::from(p);
        }
    }
    panic!("no Chromium: scripts/test.sh installs Debian's chromium package");
}

/// Load a page headless; return (DOM after scripts ran, browser log).
fn load(page: &std::path::Path, screenshot: Option<&std::path::Path>) -> (String, String) {
    let profile = tempfile::tempdir().unwrap();
    let mut c = Command::new(chromium());
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--enable-logging=stderr",
        "--v=0",
        "--virtual-time-budget=5000",
        "--window-size=1280,2600",
    ])
    .arg(format!("--user-data-dir={}", profile.path().display()));
    match screenshot {
        Some(p) => c.arg(format!("--screenshot={}", p.display())),
        None => c.arg("--dump-dom"),
    };
    let out = c.arg(format!("file://{}", page.display())).output().expect("chromium runs");
    assert!(out.status.success(), "chromium failed: {}", String::from_utf8_lossy(&out.stderr));
    (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn the_report_renders_every_section_in_a_browser() {
    let wh = local_wh();
    ok(&wh.url, &["generate", "--customers", "1500", "--days", "12", "--start", "2025-03-01", "--dirty-rate", "0.01"]);
    let cfg = wh.path("ecomwh.toml");
    std::fs::write(&cfg, "[jobs.association_rules]\nmin_support = 0.003\nmin_confidence = 0.05\n").unwrap();
    let cfg = cfg.display().to_string();
    ok(&wh.url, &["--config", &cfg, "backfill", "--from", "2025-03-01", "--to", "2025-03-12"]);
    // The nightly run wrote it into the warehouse.
    let nightly = wh.path("reports/dt=2025-03-12/index.html");
    assert!(nightly.exists());

    let page = wh.path("report.html");
    let out = ok(&wh.url, &["--config", &cfg, "report", "--date", "2025-03-12", "--out", page.to_str().unwrap()]);
    assert!(out.contains("report written"), "{out}");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(!html.contains("http://") && !html.contains("https://cdn"), "the page must not fetch anything");

    let (dom, log) = load(&page, None);
    let console: Vec<&str> = log.lines().filter(|l| l.contains(":CONSOLE")).collect();
    assert!(console.is_empty(), "console messages: {console:?}");
    assert!(dom.contains("data-ready=\"true\""), "the report script did not finish");
    for id in ["chart-run-jobs", "chart-run-history", "chart-quarantine", "chart-sales", "chart-rules", "chart-segments", "chart-forecast"] {
        let at = dom.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("{id} missing"));
        let tag_end = at + dom[at..].find('>').unwrap();
        assert!(dom[at..tag_end].contains("data-drawn=\"true\""), "{id} was not drawn");
    }
    for section in ["section-run", "section-quarantine", "section-sales", "section-rules", "section-segments", "section-forecast"] {
        assert!(dom.contains(&format!("id=\"{section}\"")), "{section} missing");
    }
    // Numbers for people: thousands separators and money.
    assert!(dom.contains('€'));

    let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("report-screenshot.png");
    let _ = load(&page, Some(&shot));
    assert!(std::fs::metadata(&shot).unwrap().len() > 20_000, "screenshot too small");
    eprintln!("screenshot: {}", shot.display());
}

#[test]
fn the_nightly_report_can_be_switched_off() {
    let wh = local_wh();
    ok(&wh.url, &["generate", "--customers", "200", "--days", "1", "--start", "2025-03-01"]);
    let cfg = wh.path("ecomwh.toml");
    std::fs::write(&cfg, "[jobs.report]\nenabled = false\n").unwrap();
    ok(&wh.url, &["--config", cfg.to_str().unwrap(), "run", "--date", "2025-03-01"]);
    assert!(!wh.path("reports/dt=2025-03-01/index.html").exists());
    ok(&wh.url, &["run", "--date", "2025-03-01"]);
    assert!(wh.path("reports/dt=2025-03-01/index.html").exists());
}
