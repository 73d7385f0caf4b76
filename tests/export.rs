//! End-to-end: audiences and their export to marketing tools, against local emulators of each
//! vendor's API (tests/emulators/) that enforce its contract: batch caps, auth headers, 429 with
//! Retry-After, intermittent 500s, per-row errors and asynchronous import jobs.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use common::*;

const LAST: &str = "2026-11-20";
const KEY: &str = "sk-test-5f1e9c2ab7d34e61";

/// A generated shop loaded at once, with the jobs audiences read run for LAST.
fn shop() -> LocalWh {
    shop_with(|_| {})
}

fn shop_with(extra_raw: impl Fn(&LocalWh)) -> LocalWh {
    let wh = local_wh();
    ok(&wh.url, &["generate", "--customers", "1500", "--days", "120", "--start", "2026-07-24", "--first-load"]);
    extra_raw(&wh);
    ok(&wh.url, &["run", "--date", LAST, "--jobs", "staging,daily_aggregates,user_profiles,rfm_segments"]);
    wh
}

/// Customers the generator does not make: a bad email, an email used twice, no consent.
const ODD_CUSTOMERS: &str = "customer_id,email,first_name,last_name,country,signup_ts,birth_year,gender,marketing_consent,updated_at
Z9000001,odd.one@example.com,Odd,One,DE,2026-01-01T00:00:00Z,1990,,true,2026-11-20T00:00:00Z
Z9000002,not-an-email,Bad,Email,DE,2026-01-01T00:00:00Z,1990,,true,2026-11-20T00:00:00Z
Z9000003,  ODD.One@Example.com ,Same,Email,DE,2026-01-01T00:00:00Z,1990,,true,2026-11-20T00:00:00Z
Z9000004,no.consent@example.com,No,Consent,DE,2026-01-01T00:00:00Z,1990,,false,2026-11-20T00:00:00Z
";

fn write_config(wh: &LocalWh, text: &str) -> String {
    let p = wh.path("ecomwh.toml");
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

fn audience(predicate: &str, destinations: &str, holdout: u32) -> String {
    format!(
        "[[audiences]]\nname = \"win_back\"\nfrom = \"rfm_segments\"\nwhere = \"{predicate}\"\n\
         fields = [\"first_name\", \"segment\", \"monetary\"]\nholdout_pct = {holdout}\ndestinations = [{destinations}]\n\n"
    )
}

/// Run ecomwh with a config and the API key in the environment; (exit code, stdout, stderr).
fn with_key(wh: &LocalWh, cfg: &str, args: &[&str], extra_env: &[(&str, &str)]) -> (i32, String, String) {
    let mut full = vec!["--config", cfg];
    full.extend_from_slice(args);
    let mut c = cmd(&wh.url, &full);
    c.env("TEST_API_KEY", KEY).env("ECOMWH_LOG", "debug");
    for (k, v) in extra_env {
        c.env(k, v);
    }
    let out = c.output().expect("ecomwh runs");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

/// Members that may be exported (not holdout), by email.
fn exportable(wh: &LocalWh) -> BTreeMap<String, String> {
    sql(&wh.url, &format!("SELECT email, customer_id FROM marts.audience_members WHERE dt = '{LAST}' AND NOT holdout"))
        .into_iter()
        .map(|r| (r["email"].clone(), r["customer_id"].clone()))
        .collect()
}

fn emails_where(state: &serde_json::Value, keep: impl Fn(&serde_json::Value) -> bool) -> BTreeSet<String> {
    state["members"].as_object().unwrap().iter().filter(|(_, m)| keep(m)).map(|(e, _)| e.clone()).collect()
}

/// Every file under a folder, as bytes.
fn all_bytes(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = vec![];
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(all_bytes(&p));
        } else {
            out.push((p.display().to_string(), std::fs::read(&p).unwrap()));
        }
    }
    out
}

