//! `ecomwh export`: for each audience and destination, diff the date's members against the
//! state of the last confirmed sync, send the changes in batches, and advance the state per
//! confirmed batch. A dry run prints the plan and sample requests and sends nothing.

use std::collections::HashMap;
use std::io::Write;
use std::time::Instant;

use arrow::array::{Array, AsArray};
use chrono::NaiveDate;
use futures::StreamExt;

use super::address;
use super::destination::{BatchResult, Contact, Destination, Mode, Purpose, Removal, RowFailure, SyncCtx};
use super::plan::{plan, Plan};
use super::sender::{SendError, Sender};
use super::state::{JournalOp, SyncState, Synced};
pub use super::tables::{FailureRow, SyncReport};
use crate::config::{AudienceConfig, Config};
use crate::engine::{date_param, params, Engine};
use crate::error::{Error, Result};

#[derive(Debug, Clone)]
pub struct ExportOptions {
    pub date: NaiveDate,
    pub audience: Option<String>,
    pub destination: Option<String>,
    pub dry_run: bool,
    /// Let mirror remove more than max_remove_pct.
    pub force: bool,
}

pub async fn export(engine: &Engine, cfg: &Config, opts: &ExportOptions, out: &mut dyn Write) -> Result<Vec<SyncReport>> {
    let dt = opts.date.format("%Y-%m-%d").to_string();
    let pairs = select(cfg, opts)?;
    if pairs.is_empty() {
        writeln!(out, "no audience has a destination in the config: nothing to export")?;
        return Ok(vec![]);
    }
    let published = engine.manifests.get("marts", "audience_members").is_some_and(|m| m.partitions.contains_key(&dt));
    if !published {
        return Err(Error::MissingDependency {
            table: "marts.audience_members".into(),
            date: dt,
            hint: "export sends the members the audiences job selected: run `ecomwh run --date D --jobs audiences` first".into(),
        });
    }
    let mut reports = vec![];
    let mut failures = vec![];
    for (aud, dest_name) in pairs {
        let dcfg = super::kinds::configure(&dest_name, &cfg.destinations[&dest_name])?;
        let dest = super::kinds::build(&dcfg, Purpose::Send)?;
        let (members, holdout) = load_members(engine, &dt, &aud.name).await?;
        let cx = SyncCtx {
            audience: aud.name.clone(),
            destination: dest_name.clone(),
            dt: dt.clone(),
            sync_id: crate::storage::publish::new_run_id(),
            wh: engine.wh.clone(),
            cfg: dcfg,
        };
        let span = tracing::info_span!("export", audience = %aud.name, destination = %dest_name);
        let _g = span.enter();
        let (mut report, rows) = sync_one(&cx, dest.as_ref(), members, opts, out).await?;
        report.holdout = holdout;
        tracing::info!(status = %report.status, adds = report.adds, updates = report.updates, removes = report.removes,
            confirmed = report.confirmed, failed = report.failed, requests = report.requests, retries = report.retries,
            seconds = report.seconds, "sync finished");
        writeln!(
            out,
            "{} -> {} ({}, {}): {} members, {} holdout; {} adds, {} updates, {} removes, {} unchanged; {} confirmed, {} failed; {} requests, {} retries; {:.1} s{}",
            report.audience, report.destination, report.kind, report.mode, report.members, report.holdout, report.adds,
            report.updates, report.removes, report.unchanged, report.confirmed, report.failed, report.requests,
            report.retries, report.seconds,
            if report.status == "ok" || report.status == "dry_run" { String::new() } else { format!(" [{}] {}", report.status, report.message.clone().unwrap_or_default()) }
        )?;
        reports.push(report);
        failures.extend(rows);
    }
    if !opts.dry_run && !reports.is_empty() {
        super::tables::append(engine, &dt, &reports, &failures).await?;
    }
    Ok(reports)
}

