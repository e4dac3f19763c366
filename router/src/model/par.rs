//! A minimal parallel map over job indices on scoped threads.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// How many threads `threads == 0` means: the machine's parallelism.
pub fn resolve_threads(threads: usize) -> usize {
    if threads > 0 {
        threads
    } else {
        std::thread::available_parallelism().map_or(1, usize::from)
    }
}

/// Runs `f(0..n)` on up to `threads` threads; the results come back in job order. `done` is
/// called after each job.
pub fn map<T, F, D>(n: usize, threads: usize, f: F, done: D) -> Vec<T>
where
    T: Send,
    F: Fn(usize) -> T + Sync,
    D: Fn() + Sync,
{
    let threads = resolve_threads(threads).min(n.max(1));
    if threads <= 1 {
        return (0..n)
            .map(|i| {
                let r = f(i);
                done();
                r
            })
            .collect();
    }
    let next = AtomicUsize::new(0);
    let slots: Mutex<Vec<Option<T>>> = Mutex::new((0..n).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        break;
                    }
                    let r = f(i);
                    if let Ok(mut slots) = slots.lock() {
                        slots[i] = Some(r);
                    }
                    done();
                }
            });
        }
    });
    let slots = match slots.into_inner() {
        Ok(s) => s,
        Err(poisoned) => poisoned.into_inner(),
    };
    // A job whose thread panicked has re-raised the panic at the end of the scope above, so
    // every slot is filled here.
    slots.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn keeps_order() {
        let out = super::map(100, 3, |i| i * 2, || {});
        assert_eq!(out, (0..100).map(|i| i * 2).collect::<Vec<_>>());
    }
}
