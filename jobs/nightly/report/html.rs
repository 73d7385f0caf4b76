//! The page itself: HTML and CSS written here, charts drawn in the browser by Chart.js
//! (inlined, so the file opens anywhere without network access).

use serde_json::Value;

const CHART_JS: &str = include_str!("chart.umd.min.js");

pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// 1234567 -> "1,234,567"
pub fn int(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// 1234.5 -> "€1,234.50"
pub fn money(x: f64) -> String {
    let cents = (x * 100.0).round() as i64;
    let sign = if cents < 0 { "-" } else { "" };
    format!("{sign}€{}.{:02}", int(cents.unsigned_abs() / 100), cents.unsigned_abs() % 100)
}

pub fn pct(x: f64) -> String {
    if x >= 0.1 {
        format!("{:.0}%", x * 100.0)
    } else {
        format!("{:.1}%", x * 100.0)
    }
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or(0.0)
}

fn names(v: &Value) -> String {
    v.as_array().map(|a| a.iter().filter_map(|x| x.as_str()).map(escape).collect::<Vec<_>>().join(", ")).unwrap_or_default()
}

fn section(out: &mut String, id: &str, title: &str, body: &str) {
    out.push_str(&format!("<section id=\"{id}\"><h2>{title}</h2>{body}</section>\n"));
}

fn chart(id: &str) -> String {
    format!("<div class=\"chart\"><canvas id=\"{id}\"></canvas></div>")
}

pub fn render(data: &Value) -> String {
    let date = data["date"].as_str().unwrap_or("");
    let mut body = String::new();

    // Run health.
    let jobs = data["jobs"].as_array().cloned().unwrap_or_default();
    let failed: Vec<&str> = jobs.iter().filter(|j| j["status"] != "ok").filter_map(|j| j["job"].as_str()).collect();
    let status = if jobs.is_empty() {
        "<p class=\"warn\">No run recorded for this date.</p>".to_string()
    } else if failed.is_empty() {
        format!("<p class=\"ok\">All {} jobs succeeded.</p>", jobs.len())
    } else {
        format!("<p class=\"bad\">Failed: {}</p>", escape(&failed.join(", ")))
    };
    let mut table =
        String::from("<table><tr><th>job</th><th>table</th><th>rows in</th><th>rows out</th><th>quarantined</th><th>superseded</th><th>seconds</th></tr>");
    for j in &jobs {
        let tables = j["tables"].as_array().cloned().unwrap_or_default();
        let secs = format!("{:.1}", num(&j["seconds"]));
        if tables.is_empty() {
            table.push_str(&format!(
                "<tr><td>{}</td><td></td><td></td><td></td><td></td><td></td><td>{secs}</td></tr>",
                escape(j["job"].as_str().unwrap_or(""))
            ));
        }
        for (i, t) in tables.iter().enumerate() {
            let n = |k: &str| int(t[k].as_u64().unwrap_or(0));
            table.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                if i == 0 { escape(j["job"].as_str().unwrap_or("")) } else { String::new() },
                escape(t["table"].as_str().unwrap_or("")),
                n("rows_in"),
                n("rows_out"),
                n("quarantined"),
                n("superseded"),
                if i == 0 { secs.clone() } else { String::new() },
            ));
        }
    }
    table.push_str("</table>");
    section(
        &mut body,
        "section-run",
        "Run health",
        &format!("{status}<div class=\"row\">{}{}</div>{table}", chart("chart-run-jobs"), chart("chart-run-history")),
    );

    if let Some(q) = data["quarantine"].as_array() {
        let total: u64 = q.iter().map(|r| r["n"].as_u64().unwrap_or(0)).sum();
        // Tonight's rejections by reason; on a clean night, the rejections of the nights before.
        let text = if total == 0 {
            format!("<p class=\"ok\">No row was rejected tonight.</p>{}", chart("chart-quarantine"))
        } else {
            format!("<p>{} rows were rejected and kept in <code>quarantine.*</code> with their reason.</p>{}", int(total), chart("chart-quarantine"))
        };
        section(&mut body, "section-quarantine", "Quarantine", &text);
    }

    if let Some(s) = data["sales"].as_array() {
        let revenue: f64 = s.iter().map(|r| num(&r["net_revenue"])).sum();
        let purchases: u64 = s.iter().map(|r| r["purchases"].as_u64().unwrap_or(0)).sum();
        let day = s.iter().find(|r| r["day"] == date);
        let kpis = format!(
            "<div class=\"kpis\"><div><b>{}</b>net revenue on {date}</div><div><b>{}</b>purchases on {date}</div>\
             <div><b>{}</b>net revenue, last 30 days</div><div><b>{}</b>average order value</div></div>",
            money(day.map(|r| num(&r["net_revenue"])).unwrap_or(0.0)),
            int(day.and_then(|r| r["purchases"].as_u64()).unwrap_or(0)),
            money(revenue),
            money(if purchases > 0 { revenue / purchases as f64 } else { 0.0 }),
        );
        section(&mut body, "section-sales", "Sales, last 30 days", &format!("{kpis}{}", chart("chart-sales")));
    }

    if let Some(w) = data["reviews"].as_array() {
        let n: u64 = w.iter().map(|r| r["reviews"].as_u64().unwrap_or(0)).sum();
        let mut t = String::from("<table><tr><th>product</th><th>reviews (window)</th><th>rating</th><th>rating trend</th><th>negative</th><th>negative trend</th><th>what they say</th></tr>");
        for r in data["review_trends"].as_array().into_iter().flatten() {
            t.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{:.2}</td><td>{:+.2}</td><td>{}</td><td>{:+.0} pt</td><td>{}</td></tr>",
                escape(r["product_id"].as_str().unwrap_or("")),
                int(r["reviews_window"].as_u64().unwrap_or(0)),
                num(&r["rating_mean_window"]),
                num(&r["rating_trend"]),
                pct(num(&r["negative_share"])),
                num(&r["negative_share_trend"]) * 100.0,
                escape(&r["top_negative_phrases"].as_array().map(|a| a.iter().take(4).filter_map(|x| x.as_str()).collect::<Vec<_>>().join(", ")).unwrap_or_default()),
            ));
        }
        t.push_str("</table>");
        let complaints: Vec<String> = data["complaints"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| format!("{} ({})", escape(c["phrase"].as_str().unwrap_or("")), int(c["negative_reviews"].as_u64().unwrap_or(0))))
            .collect();
        let body_text = format!(
            "<p>{} published reviews in the last 26 weeks.</p>{}<h3>Products whose reviews turned most negative</h3>{t}<h3>Top complaint phrases</h3><p>{}</p>",
            int(n),
            chart("chart-reviews"),
            if complaints.is_empty() { "None yet.".to_string() } else { complaints.join(" · ") }
        );
        section(&mut body, "section-reviews", "Reviews", &body_text);
    }

    if let Some(r) = data["rules"].as_array() {
        let mut t = String::from("<table><tr><th>customers who buy</th><th>also buy</th><th>support</th><th>confidence</th><th>lift</th><th>baskets</th></tr>");
        for x in r.iter().take(15) {
            t.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.1}</td><td>{}</td></tr>",
                names(&x["antecedent_names"]),
                names(&x["consequent_names"]),
                pct(num(&x["support"])),
                pct(num(&x["confidence"])),
                num(&x["lift"]),
                int(x["count"].as_u64().unwrap_or(0))
            ));
        }
        t.push_str("</table>");
        let text = if r.is_empty() {
            "<p class=\"warn\">No rule passed the thresholds.</p>".to_string()
        } else {
            format!("<p>The strongest of {} rules by lift.</p>", int(r.len() as u64))
        };
        section(&mut body, "section-rules", "Bought together", &format!("{text}{}{t}", chart("chart-rules")));
    }

    if let Some(seg) = data["segments"].as_array() {
        let mut t = String::from("<table><tr><th>segment</th><th>customers</th><th>share</th><th>revenue (lookback)</th><th>share</th><th>scores</th></tr>");
        for x in seg {
            t.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(x["segment"].as_str().unwrap_or("")),
                int(x["customers"].as_u64().unwrap_or(0)),
                pct(num(&x["customer_share"])),
                money(num(&x["revenue"])),
                pct(num(&x["revenue_share"])),
                escape(x["score_ranges"].as_str().unwrap_or(""))
            ));
        }
        t.push_str("</table>");
        section(&mut body, "section-segments", "Customer segments (RFM)", &format!("{}{t}", chart("chart-segments")));
    }

    if let Some(fc) = data["forecast"].as_array() {
        let total: f64 = fc.iter().map(|r| num(&r["yhat"])).sum();
        let grain = fc.first().and_then(|r| r["grain"].as_str()).unwrap_or("day");
        let mut t = String::from("<table><tr><th>chosen model</th><th>series</th><th>backtest MASE</th><th>coverage 80%</th><th>coverage 95%</th></tr>");
        for m in data["forecast_models"].as_array().cloned().unwrap_or_default() {
            let opt = |k: &str, f: &dyn Fn(f64) -> String| m[k].as_f64().map(f).unwrap_or_else(|| "-".into());
            t.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(m["model"].as_str().unwrap_or("")),
                int(m["series"].as_u64().unwrap_or(0)),
                opt("mase", &|x| format!("{x:.2}")),
                opt("coverage80", &|x| pct(x)),
                opt("coverage95", &|x| pct(x)),
            ));
        }
        t.push_str("</table>");
        let text = format!(
            "<p>Net revenue forecast for the next {} {grain}s: <b>{}</b> in total (model: {}), with 80% and 95% intervals.</p>",
            fc.len(),
            money(total),
            escape(fc[0]["model"].as_str().unwrap_or(""))
        );
        section(&mut body, "section-forecast", "Sales forecast", &format!("{text}{}{t}", chart("chart-forecast")));
    }

    if let Some(aud) = data["audiences"].as_array() {
        let mut t = String::from(
            "<table><tr><th>audience</th><th>members exported</th><th>holdout</th><th>cohort</th><th>conversion, exported</th>\
             <th>conversion, holdout</th><th>difference (95% interval)</th><th>revenue per member, difference (95% interval)</th></tr>",
        );
        let uplift = data["uplift"].as_array().cloned().unwrap_or_default();
        for a in aud {
            let name = a["audience"].as_str().unwrap_or("");
            let u = uplift.iter().find(|u| u["audience"] == name);
            let opt = |k: &str, f: &dyn Fn(f64) -> String| u.and_then(|u| u[k].as_f64()).map(f).unwrap_or_else(|| "-".into());
            let interval = |k: &str, f: &dyn Fn(f64) -> String| match u.and_then(|u| u[k].as_f64()) {
                Some(x) => format!("{} ({} .. {})", f(x), opt(&format!("{k}_lo95"), f), opt(&format!("{k}_hi95"), f)),
                None => "-".into(),
            };
            t.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(name),
                int(a["exported"].as_u64().unwrap_or(0)),
                int(a["holdout"].as_u64().unwrap_or(0)),
                escape(u.and_then(|u| u["cohort_dt"].as_str()).unwrap_or("-")),
                opt("exported_conversion_rate", &|x| pct(x)),
                opt("holdout_conversion_rate", &|x| pct(x)),
                interval("conversion_diff", &|x| format!("{:+.1} pt", x * 100.0)),
                interval("revenue_diff", &|x| money(x)),
            ));
        }
        t.push_str("</table>");
        let mut e = String::from("<table><tr><th>audience</th><th>destination</th><th>last sync</th><th>status</th><th>members</th><th>added</th><th>updated</th><th>removed</th><th>failed</th></tr>");
        for x in data["exports"].as_array().cloned().unwrap_or_default() {
            let n = |k: &str| int(x[k].as_u64().unwrap_or(0));
            e.push_str(&format!(
                "<tr><td>{}</td><td>{} ({})</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(x["audience"].as_str().unwrap_or("")),
                escape(x["destination"].as_str().unwrap_or("")),
                escape(x["kind"].as_str().unwrap_or("")),
                escape(x["date"].as_str().unwrap_or("")),
                escape(x["status"].as_str().unwrap_or("")),
                n("members"),
                n("adds"),
                n("updates"),
                n("removes"),
                n("failed"),
            ));
        }
        e.push_str("</table>");
        let text = "<p>Members selected tonight; the holdout is never exported. Uplift compares the cohort selected \
                    <i>attribution_days</i> ago: exported members against the holdout, in purchases since.</p>";
        section(&mut body, "section-audiences", "Audiences and exports", &format!("{text}{}{t}{e}", chart("chart-audiences")));
    }

    if let Some(m) = data["models"].as_array() {
        let mut t = String::from("<table><tr><th>model</th><th>metric</th><th>value</th></tr>");
        for x in m {
            let v = num(&x["value"]);
            let shown = if v.fract() == 0.0 && v.abs() < 1e15 { int(v.abs() as u64) } else { format!("{v:.4}") };
            t.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}{shown}</td></tr>",
                escape(x["model"].as_str().unwrap_or("")),
                escape(x["metric"].as_str().unwrap_or("")),
                if v < 0.0 { "-" } else { "" }
            ));
        }
        t.push_str("</table>");
        let text = "<p>How well tonight's models do on data they did not learn from: the churn model's AUC on a later \
                    cut-off, recommendations' recall against popularity on the last days.</p>";
        section(&mut body, "section-models", "Model quality", &format!("{text}{}{t}", chart("chart-models")));
    }

    // `</` would end the script element early.
    let json = data.to_string().replace("</", "<\\/");
    format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>ecomwh morning report {date}</title>