/// The (audience, destination) pairs a command asks for.
fn select<'a>(cfg: &'a Config, opts: &ExportOptions) -> Result<Vec<(&'a AudienceConfig, String)>> {
    if opts.audience.is_none() && opts.destination.is_none() && cfg.audiences.iter().all(|a| a.destinations.is_empty()) {
        return Ok(vec![]);
    }
    if let Some(a) = &opts.audience {
        if !cfg.audiences.iter().any(|x| &x.name == a) {
            return Err(Error::Usage(format!("no audience named '{a}' in the config")));
        }
    }
    if let Some(d) = &opts.destination {
        if !cfg.destinations.contains_key(d) {
            return Err(Error::Usage(format!("no destination named '{d}' in the config ([destinations.{d}])")));
        }
    }
    let pairs: Vec<_> = cfg
        .audiences
        .iter()
        .filter(|a| opts.audience.as_ref().is_none_or(|n| &a.name == n))
        .flat_map(|a| a.destinations.iter().map(move |d| (a, d.clone())))
        .filter(|(_, d)| opts.destination.as_ref().is_none_or(|n| d == n))
        .collect();
    if pairs.is_empty() {
        return Err(Error::Usage("nothing to export: no audience is synced to the chosen destination".into()));
    }
    Ok(pairs)
}

/// The date's members of an audience that may be exported (not in the holdout), and the
/// holdout's size.
async fn load_members(engine: &Engine, dt: &str, audience: &str) -> Result<(Vec<Contact>, u64)> {
    let date = NaiveDate::parse_from_str(dt, "%Y-%m-%d").map_err(|e| Error::Usage(e.to_string()))?;
    let sql = "SELECT customer_id, email, attributes, holdout FROM marts.audience_members \
               WHERE dt = $run_date AND audience = $audience";
    let p = params([("run_date", date_param(date)), ("audience", datafusion::common::ScalarValue::Utf8(Some(audience.into())))]);
    let mut stream = engine.query(sql, &p).await?.execute_stream().await?;
    let (mut members, mut holdout) = (vec![], 0u64);
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        let s = |i: usize| arrow::compute::cast(batch.column(i), &arrow::datatypes::DataType::Utf8);
        let (cid, email, attrs) = (s(0)?, s(1)?, s(2)?);
        let (cid, email, attrs) = (cid.as_string::<i32>(), email.as_string::<i32>(), attrs.as_string::<i32>());
        let hold = batch.column(3).as_boolean();
        for i in 0..batch.num_rows() {
            if hold.value(i) {
                holdout += 1;
                continue;
            }
            let a = if attrs.is_null(i) { "{}" } else { attrs.value(i) };
            members.push(Contact::new(cid.value(i).to_string(), email.value(i).to_string(), a.to_string()));
        }
    }
    members.sort_by(|a, b| a.email.cmp(&b.email));
    Ok((members, holdout))
}

