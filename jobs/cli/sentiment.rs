//! `ecomwh sentiment --input TEXTS.jsonl --output SCORES.jsonl`: VADER scores of any texts with
//! the scorer of the review jobs (for benchmarks and checks against vaderSentiment).

use std::borrow::Cow;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::ml::vader::{self, PythonVersion, Vader};

/// Score texts with VADER, exactly as vaderSentiment 3.3.2 does
#[derive(Debug, clap::Args)]
pub struct Args {
    /// JSON lines with "id" and "text", or with "id", "title" and "body" (scored as title,
    /// newline, body; the body alone when the title is empty)
    #[arg(long)]
    pub input: PathBuf,
    /// JSON lines in input order: id, neg, neu, pos, compound
    #[arg(long)]
    pub output: PathBuf,
    /// Reproduce vaderSentiment as run by this Python version (its sum() and Unicode tables
    /// changed across versions)
    #[arg(long, default_value = "3.11", value_parser = parse_python)]
    pub python: PythonVersion,
}

fn parse_python(s: &str) -> std::result::Result<PythonVersion, String> {
    PythonVersion::parse(s).ok_or_else(|| format!("'{s}' is not a Python version like 3.11"))
}

#[derive(Deserialize)]
struct Row {
    #[serde(default)]
    id: serde_json::Value,
    text: Option<String>,
    title: Option<String>,
    body: Option<String>,
}

#[derive(Serialize)]
struct Scored<'a> {
    id: &'a serde_json::Value,
    neg: f64,
    neu: f64,
    pos: f64,
    compound: f64,
}

pub async fn run(_app: &super::app::App, a: Args) -> Result<()> {
    let input = std::fs::read_to_string(&a.input).map_err(|e| Error::Usage(format!("cannot read {}: {e}", a.input.display())))?;
    let own;
    let scorer: &Vader = if a.python == PythonVersion::default() {
        vader::shared()
    } else {
        own = Vader::new().for_python(a.python);
        &own
    };
    let lines: Vec<(usize, &str)> = input.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()).collect();
    // Chunks of rows scored in parallel, each into one buffer, written back in input order.
    let chunks: Vec<Vec<u8>> = lines
        .par_chunks(1024)
        .map(|chunk| -> Result<Vec<u8>> {
            let mut buf = Vec::with_capacity(chunk.len() * 80);
            for &(n, line) in chunk {
                let bad = |e: serde_json::Error| Error::Usage(format!("{} line {}: {e}", a.input.display(), n + 1));
                let row: Row = serde_json::from_str(line).map_err(bad)?;
                let s = scorer.polarity_scores(&text_of(&row));
                serde_json::to_writer(&mut buf, &Scored { id: &row.id, neg: s.neg, neu: s.neu, pos: s.pos, compound: s.compound }).map_err(bad)?;
                buf.push(b'\n');
            }
            Ok(buf)
        })
        .collect::<Result<_>>()?;
    let mut out = BufWriter::new(std::fs::File::create(&a.output)?);
    for buf in &chunks {
        out.write_all(buf)?;
    }
    out.flush()?;
    Ok(())
}

/// The text of a row: "text" when given, else title and body as the reviews job scores them.
fn text_of(row: &Row) -> Cow<'_, str> {
    match &row.text {
        Some(t) => Cow::Borrowed(t),
        None => Cow::Owned(crate::ml::review_text::review_text(row.title.as_deref(), row.body.as_deref())),
    }
}