#[test]
fn members_have_consent_valid_unsuppressed_emails_and_a_stable_holdout() {
    let wh = shop_with(|wh| {
        let dir = wh.path(&format!("raw/customers/dt={LAST}"));
        std::fs::write(dir.join("odd.csv"), ODD_CUSTOMERS).unwrap();
        // Suppress a few customers who consented (one email in capitals, as feeds send them).
        let raw = std::fs::read_to_string(dir.join("part-00000.csv")).unwrap();
        let mut supp = String::from("email,reason,ts\n");
        for (i, line) in raw.lines().skip(1).filter(|l| l.contains(",true,")).take(5).enumerate() {
            let email = line.split(',').nth(1).unwrap().trim();
            let email = if i == 0 { email.to_uppercase() } else { email.to_string() };
            supp.push_str(&format!("{email},unsubscribed,2026-11-19T10:00:00Z\n"));
        }
        let sdir = wh.path(&format!("raw/suppressions/dt={LAST}"));
        std::fs::create_dir_all(&sdir).unwrap();
        std::fs::write(sdir.join("extra.csv"), supp).unwrap();
    });
    let cfg = write_config(&wh, &audience("true", "", 20).replace("rfm_segments", "user_profiles"));
    ok(&wh.url, &["--config", &cfg, "run", "--date", LAST, "--jobs", "audiences"]);
    let members = sql(&wh.url, &format!("SELECT customer_id, email, holdout, attributes FROM marts.audience_members WHERE dt = '{LAST}'"));
    assert!(members.len() > 300, "{} members", members.len());
    let latest = "(SELECT customer_id, email, marketing_consent FROM (SELECT *, row_number() OVER (PARTITION BY customer_id \
                  ORDER BY updated_at DESC, dt DESC) AS rn FROM staging.customers) WHERE rn = 1)";
    // Consent: no member without it.
    let q = format!("SELECT count(*) FROM marts.audience_members m JOIN {latest} c USING (customer_id) WHERE m.dt = '{LAST}' AND NOT c.marketing_consent");
    assert_eq!(count(&wh.url, &q), 0);
    // The odd customers: one member for the shared email (the smaller id), none for the others.
    let odd = sql(&wh.url, &format!("SELECT customer_id, email FROM marts.audience_members WHERE dt = '{LAST}' AND customer_id LIKE 'Z%'"));
    assert_eq!(odd.len(), 1, "{odd:?}");
    assert_eq!((odd[0]["customer_id"].as_str(), odd[0]["email"].as_str()), ("Z9000001", "odd.one@example.com"));
    // Every customer with consent, a valid email and no suppression is a member.
    let q = format!(
        "SELECT count(DISTINCT c.email) FROM marts.user_profiles r JOIN {latest} c USING (customer_id) WHERE r.dt = '{LAST}' \
         AND c.marketing_consent AND c.email LIKE '%_@_%._%' AND c.email NOT LIKE '% %' \
         AND c.email NOT IN (SELECT email FROM staging.suppressions)"
    );
    assert_eq!(count(&wh.url, &q) as usize, members.len());
    let suppressed = count(&wh.url, "SELECT count(*) FROM staging.suppressions");
    assert!(suppressed >= 5, "the shop has suppressions");
    let q = format!("SELECT count(*) FROM marts.audience_members WHERE dt = '{LAST}' AND email IN (SELECT email FROM staging.suppressions)");
    assert_eq!(count(&wh.url, &q), 0);
    // One row per email, emails lower-cased and trimmed; contact fields only here.
    let emails: BTreeSet<&str> = members.iter().map(|m| m["email"].as_str()).collect();
    assert_eq!(emails.len(), members.len());
    assert!(members.iter().all(|m| m["email"] == m["email"].trim().to_lowercase()));
    let attrs: serde_json::Value = serde_json::from_str(&members[0]["attributes"]).unwrap();
    assert!(attrs["first_name"].is_string() && attrs.get("segment").is_some() && attrs.get("monetary").is_some(), "{attrs}");
    // Holdout: about 20%, and the same customers on a rerun.
    let held: BTreeSet<String> = members.iter().filter(|m| m["holdout"] == "true").map(|m| m["customer_id"].clone()).collect();
    let share = held.len() as f64 / members.len() as f64;
    assert!((0.15..0.25).contains(&share), "holdout share {share}");
    ok(&wh.url, &["--config", &cfg, "run", "--date", LAST, "--jobs", "audiences"]);
    let again: BTreeSet<String> = sql(&wh.url, &format!("SELECT customer_id FROM marts.audience_members WHERE dt = '{LAST}' AND holdout"))
        .into_iter()
        .map(|r| r["customer_id"].clone())
        .collect();
    assert_eq!(held, again);
    // A predicate that does not parse is a config error naming the audience.
    let bad = write_config(&wh, &audience("segmnt = 'Lost'", "", 0));
    let out = run(&wh.url, &["--config", &bad, "run", "--date", LAST, "--jobs", "audiences"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("win_back") && err.contains("segmnt"), "{err}");
}

// The emulators fail every 3rd to 7th write on purpose; 12 attempts per request keep the odds of
// one request running out of attempts (a transient failure a rerun fixes) negligible here.
fn mailchimp_config(em: &Emulator, predicate: &str, extra: &str) -> String {
    format!(
        "{}[destinations.newsletter]\nkind = \"mailchimp\"\nbase_url = \"{}\"\napi_key_env = \"TEST_API_KEY\"\nlist_id = \"abc123\"\n\
         mode = \"mirror\"\nbatch_size = 40\nretry_base_ms = 20\nmax_attempts = 12\n{extra}\n",
        audience(predicate, "\"newsletter\"", 10),
        em.url("/3.0")
    )
}

#[test]
fn mailchimp_sync_survives_faults_diffs_mirrors_and_keeps_the_key_secret() {
    let wh = shop();
    // Every 4th write throttled (Retry-After: 1), every 7th a 500, some addresses refused.
    let em = Emulator::start(
        "mailchimp",
        &["--api-key", KEY, "--rate-limit-every", "4", "--fail-every", "7", "--reject-substring", ".0000001", "--latency-ms", "30"],
    );
    let cfg = write_config(&wh, &mailchimp_config(&em, "true", ""));
    ok(&wh.url, &["--config", &cfg, "run", "--date", LAST, "--jobs", "audiences"]);
    let want = exportable(&wh);
    let rejected: BTreeSet<String> = want.keys().filter(|e| e.contains(".0000001")).cloned().collect();
    assert!(!rejected.is_empty() && want.len() > 300);

    // A dry run sends nothing.
    let (code, out, _) = with_key(&wh, &cfg, &["export", "--date", LAST, "--dry-run"], &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("plan:") && out.contains("POST ") && out.contains("[redacted]"), "{out}");
    assert_eq!(em.state()["stats"]["requests"], 0);

    // First sync: some contacts are refused for good, all others are in Mailchimp. A retry
    // cannot help the refused ones, so the run does not fail.
    let (code, out, err) = with_key(&wh, &cfg, &["export", "--date", LAST], &[]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("[partial]"), "{out}");
    let st = em.state();
    let subscribed = emails_where(&st, |m| m["status"] == "subscribed");
    let expected: BTreeSet<String> = want.keys().filter(|e| !rejected.contains(*e)).cloned().collect();
    assert_eq!(subscribed, expected);
    assert!(st["stats"]["rate_limited"].as_u64().unwrap() > 0 && st["stats"]["server_errors"].as_u64().unwrap() > 0);
    assert_eq!(st["stats"]["rejected_oversize"], 0);
    assert!(st["stats"]["max_concurrent"].as_u64().unwrap() <= 10);
    // Holdout members never reach Mailchimp.
    let held = sql(&wh.url, &format!("SELECT email FROM marts.audience_members WHERE dt = '{LAST}' AND holdout"));
    assert!(!held.is_empty() && held.iter().all(|h| !st["members"].as_object().unwrap().contains_key(&h["email"])));
    // Tags and merge fields per member.
    let some = &st["members"][expected.iter().next().unwrap()];
    assert_eq!(some["tags"], serde_json::json!(["win_back"]));
    assert!(some["fields"]["FNAME"].is_string() || some["merge_fields"]["FNAME"].is_string(), "{some}");
    // The refused contacts are in export_failures, by customer id and without their email.
    let fails = sql(&wh.url, "SELECT customer_id, code, message, permanent FROM marts.export_failures");
    let failed_ids: BTreeSet<String> = fails.iter().map(|f| f["customer_id"].clone()).collect();
    let rejected_ids: BTreeSet<String> = rejected.iter().map(|e| want[e].clone()).collect();
    assert_eq!(failed_ids, rejected_ids);
    assert!(fails.iter().all(|f| f["permanent"] == "true" && f["message"].contains("<email>") && !f["message"].contains('@')), "{fails:?}");
    let run1 = &sql(&wh.url, "SELECT * FROM marts.export_runs")[0];
    assert_eq!(run1["status"], "partial");
    assert!(run1["retries"].parse::<u64>().unwrap() > 0);

    // The API key is in no log line, no output and no table or state file.
    // A wrong key fails the run: the user can fix it, and the retry then succeeds.
    let (code, out2, err2) = with_key(&wh, &cfg, &["export", "--date", LAST], &[("TEST_API_KEY", "sk-wrong-key-0042")]);
    assert_eq!(code, 1);
    assert!(out2.contains("[failed]"), "{out2}");
    let unauthorised = count(&wh.url, "SELECT count(*) FROM marts.export_failures WHERE code = 'http_401' AND NOT permanent = false");
    assert_eq!(unauthorised as usize, rejected.len(), "{out2}");
    for text in [&out, &err, &out2, &err2] {
        assert!(!text.contains(KEY) && !text.contains("sk-wrong-key-0042"));
    }
    let dump = ok(&wh.url, &["sql", "SELECT * FROM marts.export_runs", "--format", "json"])
        + &ok(&wh.url, &["sql", "SELECT * FROM marts.export_failures", "--format", "json"]);
    assert!(!dump.contains(KEY) && !dump.contains("sk-wrong-key"));
    for (file, bytes) in all_bytes(wh.dir.path()) {
        let hay = String::from_utf8_lossy(&bytes);
        assert!(!hay.contains(KEY) && !hay.contains("sk-wrong-key"), "key found in {file}");
    }

    // Second sync, nothing changed: only the refused contacts are tried again.
    let before = em.state()["log"].as_array().unwrap().len();
    let (_, out, _) = with_key(&wh, &cfg, &["export", "--date", LAST], &[]);
    assert!(out.contains(&format!("{} adds, 0 updates, 0 removes", rejected.len())), "{out}");
    let log = em.state()["log"].as_array().unwrap().clone();
    let resent: BTreeSet<String> = log[before..].iter().flat_map(|l| l["emails"].as_array().unwrap().iter().map(|e| e.as_str().unwrap().to_string())).collect();
    assert_eq!(resent, rejected);

    // The audience shrinks a lot: mirror refuses to remove over 20% unless forced.
    let small = write_config(&wh, &mailchimp_config(&em, "segment = 'Champions'", ""));
    ok(&wh.url, &["--config", &small, "run", "--date", LAST, "--jobs", "audiences"]);
    let keep = exportable(&wh);
    let (code, out, _) = with_key(&wh, &small, &["export", "--date", LAST], &[]);
    assert_eq!(code, 1);
    assert!(out.contains("refused") && out.contains("max_remove_pct"), "{out}");
    assert_eq!(emails_where(&em.state(), |m| m["status"] == "archived").len(), 0);
    let (_, out, err) = with_key(&wh, &small, &["export", "--date", LAST, "--force"], &[]);
    let st = em.state();
    let now: BTreeSet<String> = emails_where(&st, |m| m["status"] == "subscribed");
    let keep_ok: BTreeSet<String> = keep.keys().filter(|e| !rejected.contains(*e)).cloned().collect();
    assert_eq!(now, keep_ok, "{out}\n{err}");
    assert_eq!(emails_where(&st, |m| m["status"] == "archived").len(), expected.len() - keep_ok.len());
}

#[test]
fn a_killed_export_resumes_without_resending_confirmed_batches() {
    let wh = shop();
    let em = Emulator::start("mailchimp", &["--api-key", KEY, "--latency-ms", "40"]);
    let cfg = write_config(&wh, &mailchimp_config(&em, "true", "concurrency = 3"));
    ok(&wh.url, &["--config", &cfg, "run", "--date", LAST, "--jobs", "audiences"]);
    let want = exportable(&wh);

    // Pause right after the 4th confirmed batch is journaled, then kill -9.
    let mut c = cmd(&wh.url, &["--config", &cfg, "export", "--date", LAST]);
    c.env("TEST_API_KEY", KEY).env("ECOMWH_PAUSE_AT", "export:batch_confirmed:4").stderr(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stderr));
    assert!(lines.any(|l| l.map(|l| l.contains("paused at export:batch_confirmed:4")).unwrap_or(false)));
    std::thread::sleep(std::time::Duration::from_millis(500));
    child.kill().unwrap();
    child.wait().unwrap();

    let journal_dir = wh.path("_state/exports/newsletter/win_back/journal");
    let mut confirmed = BTreeSet::new();
    for (_, bytes) in all_bytes(&journal_dir) {
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        confirmed.extend(v["ops"].as_array().unwrap().iter().map(|o| o["email"].as_str().unwrap().to_string()));
    }
    assert!(confirmed.len() >= 4 * 40 && confirmed.len() < want.len(), "{} confirmed of {}", confirmed.len(), want.len());
    let sent_before = em.state()["log"].as_array().unwrap().len();
    assert!(sent_before < want.len().div_ceil(40) + 3);

    let (code, out, err) = with_key(&wh, &cfg, &["export", "--date", LAST], &[]);
    assert_eq!(code, 0, "{out}\n{err}");
    let st = em.state();
    assert_eq!(emails_where(&st, |m| m["status"] == "subscribed"), want.keys().cloned().collect());
    // No contact of a confirmed batch was sent again.
    let mut times: BTreeMap<String, usize> = BTreeMap::new();
    for l in st["log"].as_array().unwrap().iter().filter(|l| l["status"] == 200) {
        for e in l["emails"].as_array().unwrap() {
            *times.entry(e.as_str().unwrap().to_string()).or_default() += 1;
        }
    }
    for e in &confirmed {
        assert_eq!(times[e], 1, "{e} sent {} times", times[e]);
    }
    let runs = sql(&wh.url, "SELECT resumed, adds, status FROM marts.export_runs");
    assert_eq!(runs.len(), 1, "the killed run left no row");
    assert_eq!(runs[0]["resumed"].parse::<usize>().unwrap(), confirmed.len());
    assert_eq!(runs[0]["adds"].parse::<usize>().unwrap(), want.len() - confirmed.len());
}