async fn sync_one(
    cx: &SyncCtx,
    dest: &dyn Destination,
    members: Vec<Contact>,
    opts: &ExportOptions,
    out: &mut dyn Write,
) -> Result<(SyncReport, Vec<FailureRow>)> {
    let started = Instant::now();
    let mut r = SyncReport {
        sync_id: cx.sync_id.clone(),
        audience: cx.audience.clone(),
        destination: cx.destination.clone(),
        kind: cx.cfg.kind.clone(),
        mode: cx.cfg.mode.as_str().into(),
        started_at: chrono::Utc::now().to_rfc3339(),
        members: members.len() as u64,
        ..Default::default()
    };
    // Addresses no email tool accepts are failures before any request, for every kind.
    let mut undeliverable: Vec<(Contact, &'static str)> = vec![];
    let members: Vec<Contact> = members
        .into_iter()
        .filter_map(|c| match address::problem(&c.email) {
            None => Some(c),
            Some(why) => {
                undeliverable.push((c, why));
                None
            }
        })
        .collect();
    let mut state = SyncState::load(&cx.wh, &cx.destination, &cx.audience).await?;
    r.resumed = state.resumed_ops as u64;
    if r.resumed > 0 {
        tracing::info!(entries = r.resumed, "resuming: confirmed batches of an interrupted sync are not sent again");
    }
    let p = plan(&members, &state.contacts, cx.cfg.mode);
    r.adds = p.adds as u64;
    r.updates = p.updates as u64;
    r.removes = p.removes.len() as u64;
    r.unchanged = p.unchanged as u64;
    let limits = dest.limits();
    let sender = Sender::new(limits.concurrency, cx.cfg.retry_policy(), dest.secrets()).map_err(|e| Error::job("export", e.to_string()))?;
    let mut failures: Vec<FailureRow> = undeliverable
        .into_iter()
        .map(|(c, why)| {
            let f = RowFailure { email: c.email, code: "invalid_email".into(), message: why.into(), permanent: true };
            failure_row(cx, &sender, "upsert", c.customer_id, f)
        })
        .collect();

    if cx.cfg.mode == Mode::Mirror && !opts.force && p.exceeds_remove_cap(state.contacts.len(), cx.cfg.max_remove_pct) {
        r.status = "refused".into();
        r.message = Some(format!(
            "mirror would remove {} of {} synced contacts, more than max_remove_pct = {}%; check the audience, then rerun with --force",
            p.removes.len(),
            state.contacts.len(),
            cx.cfg.max_remove_pct
        ));
        r.seconds = started.elapsed().as_secs_f64();
        return Ok((r, vec![]));
    }
    if opts.dry_run {
        print_dry_run(cx, dest, &members, &p, out)?;
        if !failures.is_empty() {
            writeln!(out, "  {} members have an address no email tool accepts and would not be sent (export_failures, code invalid_email)", failures.len())?;
        }
        r.status = "dry_run".into();
        r.seconds = started.elapsed().as_secs_f64();
        return Ok((r, vec![]));
    }

    // Failures a rerun may fix: a whole request refused (a wrong key, a missing list) or a
    // contact not confirmed after every retry. Only contacts refused for good leave it at 0.
    let mut blocking = 0u64;
    if let Some(written) = dest.write_all(cx, &members).await {
        written?;
        let wanted: std::collections::HashSet<&str> = members.iter().map(|c| c.email.as_str()).collect();
        let mut ops: Vec<JournalOp> = members
            .iter()
            .map(|c| JournalOp {
                email: c.email.clone(),
                set: Some(Synced { customer_id: c.customer_id.clone(), hash: c.hash.clone(), remote_id: None, added: true }),
            })
            .collect();
        ops.extend(state.contacts.keys().filter(|e| !wanted.contains(e.as_str())).map(|e| JournalOp { email: e.clone(), set: None }));
        state.confirm(&cx.wh, ops).await?;
        r.confirmed = members.len() as u64;
    } else {
        let upserts: Vec<&Contact> = p.upserts.iter().map(|&i| &members[i]).collect();
        let batches = fit_batches(cx, dest, &upserts, limits);
        let total = batches.len();
        let mut results = futures::stream::iter(batches.into_iter().map(|b| async {
            let res = dest.upsert(cx, &sender, &b).await;
            (b, res)
        }))
        .buffer_unordered(limits.concurrency);
        let mut done = 0usize;
        while let Some((batch, res)) = results.next().await {
            done += 1;
            let by_email: HashMap<&str, &Contact> = batch.iter().map(|c| (c.email.as_str(), c)).collect();
            let whole_request = res.is_err();
            let result = outcome(res, batch.iter().map(|c| c.email.as_str()));
            blocking += result.failed.iter().filter(|f| whole_request || !f.permanent).count() as u64;
            let mut ops = vec![];
            for c in &result.confirmed {
                let Some(m) = by_email.get(c.email.as_str()) else { continue };
                let before = state.contacts.get(&c.email);
                ops.push(JournalOp {
                    email: c.email.clone(),
                    set: Some(Synced {
                        customer_id: m.customer_id.clone(),
                        hash: m.hash.clone(),
                        remote_id: c.remote_id.clone().or_else(|| before.and_then(|b| b.remote_id.clone())),
                        added: c.created || before.is_some_and(|b| b.added),
                    }),
                });
            }
            r.confirmed += ops.len() as u64;
            state.confirm(&cx.wh, ops).await?;
            failures.extend(result.failed.into_iter().map(|f| {
                let cid = by_email.get(f.email.as_str()).map(|c| c.customer_id.clone()).unwrap_or_default();
                failure_row(cx, &sender, "upsert", cid, f)
            }));
            progress(done, total, "upsert batches");
        }
        drop(results);

        let removal_batches: Vec<Vec<Removal>> = p.removes.chunks(limits.remove_batch.max(1)).map(|c| c.to_vec()).collect();
        let total = removal_batches.len();
        let mut results = futures::stream::iter(removal_batches.into_iter().map(|b| async {
            let res = dest.remove(cx, &sender, &b).await;
            (b, res)
        }))
        .buffer_unordered(limits.concurrency);
        let mut done = 0usize;
        while let Some((batch, res)) = results.next().await {
            done += 1;
            let whole_request = res.is_err();
            let result = outcome(res, batch.iter().map(|c| c.email.as_str()));
            blocking += result.failed.iter().filter(|f| whole_request || !f.permanent).count() as u64;
            let ops: Vec<JournalOp> = result.confirmed.iter().map(|c| JournalOp { email: c.email.clone(), set: None }).collect();
            r.confirmed += ops.len() as u64;
            state.confirm(&cx.wh, ops).await?;
            let by_email: HashMap<&str, &Removal> = batch.iter().map(|c| (c.email.as_str(), c)).collect();
            failures.extend(result.failed.into_iter().map(|f| {
                let cid = by_email.get(f.email.as_str()).map(|c| c.customer_id.clone()).unwrap_or_default();
                failure_row(cx, &sender, "remove", cid, f)
            }));
            progress(done, total, "removal batches");
        }
        drop(results);
        let forget: Vec<JournalOp> = p.forget.iter().map(|e| JournalOp { email: e.clone(), set: None }).collect();
        state.confirm(&cx.wh, forget).await?;
    }
    state.compact(&cx.wh).await?;

    let st = &sender.stats;
    use std::sync::atomic::Ordering::Relaxed;
    r.requests = st.requests.load(Relaxed);
    r.retries = st.retries.load(Relaxed);
    r.throttled = st.throttled.load(Relaxed);
    r.failed = failures.len() as u64;
    r.failed_permanent = failures.iter().filter(|f| f.permanent).count() as u64;
    r.status = match (r.failed, blocking) {
        (0, _) => "ok".into(),
        (_, 0) => "partial".into(),
        _ => "failed".into(),
    };
    if r.status == "partial" {
        r.message = Some(format!("{} contacts refused for good (export_failures says why); every other contact is confirmed", r.failed));
    } else if r.status == "failed" {
        r.message = Some(format!("{} contacts not confirmed ({} refused for good, see export_failures); a rerun retries them", r.failed, r.failed_permanent));
    }
    r.seconds = started.elapsed().as_secs_f64();
    Ok((r, failures))
}

/// A batch's result, or every contact failed with the request's error.
fn outcome<'a>(res: Result<BatchResult, SendError>, emails: impl Iterator<Item = &'a str>) -> BatchResult {
    match res {
        Ok(b) => b,
        Err(e) => BatchResult {
            confirmed: vec![],
            failed: emails.map(|em| RowFailure { email: em.to_string(), code: e.code(), message: e.to_string(), permanent: e.permanent() }).collect(),
        },
    }
}

