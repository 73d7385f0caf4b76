//! The SQL of `sql/`, compiled into the binary: one file per table a job builds.

use crate::error::{Error, Result};

/// Every file of `sql/` as (`<folder>/<name>` without `.sql`, text), listed by `build.rs`.
const FILES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/sql_files.rs"));

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

/// [`render`] for templates that may use any of `fills` (a preset's mappings are offered the
/// same ones): every name in the template must still be filled. Returns the text and whether
/// any fill was used.
pub fn render_any(what: &str, sql: &str, fills: &[(&str, Fill)]) -> Result<(String, bool)> {
    let mut used = vec![false; fills.len()];
    let out = render_into(sql, fills, &mut used).map_err(|m| Error::Config(format!("SQL template {what}: {m}")))?;
    Ok((out, used.iter().any(|u| *u)))
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

/// The text of `sql/<layer>/<name>.sql` without its comment lines, its includes expanded:
/// `{{> part}}` is `_part.sql` of the same folder, and `{{> part a=x; b=y, z}}` fills that
/// file's `{{a}}` and `{{b}}` (every one, and nothing else). What is left of `{{...}}` is for
/// [`render`] at run time.
pub fn sql(layer: &str, name: &str) -> Result<String> {
    load(&format!("{layer}/{name}"), 0)
}

fn load(key: &str, depth: usize) -> Result<String> {
    let text = FILES
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, text)| text.lines().filter(|l| !l.trim_start().starts_with("--")).collect::<Vec<_>>().join("\n"))
        .ok_or_else(|| Error::Config(format!("no SQL file sql/{key}.sql")))?;
    if depth > 8 {
        return Err(Error::Config(format!("sql/{key}.sql: includes nested too deep")));
    }
    let folder = key.rsplit_once('/').map(|(f, _)| f).unwrap_or("");
    let bad = |m: String| Error::Config(format!("sql/{key}.sql: {m}"));
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(a) = rest.find("{{>") {
        out.push_str(&rest[..a]);
        let len = rest[a..].find("}}").ok_or_else(|| bad(format!("{} is not closed", &rest[a..])))?;
        let tag = rest[a + 3..a + len].trim();
        let (part, args) = tag.split_once(char::is_whitespace).unwrap_or((tag, ""));
        let args = args
            .split(';')
            .filter(|a| !a.trim().is_empty())
            .map(|a| a.split_once('=').map(|(k, v)| (k.trim(), Fill::Text(v.trim()))).ok_or_else(|| bad(format!("{{{{> {tag}}}}}: {a:?} is not name=value"))))
            .collect::<Result<Vec<_>>>()?;
        let included = load(&format!("{folder}/_{part}"), depth + 1)?;
        out.push_str(&render(&format!("sql/{folder}/_{part}.sql included by sql/{key}.sql"), &included, &args)?);
        rest = &rest[a + len + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_loads_with_its_includes() {
        for (key, _) in FILES {
            let text = load(key, 0).unwrap_or_else(|e| panic!("{e}"));
            assert!(!text.contains("{{>"), "{key}");
        }
        let cur = sql("marts", "_current_orders_day").unwrap();
        assert!(cur.contains("GROUP BY customer_id, day) newest\nJOIN cod USING (customer_id, day, dt)"), "{cur}");
    }

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