<style>{CSS}</style></head>
<body><header><h1>Morning report <span>{date}</span></h1><p>{wh}</p></header>
<main>
{body}</main>
<script type="application/json" id="report-data">{json}</script>
<script>{CHART_JS}</script>
<script>{SCRIPT}</script>
</body></html>
"#,
        wh = escape(data["warehouse"].as_str().unwrap_or("")),
    )
}

const CSS: &str = "
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
header{background:#1d2330;color:#fff;padding:16px 32px}header h1{margin:0;font-size:22px}header span{color:#9fb3ff}
header p{margin:4px 0 0;color:#aab;font-size:13px}main{max-width:1200px;margin:0 auto;padding:16px 32px}
section{background:#fff;border-radius:8px;padding:16px 24px;margin:16px 0;box-shadow:0 1px 3px rgba(0,0,0,.08)}
h2{font-size:18px;margin:0 0 8px}.row{display:flex;gap:24px;flex-wrap:wrap}.row .chart{flex:1 1 420px}
.chart{position:relative;height:280px;margin:8px 0}table{border-collapse:collapse;width:100%;font-size:13px;margin-top:8px}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eee}td:nth-child(n+3){font-variant-numeric:tabular-nums}
.ok{color:#1a7f37}.bad{color:#cf222e;font-weight:600}.warn{color:#9a6700}
.kpis{display:flex;gap:16px;flex-wrap:wrap}.kpis div{background:#f0f3ff;border-radius:6px;padding:8px 16px;font-size:12px;color:#556}
.kpis b{display:block;font-size:20px;color:#1d2330}";

const SCRIPT: &str = r#"
(function () {
  const data = JSON.parse(document.getElementById('report-data').textContent);
  const nf = new Intl.NumberFormat('en-US');
  const money = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'EUR', maximumFractionDigits: 0 });
  const pct = new Intl.NumberFormat('en-US', { style: 'percent', maximumFractionDigits: 1 });
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.animation = false;
  function make(id, config) {
    const el = document.getElementById(id);
    if (el) { new Chart(el, config); el.dataset.drawn = 'true'; }
  }
  const jobs = data.jobs || [];
  make('chart-run-jobs', { type: 'bar', data: { labels: jobs.map(j => j.job), datasets: [{ label: 'seconds', data: jobs.map(j => j.seconds), backgroundColor: jobs.map(j => j.status === 'ok' ? '#4c6ef5' : '#e03131') }] },
    options: { plugins: { title: { display: true, text: 'Seconds per job' }, legend: { display: false } } } });
  const h = data.history || [];
  make('chart-run-history', { type: 'line', data: { labels: h.map(x => x.date), datasets: [
      { label: 'raw rows read', data: h.map(x => x.rows_in), borderColor: '#4c6ef5', yAxisID: 'y' },
      { label: 'quarantined', data: h.map(x => x.quarantined), borderColor: '#e8590c', yAxisID: 'y1' }] },
    options: { plugins: { title: { display: true, text: 'Rows per night, last 14 runs' } },
      scales: { y: { ticks: { callback: v => nf.format(v) } }, y1: { position: 'right', grid: { drawOnChartArea: false }, ticks: { callback: v => nf.format(v) } } } } });
  const q = (data.quarantine || []).filter(r => r.n > 0);
  if (q.length > 0) {
    make('chart-quarantine', { type: 'bar', data: { labels: q.map(r => r.tbl + ': ' + r.reason), datasets: [{ label: 'rows', data: q.map(r => r.n), backgroundColor: '#e8590c' }] },
      options: { indexAxis: 'y', plugins: { title: { display: true, text: 'Rejected rows by table and reason' }, legend: { display: false } }, scales: { x: { ticks: { callback: v => nf.format(v) } } } } });
  } else {
    make('chart-quarantine', { type: 'bar', data: { labels: h.map(x => x.date), datasets: [{ label: 'rows', data: h.map(x => x.quarantined), backgroundColor: '#e8590c' }] },
      options: { plugins: { title: { display: true, text: 'Rejected rows per night, last 14 runs' }, legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { callback: v => nf.format(v) } } } } });
  }
  const s = data.sales || [];
  make('chart-sales', { data: { labels: s.map(r => r.day), datasets: [
      { type: 'bar', label: 'net revenue', data: s.map(r => r.net_revenue), backgroundColor: '#91a7ff', yAxisID: 'y' },
      { type: 'line', label: 'purchases', data: s.map(r => r.purchases), borderColor: '#2b8a3e', yAxisID: 'y1' }] },
    options: { plugins: { title: { display: true, text: 'Net revenue and purchases per day' } },
      scales: { y: { ticks: { callback: v => money.format(v) } }, y1: { position: 'right', grid: { drawOnChartArea: false }, ticks: { callback: v => nf.format(v) } } } } });
  const r = data.rules || [];
  make('chart-rules', { type: 'bubble', data: { datasets: [{ label: 'rules (size: lift)', backgroundColor: 'rgba(76,110,245,0.45)',
      data: r.map(x => ({ x: x.support, y: x.confidence, r: Math.max(3, Math.min(18, Math.sqrt(x.lift) * 3)), name: (x.antecedent_names || []).join(', ') + ' → ' + (x.consequent_names || []).join(', '), lift: x.lift })) }] },
    options: { plugins: { title: { display: true, text: 'Rules: support against confidence' },
      tooltip: { callbacks: { label: c => c.raw.name + ' (lift ' + c.raw.lift.toFixed(1) + ')' } } },
      scales: { x: { title: { display: true, text: 'support' }, ticks: { callback: v => pct.format(v) } }, y: { title: { display: true, text: 'confidence' }, ticks: { callback: v => pct.format(v) } } } } });
  const g = data.segments || [];
  make('chart-segments', { type: 'bar', data: { labels: g.map(x => x.segment), datasets: [
      { label: 'customers', data: g.map(x => x.customer_share), backgroundColor: '#91a7ff' },
      { label: 'revenue', data: g.map(x => x.revenue_share), backgroundColor: '#2b8a3e' }] },
    options: { plugins: { title: { display: true, text: 'Share of customers and revenue per segment' } },
      scales: { y: { ticks: { callback: v => pct.format(v) } } } } });
  const f = data.forecast || [];
  make('chart-forecast', { type: 'line', data: { labels: f.map(x => x.period_start), datasets: [
      { label: '95% interval', data: f.map(x => x.yhat_hi95), borderColor: 'transparent', backgroundColor: 'rgba(145,167,255,0.25)', fill: '+1', pointRadius: 0 },
      { label: '', data: f.map(x => x.yhat_lo95), borderColor: 'transparent', pointRadius: 0, fill: false },
      { label: '80% interval', data: f.map(x => x.yhat_hi80), borderColor: 'transparent', backgroundColor: 'rgba(76,110,245,0.3)', fill: '+1', pointRadius: 0 },
      { label: '', data: f.map(x => x.yhat_lo80), borderColor: 'transparent', pointRadius: 0, fill: false },
      { label: 'forecast', data: f.map(x => x.yhat), borderColor: '#1d2330', pointRadius: 2, fill: false }] },
    options: { plugins: { title: { display: true, text: 'Net revenue forecast (total)' }, legend: { labels: { filter: i => i.text !== '' } } },
      scales: { y: { ticks: { callback: v => money.format(v) } } } } });
  const a = data.audiences || [];
  const up = data.uplift || [];
  const conv = (name, k) => { const u = up.find(x => x.audience === name); return u ? u[k] : null; };
  make('chart-audiences', { data: { labels: a.map(x => x.audience), datasets: [
      { type: 'bar', label: 'exported', data: a.map(x => x.exported), backgroundColor: '#4c6ef5', yAxisID: 'y' },
      { type: 'bar', label: 'holdout', data: a.map(x => x.holdout), backgroundColor: '#adb5bd', yAxisID: 'y' },
      { type: 'line', label: 'conversion, exported', data: a.map(x => conv(x.audience, 'exported_conversion_rate')), borderColor: '#2b8a3e', showLine: false, pointRadius: 6, yAxisID: 'y1' },
      { type: 'line', label: 'conversion, holdout', data: a.map(x => conv(x.audience, 'holdout_conversion_rate')), borderColor: '#e8590c', showLine: false, pointRadius: 6, yAxisID: 'y1' }] },
    options: { plugins: { title: { display: true, text: 'Members per audience, and conversion since the cohort' } },
      scales: { y: { ticks: { callback: v => nf.format(v) } }, y1: { position: 'right', min: 0, grid: { drawOnChartArea: false }, ticks: { callback: v => pct.format(v) } } } } });
  const rv = data.reviews || [];
  make('chart-reviews', { data: { labels: rv.map(x => x.week), datasets: [
      { type: 'bar', label: 'reviews', data: rv.map(x => x.reviews), backgroundColor: '#91a7ff', yAxisID: 'y' },
      { type: 'line', label: 'mean rating', data: rv.map(x => x.rating), borderColor: '#2b8a3e', yAxisID: 'y1' },
      { type: 'line', label: 'negative share (x5)', data: rv.map(x => x.negative_share * 5), borderColor: '#e03131', yAxisID: 'y1' }] },
    options: { plugins: { title: { display: true, text: 'Reviews per week: rating and negative share' } },
      scales: { y: { ticks: { callback: v => nf.format(v) } }, y1: { position: 'right', min: 0, max: 5, grid: { drawOnChartArea: false } } } } });
  const quality = (data.models || []).filter(x => /^(auc|recall_at_\d+|precision_at_\d+|hit_rate_at_\d+)$/.test(x.metric));
  make('chart-models', { type: 'bar', data: { labels: quality.map(x => x.model + ': ' + x.metric), datasets: [{ label: 'value', data: quality.map(x => x.value), backgroundColor: '#91a7ff' }] },
    options: { indexAxis: 'y', plugins: { title: { display: true, text: 'Quality on held-out data' }, legend: { display: false } }, scales: { x: { min: 0, max: 1 } } } });
  document.body.dataset.ready = 'true';
})();
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_for_people() {
        assert_eq!(int(1234567), "1,234,567");
        assert_eq!(int(12), "12");
        assert_eq!(money(1234.5), "€1,234.50");
        assert_eq!(pct(0.123), "12%");
        assert_eq!(pct(0.0123), "1.2%");
        assert_eq!(escape("<b>&"), "&lt;b&gt;&amp;");
    }

    #[test]
    fn sections_follow_the_data() {
        let page = render(&serde_json::json!({"date": "2025-01-02", "jobs": [], "rules": [], "x": "</script>"}));
        assert!(page.contains("id=\"section-run\"") && page.contains("id=\"section-rules\""));
        assert!(!page.contains("id=\"section-sales\""));
        assert!(!page.contains("\"</script>\""), "data must not close the script early");
    }
}
