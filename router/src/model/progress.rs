//! Training progress: a trait the library reports to, a silent implementation for tests and
//! libraries, and a terminal progress bar for the command line.

use std::sync::Mutex;

/// Hears of training's stages and steps. Implementations must be cheap: `advance` is called
/// once per finished job, from worker threads.
pub trait Progress: Sync {
    /// A new stage of `total` steps begins.
    fn stage(&self, name: &str, total: u64);
    /// `n` more steps of the current stage are done.
    fn advance(&self, n: u64);
    /// Training is over.
    fn finish(&self);
}

/// Reports nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl Progress for Silent {
    fn stage(&self, _name: &str, _total: u64) {}
    fn advance(&self, _n: u64) {}
    fn finish(&self) {}
}

/// A progress bar on standard error (hidden when it is not a terminal).
#[derive(Debug, Default)]
pub struct BarProgress {
    bar: Mutex<Option<indicatif::ProgressBar>>,
}

impl BarProgress {
    pub fn new() -> Self {
        Self::default()
    }
}

impl Progress for BarProgress {
    fn stage(&self, name: &str, total: u64) {
        let bar = indicatif::ProgressBar::new(total);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{msg:>12} [{elapsed_precise}] {wide_bar} {pos}/{len} (eta {eta})",
        ) {
            bar.set_style(style);
        }
        bar.set_message(name.to_owned());
        if let Ok(mut slot) = self.bar.lock() {
            if let Some(old) = slot.take() {
                old.finish();
            }
            *slot = Some(bar);
        }
    }

    fn advance(&self, n: u64) {
        if let Ok(slot) = self.bar.lock()
            && let Some(bar) = slot.as_ref()
        {
            bar.inc(n);
        }
    }

    fn finish(&self) {
        if let Ok(mut slot) = self.bar.lock()
            && let Some(bar) = slot.take()
        {
            bar.finish();
        }
    }
}
