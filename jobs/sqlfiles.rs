//! The SQL of `sql/`, compiled into the binary: one file per table a job builds.

use crate::error::{Error, Result};

/// Every file of `sql/` as (`<folder>/<name>` without `.sql`, text), listed by `build.rs`.
const FILES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/sql_files.rs"));

/// The SQL that builds `<layer>.<table>`, without its comment header.
/// `<layer>/<dir>/<name>` with each `{{part}}` replaced by `<layer>/<dir>/_part` (placeholders
/// without such a file are left for the caller).
pub fn with_parts(layer: &str, dir: &str, name: &str) -> Result<String> {
    let at = |n: &str| if dir.is_empty() { n.to_string() } else { format!("{dir}/{n}") };
    let mut sql = self::sql(layer, &at(name))?;
    let mut from = 0;
    while let Some(start) = sql[from..].find("{{").map(|i| from + i) {
        let Some(len) = sql[start..].find("}}") else { break };
        match self::sql(layer, &at(&format!("_{}", &sql[start + 2..start + len]))) {
            Ok(part) => sql.replace_range(start..start + len + 2, &part),
            Err(_) => from = start + len,
        }
    }
    Ok(sql)
}

/// What fills one name of an SQL template.
pub enum Fill<'a> {
    /// `{{name}}` becomes this text.
    Text(&'a str),
    /// `{{#name}} ... {{/name}}` is kept (true) or dropped (false).
    Section(bool),
}

/// Fill the template `sql`: every `{{name}}` and `{{#name}}...{{/name}}` must be given, and
/// every name given must be in it, so a renamed or reformatted template fails loudly instead
/// of running another query. Values of the data go in as `$parameters`, never here.
pub fn render(what: &str, sql: &str, fills: &[(&str, Fill)]) -> Result<String> {
    let bad = |m: String| Err(Error::Config(format!("SQL template {what}: {m}")));
    let mut out = sql.to_string();
    for (name, fill) in fills {
        match fill {
            Fill::Text(text) => {
                let tag = format!("{{{{{name}}}}}");
                if !out.contains(&tag) {
                    return bad(format!("has no {tag}"));
                }
                out = out.replace(&tag, text);
            }
            Fill::Section(keep) => {
                let (open, close) = (format!("{{{{#{name}}}}}"), format!("{{{{/{name}}}}}"));
                let mut found = false;
                while let Some(a) = out.find(&open) {
                    let Some(b) = out[a..].find(&close).map(|i| a + i) else { return bad(format!("{open} is not closed")) };
                    let body = if *keep { out[a + open.len()..b].to_string() } else { String::new() };
                    out.replace_range(a..b + close.len(), &body);
                    found = true;
                }
                if !found {
                    return bad(format!("has no {open}"));
                }
            }
        }
    }
    if let Some(a) = out.find("{{") {
        let end = out[a..].find("}}").map_or(out.len(), |i| a + i + 2);
        return bad(format!("{} is not filled", &out[a..end]));
    }
    Ok(out)
}

pub fn sql(layer: &str, table: &str) -> Result<String> {
    let key = format!("{layer}/{table}");
    FILES
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, text)| text.lines().filter(|l| !l.trim_start().starts_with("--")).collect::<Vec<_>>().join("\n"))
        .ok_or_else(|| Error::Config(format!("no SQL file sql/{key}.sql")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_are_filled_whole_or_refused() {
        let t = "SELECT * FROM t WHERE {{scope}}{{#carry}} UNION ALL SELECT * FROM p{{/carry}}";
        let on = render("t", t, &[("scope", Fill::Text("a > 1")), ("carry", Fill::Section(true))]).unwrap();
        assert_eq!(on, "SELECT * FROM t WHERE a > 1 UNION ALL SELECT * FROM p");
        let off = render("t", t, &[("scope", Fill::Text("true")), ("carry", Fill::Section(false))]).unwrap();
        assert_eq!(off, "SELECT * FROM t WHERE true");
        // A name left unfilled, or given but not in the template, is an error.
        assert!(render("t", t, &[("scope", Fill::Text("true"))]).unwrap_err().to_string().contains("{{#carry}}"));
        assert!(render("t", t, &[("scope", Fill::Text("x")), ("carry", Fill::Section(true)), ("other", Fill::Text("y"))]).is_err());
    }
}
