//! `docs/tables.md` is generated from the contracts in `schemas/`, so it cannot drift: this
//! test fails when it is stale. `ECOMWH_WRITE_DOCS=1 cargo test --test docs` writes it anew.

use std::path::Path;

/// A column line of a contract: `{ name = "x", type = "t", ... },   # what it means`.
struct Column {
    name: String,
    kind: String,
    notes: Vec<String>,
    meaning: String,
}

fn columns(text: &str, key: &str) -> Vec<Column> {
    let parsed: toml::Table = toml::from_str(text).unwrap();
    let comments: Vec<(String, String)> = text
        .lines()
        .filter(|l| l.trim_start().starts_with("{ name"))
        .map(|l| {
            let name = l.split('"').nth(1).unwrap_or("").to_string();
            let meaning = l.split_once('#').map(|(_, c)| c.trim().to_string()).unwrap_or_default();
            (name, meaning)
        })
        .collect();
    let Some(list) = parsed.get(key).and_then(|v| v.as_array()) else { return vec![] };
    list.iter()
        .map(|c| {
            let name = c["name"].as_str().unwrap().to_string();
            let mut notes = vec![];
            if c.get("required").and_then(|v| v.as_bool()) == Some(true) {
                notes.push("required".to_string());
            }
            if let Some(v) = c.get("values").and_then(|v| v.as_array()) {
                notes.push(format!("one of {}", v.iter().map(|x| format!("`{}`", x.as_str().unwrap())).collect::<Vec<_>>().join(", ")));
            }
            if let Some(r) = c.get("references").and_then(|v| v.as_str()) {
                notes.push(format!("a `{r}` key"));
            }
            let meaning = comments.iter().find(|(n, _)| *n == name).map(|(_, m)| m.clone()).unwrap_or_default();
            Column { name, kind: c["type"].as_str().unwrap().to_string(), notes, meaning }
        })
        .collect()
}

/// The comment block at the top of a contract, without its first "Contract of ..." sentence.
fn header(text: &str) -> String {
    let lines: Vec<&str> = text.lines().take_while(|l| l.starts_with('#')).map(|l| l.trim_start_matches('#').trim()).collect();
    lines.join(" ")
}

fn list(v: Option<&toml::Value>) -> String {
    match v {
        Some(toml::Value::String(s)) => format!("`{s}`"),
        Some(toml::Value::Array(a)) => a.iter().map(|x| format!("`{}`", x.as_str().unwrap_or(""))).collect::<Vec<_>>().join(", "),
        _ => String::new(),
    }
}

fn generate(root: &Path) -> String {
    let mut out = String::from(
        "# Tables\n\n<!-- Generated from schemas/ by tests/docs.rs: edit the contracts, then run\n     \
         ECOMWH_WRITE_DOCS=1 cargo test --test docs. -->\n\nEvery table is partitioned by `dt` (the run date, \
         `YYYY-MM-DD`); the columns below are the others. Types are those of the contracts: raw inputs as \
         delivered (`money` is a decimal amount, `timestamp` ISO 8601), published tables as Arrow types.\n",
    );
    for (layer, title) in [("raw", "Raw inputs (`raw/<table>/dt=D/`)"), ("marts", "Marts (`marts/<table>/dt=D/`)")] {
        out.push_str(&format!("\n## {title}\n"));
        let mut files: Vec<_> = std::fs::read_dir(root.join("schemas").join(layer)).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        if layer == "raw" {
            out.push_str(
                "\nStaging (`staging.<table>`) holds the same columns typed, the latest version of each key; rows that \
                 break a rule below go to `quarantine.<table>` with `source_file`, `line_no`, `reason` and `raw`.\n",
            );
        }
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            let c: toml::Table = toml::from_str(&text).unwrap();
            let table = c["table"].as_str().unwrap();
            out.push_str(&format!("\n### {table}\n\n{}\n\n", header(&text)));
            let mut facts = vec![];
            if let Some(b) = c.get("built_by") {
                facts.push(format!("built by {}", list(Some(b))));
            }
            if let Some(g) = c.get("grain").and_then(|g| g.as_str()) {
                facts.push(format!("grain: {g}"));
            }
            facts.push(format!("key: {}", list(c.get("key"))));
            if let Some(v) = c.get("version").and_then(|v| v.as_str()) {
                facts.push(format!("latest `{v}` wins"));
            }
            if c.get("optional").and_then(|v| v.as_bool()) == Some(true) {
                facts.push("optional".into());
            }
            if c.get("changes_only").and_then(|v| v.as_bool()) == Some(true) {
                facts.push("only new or changed rows are staged".into());
            }
            let rel = f.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
            out.push_str(&format!("{}; contract [`{rel}`](../{rel}).\n\n", facts.join("; ")));
            for (key, intro) in [("columns", ""), ("staged", "\nStaging adds:\n\n")] {
                let cols = columns(&text, key);
                if cols.is_empty() {
                    continue;
                }
                out.push_str(intro);
                out.push_str("| column | type | |\n|---|---|---|\n");
                for col in cols {
                    let mut what = col.notes.clone();
                    if !col.meaning.is_empty() {
                        what.push(col.meaning.replace('|', "\\|"));
                    }
                    out.push_str(&format!("| `{}` | {} | {} |\n", col.name, col.kind, what.join("; ")));
                }
            }
        }
    }
    out
}

#[test]
fn tables_doc_is_generated_from_the_contracts() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let want = generate(root);
    let path = root.join("docs/tables.md");
    if std::env::var("ECOMWH_WRITE_DOCS").ok().as_deref() == Some("1") {
        std::fs::write(&path, &want).unwrap();
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(have == want, "docs/tables.md is stale: run ECOMWH_WRITE_DOCS=1 cargo test --test docs");
    // Every contract has its section.
    for layer in ["raw", "marts"] {
        for f in std::fs::read_dir(root.join("schemas").join(layer)).unwrap() {
            let table = f.unwrap().path().file_stem().unwrap().to_string_lossy().to_string();
            assert!(have.contains(&format!("\n### {table}\n")), "{layer}/{table} missing");
        }
    }
}
