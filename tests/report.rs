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
    for id in ["chart-run-jobs", "chart-run-history", "chart-quarantine", "chart-sales", "chart-rules", "chart-segments", "chart-forecast", "chart-reviews"] {
        let at = dom.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("{id} missing"));
        let tag_end = at + dom[at..].find('>').unwrap();
        assert!(dom[at..tag_end].contains("data-drawn=\"true\""), "{id} was not drawn");
    }
    for section in ["section-run", "section-quarantine", "section-sales", "section-rules", "section-segments", "section-forecast", "section-reviews"] {
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

/// `ecomwh demo` as a newcomer runs it (no config of their own: the built-in example with two
/// audiences and a file destination): every table it builds has rows, the exports wrote files,
/// and the morning report draws every section, audiences and models included.
#[test]
fn the_demo_builds_every_table_exports_files_and_reports_every_section() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = std::process::Command::new(bin());
    c.arg("demo").current_dir(dir.path()).env("ECOMWH_LOG", "warn").env_remove("ECOMWH_ENGINE");
    let out = c.output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "demo failed:\n{stdout}\n{stderr}");
    let url = format!("file://{}", dir.path().join("warehouse").display());
    assert!(stdout.contains("built-in example"), "{stdout}");

    // Every table the demo built has rows.
    let tables = ok(
        &url,
        &["sql", "SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema IN ('staging', 'quarantine', 'marts')", "--format", "csv"],
    );
    let names: Vec<String> = tables.lines().skip(1).map(|l| l.replace(',', ".")).collect();
    assert!(names.len() >= 35, "{names:?}");
    let empty: Vec<&String> = names.iter().filter(|t| count(&url, &format!("SELECT count(*) FROM {t}")) == 0).collect();
    assert!(empty.is_empty(), "empty tables after the demo: {empty:?}");
    // The only failures are the demo shop's mistyped addresses, caught before sending; they
    // leave the syncs partial, not failed.
    assert_eq!(count(&url, "SELECT count(*) FROM export_failures WHERE code <> 'invalid_email' OR NOT permanent"), 0);
    assert_eq!(count(&url, "SELECT count(*) FROM export_runs WHERE status NOT IN ('ok', 'partial') OR failed <> failed_permanent"), 0);
    assert!(count(&url, "SELECT count(*) FROM export_runs WHERE status = 'partial'") > 0);
    for t in ["marts.churn_model", "marts.audience_members", "marts.audience_uplift", "marts.export_runs", "marts.export_failures", "marts.clv"] {
        assert!(names.iter().any(|n| n == t), "{t} missing from {names:?}");
    }
    // The holdout audience has a holdout, and its uplift is measured.
    assert!(count(&url, "SELECT count(*) FROM audience_members WHERE audience = 'win_back' AND holdout") > 0);
    assert!(count(&url, "SELECT count(*) FROM audience_uplift WHERE audience = 'win_back' AND holdout_members > 0 AND conversion_diff IS NOT NULL") > 0);

    // Reviews reach audiences: customers whose latest review is negative.
    assert!(count(&url, "SELECT count(*) FROM audience_members WHERE audience = 'unhappy_reviewers'") > 0);
    for t in ["marts.review_sentiment", "marts.product_reviews", "marts.review_phrases", "marts.review_model"] {
        assert!(names.iter().any(|n| n == t), "{t} missing from {names:?}");
    }

    // Exported files, pointed at in the summary.
    let last = (chrono::Utc::now().date_naive() - chrono::Duration::days(1)).format("%Y-%m-%d").to_string();
    let csv = dir.path().join(format!("warehouse/exports/files/win_back/dt={last}"));
    let files: Vec<_> = std::fs::read_dir(&csv).unwrap_or_else(|e| panic!("{}: {e}", csv.display())).collect();
    assert!(!files.is_empty());
    assert!(stdout.contains(&format!("exports/files/win_back/dt={last}/")), "{stdout}");
    assert!(stdout.contains("morning report: open file://"), "{stdout}");
    // A warning that repeats every night (16 nights) is said once, then counted at the end.
    let warnings = stderr.lines().filter(|l| l.contains("WARN")).count();
    assert!(warnings < 8, "{warnings} warnings:\n{stderr}");

    let page = dir.path().join(format!("warehouse/reports/dt={last}/index.html"));
    let (dom, log) = load(&page, None);
    let console: Vec<&str> = log.lines().filter(|l| l.contains(":CONSOLE")).collect();
    assert!(console.is_empty(), "console messages: {console:?}");
    for id in ["run-jobs", "run-history", "quarantine", "sales", "rules", "segments", "forecast", "reviews", "audiences", "models"] {
        let id = format!("chart-{id}");
        let at = dom.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("{id} missing"));
        let tag_end = at + dom[at..].find('>').unwrap();
        assert!(dom[at..tag_end].contains("data-drawn=\"true\""), "{id} was not drawn");
    }
}
