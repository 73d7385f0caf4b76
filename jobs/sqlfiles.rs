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
    let mut used = vec![false; fills.len()];
    let out = render_into(sql, fills, &mut used).map_err(|m| Error::Config(format!("SQL template {what}: {m}")))?;
    match used.iter().position(|u| !u) {
        Some(i) => Err(Error::Config(format!("SQL template {what}: has no {{{{{}}}}}", fills[i].0))),
        None => Ok(out),
    }
}

/// One pass over `text`: what a fill inserts is never read as template again. A dropped
/// section is still checked (and its names count as used).
fn render_into(text: &str, fills: &[(&str, Fill)], used: &mut [bool]) -> std::result::Result<String, String> {
    fn lookup<'f, 'a>(fills: &'f [(&str, Fill<'a>)], used: &mut [bool], name: &str) -> Option<&'f Fill<'a>> {
        let i = fills.iter().position(|(n, _)| *n == name)?;
        used[i] = true;
        Some(&fills[i].1)
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(a) = rest.find("{{") {
        out.push_str(&rest[..a]);
        let len = rest[a..].find("}}").ok_or_else(|| format!("{} is not closed", &rest[a..]))?;
        let tag = &rest[a + 2..a + len];
        let after = &rest[a + len + 2..];
        if let Some(name) = tag.strip_prefix('#') {
            let close = format!("{{{{/{name}}}}}");
            let end = after.find(&close).ok_or_else(|| format!("{{{{#{name}}}}} is not closed"))?;
            let keep = match lookup(fills, used, name) {
                Some(Fill::Section(keep)) => *keep,
                _ => return Err(format!("{{{{#{name}}}}} is not filled with a section")),
            };
            let body = render_into(&after[..end], fills, used)?;
            if keep {
                out.push_str(&body);
            }
            rest = &after[end + close.len()..];
        } else {
            match lookup(fills, used, tag) {
                Some(Fill::Text(t)) => out.push_str(t),
                _ => return Err(format!("{{{{{tag}}}}} is not filled")),
            }
            rest = after;
        }
    }
    out.push_str(rest);
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
        // What a fill inserts is not read as template: a user's predicate may hold "{{".
        let p = render("p", "WHERE ({{predicate}}) AND {{x}}", &[("predicate", Fill::Text("note LIKE '%{{x}}%'")), ("x", Fill::Text("true"))]).unwrap();
        assert_eq!(p, "WHERE (note LIKE '%{{x}}%') AND true");
    }
}