fn list_config(kind: &str, base_url: &str, extra: &str) -> String {
    format!(
        "[destinations.tool]\nkind = \"{kind}\"\nbase_url = \"{base_url}\"\napi_key_env = \"TEST_API_KEY\"\n\
         mode = \"mirror\"\nmax_remove_pct = 100\nretry_base_ms = 20\nmax_attempts = 12\npoll_interval_ms = 50\n{extra}\n"
    )
}

/// Sync, then shrink the audience and sync again; check the list each time.
fn sync_and_shrink(wh: &LocalWh, em: &Emulator, dest: &str, in_list: impl Fn(&serde_json::Value) -> bool) {
    let cfg = write_config(wh, &(audience("true", "\"tool\"", 10) + dest));
    ok(&wh.url, &["--config", &cfg, "run", "--date", LAST, "--jobs", "audiences"]);
    let want = exportable(wh);
    let rejected: BTreeSet<String> = want.keys().filter(|e| e.contains(".0000001")).cloned().collect();
    let (code, out, err) = with_key(wh, &cfg, &["export", "--date", LAST], &[]);
    assert_eq!(code, 0, "rows refused for good do not fail the export: {out}\n{err}");
    let st = em.state();
    let expected: BTreeSet<String> = want.keys().filter(|e| !rejected.contains(*e)).cloned().collect();
    assert_eq!(emails_where(&st, &in_list), expected, "{out}\n{err}");
    assert!(st["stats"]["rate_limited"].as_u64().unwrap() > 0, "{}", st["stats"]);
    assert_eq!(st["stats"]["rejected_oversize"], 0);
    let failed = count(&wh.url, "SELECT count(*) FROM marts.export_failures WHERE permanent");
    assert_eq!(failed as usize, rejected.len());

    let small = write_config(wh, &(audience("segment = 'Champions'", "\"tool\"", 10) + dest));
    ok(&wh.url, &["--config", &small, "run", "--date", LAST, "--jobs", "audiences"]);
    let keep: BTreeSet<String> = exportable(wh).into_keys().filter(|e| !rejected.contains(e)).collect();
    with_key(wh, &small, &["export", "--date", LAST], &[]);
    assert_eq!(emails_where(&em.state(), &in_list), keep);
}

