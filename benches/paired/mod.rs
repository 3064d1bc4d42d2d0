//! Paired timing, shared by the `ratios` and `jacobians` bench targets: two sides (e.g.
//! generated and hand-written derivatives) alternate in many short rounds in one process, each
//! round timing a batch of each side sized to about `batch_ns`, and the result is the median of
//! the per-round ratios. Also the number formats, the date and the machine of the tables.

// Each bench binary uses a different subset of what is here.
#![allow(dead_code, reason = "each bench binary uses a different subset")]

use std::hint::black_box;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long and how often to measure.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// Maximum number of rounds.
    pub rounds: usize,
    /// Minimum number of rounds, whatever the time.
    pub min_rounds: usize,
    /// Stop after this much time once `min_rounds` are done.
    pub max_time: Duration,
}

/// The result of a paired measurement of `a` against `b`.
#[derive(Debug, Clone, Copy)]
pub struct Pair {
    /// Median over rounds of `time(a) / time(b)` (per call).
    pub ratio: f64,
    /// 10th and 90th percentiles of the per-round ratios.
    pub spread: (f64, f64),
    /// Median time per call of `a`, in ns.
    pub a_ns: f64,
    /// Median time per call of `b`, in ns.
    pub b_ns: f64,
    /// Rounds measured.
    pub rounds: usize,
}

/// Nanoseconds taken by `n` calls of `f`.
#[inline(never)]
pub fn time_batch<R>(f: &mut impl FnMut() -> R, n: usize) -> f64 {
    let start = Instant::now();
    for _ in 0..n {
        black_box(f());
    }
    start.elapsed().as_nanos() as f64
}

/// Number of calls of `f` that take about `target_ns` (at least 1).
pub fn calibrate<R>(f: &mut impl FnMut() -> R, target_ns: f64) -> usize {
    let mut n = 1;
    loop {
        let t = time_batch(f, n);
        if t >= target_ns / 4.0 || n >= 1 << 24 {
            return ((n as f64 * target_ns / t.max(1.0)).round() as usize).max(1);
        }
        n *= 4;
    }
}

/// Median of `v` (sorted in place).
pub fn quantile(v: &mut [f64], q: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    let i = ((v.len() - 1) as f64 * q).round() as usize;
    v[i]
}

/// Times `a` against `b` in alternating rounds.
pub fn paired<RA, RB>(
    mut a: impl FnMut() -> RA,
    mut b: impl FnMut() -> RB,
    batch_ns: f64,
    budget: Budget,
) -> Pair {
    let na = calibrate(&mut a, batch_ns);
    let nb = calibrate(&mut b, batch_ns);
    // Warm-up: a few batches of each.
    for _ in 0..3 {
        time_batch(&mut a, na);
        time_batch(&mut b, nb);
    }
    let mut ratios = Vec::with_capacity(budget.rounds);
    let mut ta = Vec::with_capacity(budget.rounds);
    let mut tb = Vec::with_capacity(budget.rounds);
    let start = Instant::now();
    for round in 0..budget.rounds {
        let (x, y) = if round % 2 == 0 {
            let x = time_batch(&mut a, na);
            (x, time_batch(&mut b, nb))
        } else {
            let y = time_batch(&mut b, nb);
            (time_batch(&mut a, na), y)
        };
        let (x, y) = (x / na as f64, y / nb as f64);
        ratios.push(x / y);
        ta.push(x);
        tb.push(y);
        if round + 1 >= budget.min_rounds && start.elapsed() > budget.max_time {
            break;
        }
    }
    let rounds = ratios.len();
    Pair {
        ratio: quantile(&mut ratios, 0.5),
        spread: (quantile(&mut ratios, 0.1), quantile(&mut ratios, 0.9)),
        a_ns: quantile(&mut ta, 0.5),
        b_ns: quantile(&mut tb, 0.5),
        rounds,
    }
}

/// `ns` with a unit that keeps three significant digits.
pub fn fmt_time(ns: f64) -> String {
    if ns < 1e3 {
        format!("{ns:.1} ns")
    } else if ns < 1e6 {
        format!("{:.2} µs", ns / 1e3)
    } else if ns < 1e9 {
        format!("{:.2} ms", ns / 1e6)
    } else {
        format!("{:.2} s", ns / 1e9)
    }
}

/// A ratio: two decimals below 10, then fewer.
pub fn fmt_ratio(r: f64) -> String {
    if r < 10.0 {
        format!("{r:.2}")
    } else if r < 1000.0 {
        format!("{r:.0}")
    } else {
        format!("{:.0}", r.round())
    }
}

/// Today's date (UTC) as `YYYY-MM-DD`.
pub fn today() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// The CPU model and the number of logical CPUs, from `/proc/cpuinfo` where there is one.
pub fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map_or_else(
            || std::env::consts::ARCH.to_string(),
            |m| m.trim().to_string(),
        );
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    format!("{model}, {cpus} logical CPUs, {}", std::env::consts::OS)
}

/// `name` from the environment, parsed, or `default`.
pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// What both paired runners read from their command line and environment: workload filters
/// (arguments not starting with `-`), `MATDIFF_ROUNDS`, `MATDIFF_BATCH_US`, `MATDIFF_SLOW_MS`.
pub struct Settings {
    pub filters: Vec<String>,
    pub rounds: usize,
    pub batch_us: f64,
    /// The generated/hand pairs.
    pub fast: Budget,
    /// The num-dual and finite-difference pairs.
    pub slow: Budget,
}

impl Settings {
    pub fn from_env() -> Settings {
        let filters = std::env::args()
            .skip(1)
            .filter(|a| !a.starts_with('-'))
            .collect();
        let rounds: usize = env_or("MATDIFF_ROUNDS", 1000);
        let slow_ms: u64 = env_or("MATDIFF_SLOW_MS", 1000);
        Settings {
            filters,
            rounds,
            batch_us: env_or("MATDIFF_BATCH_US", 20.0),
            fast: Budget {
                rounds,
                min_rounds: rounds.min(50),
                max_time: std::time::Duration::from_secs(5),
            },
            slow: Budget {
                rounds: 200,
                min_rounds: 3,
                max_time: std::time::Duration::from_millis(slow_ms),
            },
        }
    }

    /// Whether the workload `id` is selected.
    pub fn selects(&self, id: &str) -> bool {
        self.filters.is_empty() || self.filters.iter().any(|f| id.contains(f.as_str()))
    }

    /// The line above a table: what was measured, when, where and how.
    pub fn preamble(&self, what: &str) -> String {
        format!(
            "matdiff paired {what}, {}, {}; release build, one thread; batches of ~{} µs, up to \
             {} alternating rounds per generated/hand pair; times are medians per call, ratios \
             medians of per-round ratios.",
            today(),
            machine(),
            self.batch_us,
            self.rounds
        )
    }
}
