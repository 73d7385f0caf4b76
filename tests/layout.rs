//! The crate's layout stays readable: the module graph of `jobs/` has no cycle (a module is a
//! file; an edge is a `crate::`, `super::` or child-module path used outside its tests), and
//! no file grows past what a reader takes in at once.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// `jobs/a/b.rs` -> ["a", "b"]; `mod.rs` and `lib.rs` name their folder.
fn module_of(rel: &str) -> Option<Vec<String>> {
    let mut parts: Vec<String> = rel.trim_end_matches(".rs").split('/').map(String::from).collect();
    if matches!(parts.last().map(String::as_str), Some("mod") | Some("lib")) {
        parts.pop();
    }
    (parts != ["main"]).then_some(parts)
}

/// Identifier paths after `prefix` (`crate::a::b::C` -> ["a", "b", "C"]).
fn paths_after<'a>(code: &'a str, prefix: &'a str) -> impl Iterator<Item = (usize, Vec<String>)> + 'a {
    code.match_indices(prefix).filter_map(move |(i, _)| {
        let before = code[..i].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            return None;
        }
        let rest = &code[i + prefix.len()..];
        let len = rest.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')).unwrap_or(rest.len());
        let segs: Vec<String> = rest[..len].split("::").filter(|s| !s.is_empty()).map(String::from).collect();
        (!segs.is_empty()).then_some((i, segs))
    })
}

fn graph() -> (BTreeMap<String, BTreeSet<String>>, BTreeMap<String, usize>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("jobs");
    let mut files = vec![];
    sources(&root, &mut files);
    let rel = |p: &Path| p.strip_prefix(&root).unwrap().to_string_lossy().replace('\\', "/");
    let modules: BTreeMap<Vec<String>, String> = files.iter().filter_map(|p| module_of(&rel(p)).map(|m| (m, rel(p)))).collect();
    let resolve = |segs: &[String]| (0..=segs.len()).rev().find_map(|n| modules.get(&segs[..n].to_vec()).cloned());
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut lines = BTreeMap::new();
    for p in &files {
        let me_file = rel(p);
        let Some(me) = module_of(&me_file) else { continue };
        let text = std::fs::read_to_string(p).unwrap();
        lines.insert(me_file.clone(), text.lines().count());
        let code: String = text.split("#[cfg(test)]\nmod tests").next().unwrap().lines().map(|l| l.split("//").next().unwrap()).collect::<Vec<_>>().join("\n");
        let mut to = BTreeSet::new();
        for (_, segs) in paths_after(&code, "crate::") {
            to.extend(resolve(&segs));
        }
        for (i, segs) in paths_after(&code, "super::") {
            // `super::super::x`: count the leading supers.
            let ups = 1 + segs.iter().take_while(|s| *s == "super").count();
            let start = code[..i].rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')).map_or(0, |j| j + 1);
            if code[start..i].contains("super::") {
                continue; // the tail of a longer super:: chain, counted from its start
            }
            let mut base = me.clone();
            base.truncate(me.len().saturating_sub(ups));
            base.extend(segs.into_iter().skip(ups - 1));
            to.extend(resolve(&base));
        }
        // A folder's mod.rs (or lib.rs) names its children by their files, whether `mod` lines
        // or a macro declare them.
        let children: Vec<String> = modules.keys().filter(|m| m.len() == me.len() + 1 && m.starts_with(&me)).map(|m| m[me.len()].clone()).collect();
        for child in children {
            for (_, segs) in paths_after(&code, &format!("{child}::")).chain(paths_after(&code, &format!("self::{child}::"))) {
                let mut full = me.clone();
                full.push(child.clone());
                full.extend(segs);
                to.extend(resolve(&full));
            }
        }
        to.remove(&me_file);
        edges.insert(me_file, to);
    }
    (edges, lines)
}

/// A cycle through `from`, if any (depth-first search).
fn find_cycle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(n: &str, edges: &BTreeMap<String, BTreeSet<String>>, state: &mut BTreeMap<String, u8>, stack: &mut Vec<String>) -> Option<Vec<String>> {
        state.insert(n.to_string(), 1);
        stack.push(n.to_string());
        for m in edges.get(n).into_iter().flatten() {
            match state.get(m).copied().unwrap_or(0) {
                1 => {
                    let at = stack.iter().position(|s| s == m).unwrap();
                    let mut c = stack[at..].to_vec();
                    c.push(m.clone());
                    return Some(c);
                }
                0 => {
                    if let Some(c) = visit(m, edges, state, stack) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(n.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in edges.keys() {
        if state.get(n).copied().unwrap_or(0) == 0 {
            if let Some(c) = visit(n, edges, &mut state, &mut vec![]) {
                return Some(c);
            }
        }
    }
    None
}

#[test]
fn the_module_graph_has_no_cycle() {
    let (edges, _) = graph();
    assert!(edges.len() > 60, "read {} modules", edges.len());
    // The runtime is used by the jobs, never the other way round; the registry knows the jobs.
    assert!(edges["nightly/staging/mod.rs"].contains("runtime/mod.rs"), "{:?}", edges["nightly/staging/mod.rs"]);
    assert!(edges["nightly/mod.rs"].contains("nightly/staging/mod.rs"), "{:?}", edges["nightly/mod.rs"]);
    if let Some(c) = find_cycle(&edges) {
        panic!("import cycle: {}", c.join(" -> "));
    }
}

#[test]
fn no_job_imports_another_job_and_the_runtime_imports_no_job() {
    let (edges, _) = graph();
    let shared = ["nightly/mod.rs", "nightly/shared.rs"];
    for (from, to) in &edges {
        if from.starts_with("runtime/") {
            assert!(to.iter().all(|t| !t.starts_with("nightly/")), "{from} imports a job: {to:?}");
        }
        if from.starts_with("nightly/") && !shared.contains(&from.as_str()) {
            let family = |f: &str| f.trim_start_matches("nightly/").split('/').next().unwrap().trim_end_matches(".rs").to_string();
            for t in to.iter().filter(|t| t.starts_with("nightly/") && !shared.contains(&t.as_str())) {
                assert_eq!(family(from), family(t), "{from} imports the job {t}");
            }
        }
    }
}

#[test]
fn no_file_is_too_long_to_read() {
    let (_, lines) = graph();
    let long: Vec<_> = lines.iter().filter(|(_, n)| **n > 650).collect();
    assert!(long.is_empty(), "split these files: {long:?}");
}

#[test]
fn the_checker_sees_a_cycle() {
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    edges.insert("a.rs".into(), ["b.rs".to_string()].into());
    edges.insert("b.rs".into(), ["c.rs".to_string()].into());
    edges.insert("c.rs".into(), ["a.rs".to_string()].into());
    assert_eq!(find_cycle(&edges).unwrap(), ["a.rs", "b.rs", "c.rs", "a.rs"]);
    edges.get_mut("c.rs").unwrap().clear();
    assert!(find_cycle(&edges).is_none());
}