fn failure_row(cx: &SyncCtx, sender: &Sender, op: &str, customer_id: String, f: RowFailure) -> FailureRow {
    FailureRow {
        sync_id: cx.sync_id.clone(),
        audience: cx.audience.clone(),
        destination: cx.destination.clone(),
        customer_id,
        operation: op.into(),
        code: f.code,
        message: sender.redact(&super::destination::scrub(&f.message, &f.email)),
        permanent: f.permanent,
    }
}

fn progress(done: usize, total: usize, what: &str) {
    let step = (total / 10).max(1);
    if done.is_multiple_of(step) || done == total {
        tracing::info!(done, total, "{what}");
    }
}

/// Batches of at most `limits.batch` contacts whose request body fits `limits.max_bytes`
/// (halved until it does; a single oversize contact goes alone and fails there).
pub fn fit_batches(cx: &SyncCtx, dest: &dyn Destination, contacts: &[&Contact], limits: super::destination::Limits) -> Vec<Vec<Contact>> {
    let mut out = vec![];
    let mut todo: Vec<Vec<Contact>> = contacts.chunks(limits.batch.max(1)).rev().map(|c| c.iter().map(|&x| x.clone()).collect()).collect();
    while let Some(b) = todo.pop() {
        if b.len() > 1 && dest.upsert_request(cx, &b).body_len() > limits.max_bytes {
            let mut first = b;
            let second = first.split_off(first.len() / 2);
            todo.push(second);
            todo.push(first);
        } else {
            out.push(b);
        }
    }
    out
}

