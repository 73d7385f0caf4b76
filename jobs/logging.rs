//! Logging set-up for the binary: `tracing` to stderr, with each repeated warning said once per
//! run and counted (a backfill of 30 nights must not print the same warning 30 times).

use std::sync::{Arc, Mutex};

use tracing::callsite::Identifier;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::filter::FilterExt;
use tracing_subscriber::layer::{Context, Filter, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// The warnings of this process, by the line of code that gave them.
#[derive(Clone, Default)]
pub struct Repeats(Arc<Mutex<Vec<Seen>>>);

struct Seen {
    callsite: Identifier,
    first: String,
    more: u64,
}

struct Message(String);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
}

impl Repeats {
    /// True the first time a warning's line of code fires; later ones are counted.
    fn first_time(&self, event: &Event<'_>) -> bool {
        let Ok(mut seen) = self.0.lock() else { return true };
        let callsite = event.metadata().callsite();
        if let Some(s) = seen.iter_mut().find(|s| s.callsite == callsite) {
            s.more += 1;
            return false;
        }
        let mut m = Message(String::new());
        event.record(&mut m);
        seen.push(Seen { callsite, first: m.0, more: 0 });
        true
    }

    /// One line per warning that came more than once: what it said first and how often more.
    pub fn summary(&self) -> Vec<String> {
        let Ok(seen) = self.0.lock() else { return vec![] };
        seen.iter().filter(|s| s.more > 0).map(|s| format!("the warning \"{}\" came {} more times in this run", s.first, s.more)).collect()
    }
}

impl<S: Subscriber> Filter<S> for Repeats {
    fn enabled(&self, _meta: &Metadata<'_>, _cx: &Context<'_, S>) -> bool {
        true
    }

    fn event_enabled(&self, event: &Event<'_>, _cx: &Context<'_, S>) -> bool {
        // Errors are never folded; info lines are progress, one per job and night.
        *event.metadata().level() != Level::WARN || self.first_time(event)
    }
}

/// Log to stderr at `ECOMWH_LOG`'s levels (else `default`), with colours only on a terminal.
/// Returns the repeated warnings' counter, for a summary at the end of the run.
pub fn init(default: &str) -> Repeats {
    let filter = EnvFilter::try_from_env("ECOMWH_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let repeats = Repeats::default();
    let fmt = tracing_subscriber::fmt::layer()
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_filter(filter.and(repeats.clone()));
    tracing_subscriber::registry().with(fmt).init();
    repeats
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_warning_is_shown_once_and_counted() {
        let repeats = Repeats::default();
        let out = Arc::new(Mutex::new(Vec::<u8>::new()));
        let sink = out.clone();
        let layer = tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .with_writer(move || Writer(sink.clone()))
            .with_filter(EnvFilter::new("warn").and(repeats.clone()));
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, || {
            for night in 1..=3 {
                tracing::warn!("no churn model for night {night}");
                tracing::warn!("another warning");
                tracing::error!("an error is always shown");
            }
        });
        let text = String::from_utf8(out.lock().unwrap().clone()).unwrap();
        assert_eq!(text.matches("no churn model").count(), 1, "{text}");
        assert_eq!(text.matches("an error is always shown").count(), 3, "{text}");
        assert_eq!(
            repeats.summary(),
            vec![
                "the warning \"no churn model for night 1\" came 2 more times in this run".to_string(),
                "the warning \"another warning\" came 2 more times in this run".to_string()
            ]
        );
    }

    struct Writer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Writer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
}
