//! `ecomwh mine --baskets FILE`: frequent itemsets and rules of any basket file, with the
//! same code as the association_rules job (for benchmarks and ad-hoc analysis).

use std::path::PathBuf;
use std::time::Instant;

use crate::config::{Algorithm, AssociationRulesConfig, Level};
use crate::error::{Error, Result};
use crate::nightly::association_rules::{itemsets_batch, mine, rules_batch, BasketSet};

/// Mine frequent itemsets and association rules from a file with one basket per line
#[derive(Debug, clap::Args)]
pub struct Args {
    /// One basket per line, items separated by commas
    #[arg(long)]
    pub baskets: PathBuf,
    #[arg(long)]
    pub min_support: f64,
    #[arg(long, default_value_t = 0.0)]
    pub min_confidence: f64,
    #[arg(long, default_value_t = 0.0)]
    pub min_lift: f64,
    /// Most items in an itemset
    #[arg(long, default_value_t = 10)]
    pub max_len: usize,
    #[arg(long, value_enum, default_value_t = Algorithm::Apriori)]
    pub algorithm: Algorithm,
    #[arg(long, default_value_t = 10_000_000)]
    pub max_itemsets: usize,
    /// Write itemsets.csv and rules.csv into this folder
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub async fn run(_app: &super::app::App, a: Args) -> Result<()> {
    let c = AssociationRulesConfig {
        level: Level::Product,
        lookback_days: 1,
        min_support: a.min_support,
        min_confidence: a.min_confidence,
        min_lift: a.min_lift,
        max_len: a.max_len,
        algorithm: a.algorithm,
        max_itemsets: a.max_itemsets,
    };
    c.check().map_err(|e| Error::Usage(e.to_string()))?;
    let t0 = Instant::now();
    let text = std::fs::read_to_string(&a.baskets).map_err(|e| Error::Usage(format!("cannot read {}: {e}", a.baskets.display())))?;
    let set = BasketSet::from_lines(&text);
    let load = t0.elapsed().as_secs_f64();
    let m = mine(&set, &c)?;
    println!(
        "baskets {} items {} itemsets {} rules {} | load {:.3}s mine {:.3}s rules {:.3}s",
        set.baskets.len(),
        set.items.len(),
        m.itemsets.len(),
        m.rules.len(),
        load,
        m.mine_seconds,
        m.rules_seconds
    );
    if let Some(dir) = a.out {
        std::fs::create_dir_all(&dir)?;
        for (name, batch) in [("itemsets.csv", itemsets_batch(&m, &set)?), ("rules.csv", rules_batch(&m, &set)?)] {
            let mut f = std::io::BufWriter::new(std::fs::File::create(dir.join(name))?);
            crate::output::render(&[batch], crate::output::Format::Csv, &mut f)?;
        }
    }
    Ok(())
}