fn print_dry_run(cx: &SyncCtx, dest: &dyn Destination, members: &[Contact], p: &Plan, out: &mut dyn Write) -> Result<()> {
    writeln!(out, "dry run: {} -> {} ({}, mode {}): nothing is sent", cx.audience, cx.destination, cx.cfg.kind, cx.cfg.mode.as_str())?;
    writeln!(out, "  plan: {} adds, {} updates, {} removes, {} unchanged", p.adds, p.updates, p.removes.len(), p.unchanged)?;
    let limits = dest.limits();
    let upserts: Vec<&Contact> = p.upserts.iter().take(limits.batch).map(|&i| &members[i]).collect();
    if !upserts.is_empty() {
        let sample: Vec<Contact> = upserts.iter().take(3).map(|&c| c.clone()).collect();
        let batches = p.upserts.len().div_ceil(limits.batch.max(1));
        writeln!(out, "  about {batches} upsert requests; the first, shown with 3 of its contacts:")?;
        writeln!(out, "{}", indent(&dest.upsert_request(cx, &sample).display(2000)))?;
    }
    if !p.removes.is_empty() {
        let sample: Vec<Removal> = p.removes.iter().take(3).cloned().collect();
        writeln!(out, "  removal requests; the first, shown with up to 3 contacts:")?;
        writeln!(out, "{}", indent(&dest.remove_request(cx, &sample).display(2000)))?;
    }
    Ok(())
}

fn indent(s: &str) -> String {
    s.lines().map(|l| format!("    {l}")).collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Batches are cut at the count limit, then halved until each request body fits the byte cap.
    #[test]
    fn batches_fit_the_count_and_the_byte_caps() {
        let table: toml::Table = toml::from_str("kind = 'webhook'\nurl = 'http://127.0.0.1:9/x'\nsecret_env = 'NO_SUCH_ENV'").unwrap();
        let cfg = crate::export::kinds::configure("hook", &table).unwrap();
        let dest = crate::export::kinds::build(&cfg, Purpose::Check).unwrap();
        let cx = SyncCtx {
            audience: "a".into(),
            destination: "hook".into(),
            dt: "2026-01-01".into(),
            sync_id: "s".into(),
            wh: crate::storage::warehouse::Warehouse::open("memory://", &Default::default()).unwrap(),
            cfg,
        };
        let members: Vec<Contact> = (0..1000)
            .map(|i| Contact::new(format!("c{i}"), format!("person.{i:04}@example.com"), format!("{{\"note\":\"{}\"}}", "x".repeat(i % 50))))
            .collect();
        let refs: Vec<&Contact> = members.iter().collect();
        let limits = super::super::destination::Limits { batch: 300, max_bytes: 8_000, remove_batch: 1, concurrency: 1 };
        let batches = fit_batches(&cx, dest.as_ref(), &refs, limits);
        assert_eq!(batches.iter().map(|b| b.len()).sum::<usize>(), 1000);
        for b in &batches {
            assert!(b.len() <= 300);
            assert!(dest.upsert_request(&cx, b).body_len() <= 8_000, "{} contacts", b.len());
        }
        // Order is kept: the batches concatenated are the members.
        let order: Vec<&str> = batches.iter().flatten().map(|c| c.email.as_str()).collect();
        assert_eq!(order, members.iter().map(|c| c.email.as_str()).collect::<Vec<_>>());
        assert!(batches.len() > 1000 / 300 + 1, "the byte cap split batches: {}", batches.len());
    }
}
