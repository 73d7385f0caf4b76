//! Embeds every file of `sql/` and `schemas/` in the binary: a new SQL file or contract needs
//! no list edited by hand.

use std::path::Path;

fn walk(root: &Path, dir: &Path, ext: &str, out: &mut Vec<(String, String)>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(root, &p, ext, out);
        } else if p.extension().is_some_and(|e| e == ext) {
            let rel = p.strip_prefix(root).unwrap_or(&p).with_extension("");
            out.push((rel.to_string_lossy().replace('\\', "/"), p.canonicalize().unwrap_or(p).to_string_lossy().into_owned()));
        }
    }
}

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    let out_dir = std::env::var("OUT_DIR").unwrap_or_else(|_| ".".into());
    for (name, dir, ext) in [("sql_files.rs", "sql", "sql"), ("schema_files.rs", "schemas", "toml")] {
        let root = Path::new(&manifest).join(dir);
        println!("cargo:rerun-if-changed={}", root.display());
        let mut files = vec![];
        walk(&root, &root, ext, &mut files);
        let mut code = String::from("&[\n");
        for (key, path) in files {
            code.push_str(&format!("    ({key:?}, include_str!({path:?})),\n"));
        }
        code.push(']');
        if let Err(e) = std::fs::write(Path::new(&out_dir).join(name), code) {
            panic!("writing {name}: {e}");
        }
    }
}