#[test]
fn klaviyo_bulk_import_jobs_and_list_removal() {
    let wh = shop();
    let em =
        Emulator::start("klaviyo", &["--api-key", KEY, "--rate-limit-every", "3", "--fail-every", "5", "--reject-substring", ".0000001", "--job-polls", "2"]);
    let dest = list_config("klaviyo", &em.url(""), "list_id = \"Y6nRLr\"\nbatch_size = 50");
    sync_and_shrink(&wh, &em, &dest, |m| m["in_list"] == true);
}

#[test]
fn sendgrid_import_jobs_and_list_removal() {
    let wh = shop();
    let em =
        Emulator::start("sendgrid", &["--api-key", KEY, "--rate-limit-every", "3", "--fail-every", "5", "--reject-substring", ".0000001", "--job-polls", "2"]);
    let dest =
        list_config("sendgrid", &em.url(""), "list_id = \"ca7a3796-e8a8-4029-9ccb-df8937940562\"\nbatch_size = 50\ncustom_fields = { segment = \"e1_T\" }");
    sync_and_shrink(&wh, &em, &dest, |m| m["in_list"] == true);
}

#[test]
fn webhook_batches_are_signed_and_files_hold_the_audience() {
    // Twenty consenting customers change to an address only a loose check lets through.
    let wh = shop_with(|wh| {
        let dir = wh.path(&format!("raw/customers/dt={LAST}"));
        let raw = std::fs::read_to_string(dir.join("part-00000.csv")).unwrap();
        let mut typos = String::from(raw.lines().next().unwrap());
        for (i, line) in raw.lines().skip(1).filter(|l| l.contains(",true,")).take(20).enumerate() {
            let mut f: Vec<String> = line.split(',').map(str::to_string).collect();
            let (user, domain) = f[1].trim().split_once('@').unwrap();
            f[1] = if i % 2 == 0 { format!("{user}.@{domain}") } else { format!("\"{},{user}@{domain}\"", f[2].to_lowercase()) };
            f[9] = "2026-11-20T12:00:00Z".into();
            typos.push_str(&format!("\n{}", f.join(",")));
        }
        std::fs::write(dir.join("typos.csv"), typos + "\n").unwrap();
    });
    let em = Emulator::start("webhook", &["--secret", KEY, "--rate-limit-every", "3", "--max-batch", "100"]);
    let dest = format!(
        "[destinations.hook]\nkind = \"webhook\"\nurl = \"{}\"\nsecret_env = \"TEST_API_KEY\"\nmode = \"mirror\"\nmax_remove_pct = 100\n\
         batch_size = 100\nretry_base_ms = 20\nmax_attempts = 12\n\n[destinations.files]\nkind = \"file\"\n",
        em.url("/hooks/ecomwh")
    );
    let cfg = write_config(&wh, &(audience("true", "\"hook\", \"files\"", 10) + &dest));
    ok(&wh.url, &["--config", &cfg, "run", "--date", LAST, "--jobs", "audiences"]);
    let mut want = exportable(&wh);
    let typos: BTreeMap<String, String> = want.iter().filter(|(e, _)| e.contains(".@") || e.contains(',')).map(|(e, c)| (e.clone(), c.clone())).collect();
    assert!(!typos.is_empty(), "some mistyped addresses are members");
    want.retain(|e, _| !typos.contains_key(e));
    let (code, out, err) = with_key(&wh, &cfg, &["export", "--date", LAST], &[]);
    assert_eq!(code, 0, "mistyped addresses do not fail the export: {out}\n{err}");
    let st = em.state();
    assert_eq!(emails_where(&st, |_| true), want.keys().cloned().collect());
    // Each is a permanent failure of each destination, caught before any request.
    let fails = sql(&wh.url, "SELECT destination, customer_id, code, message, permanent FROM marts.export_failures");
    assert_eq!(fails.len(), 2 * typos.len(), "{fails:?}");
    let ids: BTreeSet<String> = fails.iter().map(|f| f["customer_id"].clone()).collect();
    assert_eq!(ids, typos.values().cloned().collect());
    assert!(fails.iter().all(|f| f["code"] == "invalid_email" && f["permanent"] == "true" && f["message"].contains("RFC")), "{fails:?}");
    assert!(fails.iter().all(|f| !f["message"].contains('@')), "no address in a failure message");
    assert!(st["stats"]["auth_failures"] == 0 && st["stats"]["rate_limited"].as_u64().unwrap() > 0);
    assert!(st["log"].as_array().unwrap().iter().all(|l| l["idempotency_key"].is_string()));
    // A rerun with nothing changed sends nothing.
    let sent = st["log"].as_array().unwrap().len();
    let (code, _, _) = with_key(&wh, &cfg, &["export", "--date", LAST, "--destination", "hook"], &[]);
    assert_eq!(code, 0);
    assert_eq!(em.state()["log"].as_array().unwrap().len(), sent);
    // Files: CSV and Parquet with one row per exportable member.
    let dir = wh.path(&format!("exports/files/win_back/dt={LAST}"));
    let csv = std::fs::read_to_string(dir.join("win_back.csv")).unwrap();
    let mut rdr = csv::Reader::from_reader(csv.as_bytes());
    assert_eq!(rdr.headers().unwrap().iter().take(3).collect::<Vec<_>>(), ["email", "first_name", "last_name"]);
    let emails: BTreeSet<String> = rdr.records().map(|r| r.unwrap()[0].to_string()).collect();
    assert_eq!(emails, want.keys().cloned().collect());
    assert!(dir.join("win_back.parquet").exists());
    let runs = sql(&wh.url, "SELECT destination, status, confirmed FROM marts.export_runs ORDER BY started_at");
    assert_eq!(runs.len(), 3, "{runs:?}");
    assert!(runs[..2].iter().all(|r| r["status"] == "partial"), "{runs:?}");
    assert_eq!(runs[2]["status"], "partial", "the rerun records the same refused contacts");
    assert_eq!(check_contracts(&wh, |built_by| built_by == "export"), 2);
}
