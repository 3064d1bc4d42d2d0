//! Paired ratio runner (issue 5): for every workload, in one process, alternates two columns
//! (e.g. generated and hand-written value+gradient) in many short rounds, each round timing a
//! batch of each side sized to about 20 µs, and reports the median of the per-round ratios.
//! Alternating the two sides round by round makes the ratio robust to the frequency changes
//! and neighbours' load of a small shared machine, which separate criterion runs are not.
//!
//! `cargo bench --bench ratios` prints the markdown table of the README. Arguments that do
//! not start with `-` filter the workloads by id (`quad10`, `mlp`, ...). Environment:
//! `MATDIFF_ROUNDS` (rounds of the generated/hand pairs, default 1000), `MATDIFF_BATCH_US`
//! (batch length, default 20), `MATDIFF_SLOW_MS` (time budget of each num-dual or
//! finite-difference pair, default 1000).

mod workloads;

use std::hint::black_box;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use matdiff::runtime::Rng;
use workloads::{check, visit_all, Visitor, Workload, SEED};

/// How long and how often to measure.
#[derive(Debug, Clone, Copy)]
struct Budget {
    /// Maximum number of rounds.
    rounds: usize,
    /// Minimum number of rounds, whatever the time.
    min_rounds: usize,
    /// Stop after this much time once `min_rounds` are done.
    max_time: Duration,
}

/// The result of a paired measurement of `a` against `b`.
#[derive(Debug, Clone, Copy)]
struct Pair {
    /// Median over rounds of `time(a) / time(b)` (per call).
    ratio: f64,
    /// 10th and 90th percentiles of the per-round ratios.
    spread: (f64, f64),
    /// Median time per call of `a`, in ns.
    a_ns: f64,
    /// Median time per call of `b`, in ns.
    b_ns: f64,
    /// Rounds measured.
    rounds: usize,
}

/// Nanoseconds taken by `n` calls of `f`.
#[inline(never)]
fn time_batch<R>(f: &mut impl FnMut() -> R, n: usize) -> f64 {
    let start = Instant::now();
    for _ in 0..n {
        black_box(f());
    }
    start.elapsed().as_nanos() as f64
}

/// Number of calls of `f` that take about `target_ns` (at least 1).
fn calibrate<R>(f: &mut impl FnMut() -> R, target_ns: f64) -> usize {
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
fn quantile(v: &mut [f64], q: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    let i = ((v.len() - 1) as f64 * q).round() as usize;
    v[i]
}

/// Times `a` against `b` in alternating rounds.
fn paired<RA, RB>(
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

/// One line of the table.
struct Row {
    name: &'static str,
    nd: &'static str,
    /// generated v+g against the function alone.
    gen_vs_f: Pair,
    /// hand-written v+g against the function alone.
    hand_vs_f: Pair,
    /// generated against hand-written value+gradient.
    vg: Pair,
    /// generated against hand-written HVP.
    hvp: Pair,
    /// num-dual v+g against hand-written v+g.
    nd_vg: Pair,
    /// num-dual HVP against hand-written HVP.
    nd_hvp: Pair,
    /// finite-difference gradient against hand-written v+g.
    fd_grad: Pair,
    /// finite-difference HVP against hand-written HVP.
    fd_hvp: Pair,
}

/// Runs every pair of every selected workload.
struct Runner {
    filters: Vec<String>,
    batch_ns: f64,
    fast: Budget,
    slow: Budget,
    rows: Vec<Row>,
}

impl Visitor for Runner {
    fn visit<W: Workload>(&mut self) {
        if !self.filters.is_empty() && !self.filters.iter().any(|f| W::ID.contains(f.as_str())) {
            return;
        }
        let w = W::new(&mut Rng::new(SEED));
        let agreement = check(&w);
        eprintln!("{:<20} columns agree: {agreement:?}", W::NAME);
        let w = &w;
        let (batch, fast, slow) = (self.batch_ns, self.fast, self.slow);
        let vg = paired(
            || black_box(w).gen_vg(),
            || black_box(w).hand_vg(),
            batch,
            fast,
        );
        let hvp = paired(
            || black_box(w).gen_hvp(),
            || black_box(w).hand_hvp(),
            batch,
            fast,
        );
        let gen_vs_f = paired(|| black_box(w).gen_vg(), || black_box(w).f(), batch, fast);
        let hand_vs_f = paired(|| black_box(w).hand_vg(), || black_box(w).f(), batch, fast);
        let nd_vg = paired(
            || black_box(w).nd_vg(),
            || black_box(w).hand_vg(),
            batch,
            slow,
        );
        let nd_hvp = paired(
            || black_box(w).nd_hvp(),
            || black_box(w).hand_hvp(),
            batch,
            slow,
        );
        let fd_grad = paired(
            || black_box(w).fd_grad(),
            || black_box(w).hand_vg(),
            batch,
            slow,
        );
        let fd_hvp = paired(
            || black_box(w).fd_hvp(),
            || black_box(w).hand_hvp(),
            batch,
            slow,
        );
        eprintln!(
            "{:<20} gen/hand v+g {:.3}, hvp {:.3}",
            W::NAME,
            vg.ratio,
            hvp.ratio
        );
        self.rows.push(Row {
            name: W::NAME,
            nd: W::ND,
            gen_vs_f,
            hand_vs_f,
            vg,
            hvp,
            nd_vg,
            nd_hvp,
            fd_grad,
            fd_hvp,
        });
    }
}

/// `ns` with a unit that keeps three significant digits.
fn fmt_time(ns: f64) -> String {
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
fn fmt_ratio(r: f64) -> String {
    if r < 10.0 {
        format!("{r:.2}")
    } else if r < 1000.0 {
        format!("{r:.0}")
    } else {
        format!("{:.0}", r.round())
    }
}

/// Today's date (UTC) as `YYYY-MM-DD`.
fn today() -> String {
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
fn machine() -> String {
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
fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let rounds: usize = env_or("MATDIFF_ROUNDS", 1000);
    let batch_us: f64 = env_or("MATDIFF_BATCH_US", 20.0);
    let slow_ms: u64 = env_or("MATDIFF_SLOW_MS", 1000);
    let mut runner = Runner {
        filters,
        batch_ns: batch_us * 1e3,
        fast: Budget {
            rounds,
            min_rounds: rounds.min(50),
            max_time: Duration::from_secs(5),
        },
        slow: Budget {
            rounds: 200,
            min_rounds: 3,
            max_time: Duration::from_millis(slow_ms),
        },
        rows: Vec::new(),
    };
    let start = Instant::now();
    visit_all(&mut runner);

    println!();
    println!(
        "matdiff paired ratios, {}, {}; release build, one thread; \
         batches of ~{batch_us} µs, up to {rounds} alternating rounds per generated/hand pair; \
         times are medians per call, ratios medians of per-round ratios.",
        today(),
        machine()
    );
    println!();
    println!(
        "| workload | f alone | gen v+g | hand v+g | **gen/hand v+g** | gen hvp | hand hvp \
         | **gen/hand hvp** | gen v+g / f | hand v+g / f | num-dual v+g / hand \
         | num-dual hvp / hand | FD grad / hand | FD hvp / hand |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in &runner.rows {
        println!(
            "| {} | {} | {} | {} | **{}** | {} | {} | **{}** | {} | {} | {} | {} | {} | {} |",
            r.name,
            fmt_time(r.gen_vs_f.b_ns),
            fmt_time(r.vg.a_ns),
            fmt_time(r.vg.b_ns),
            fmt_ratio(r.vg.ratio),
            fmt_time(r.hvp.a_ns),
            fmt_time(r.hvp.b_ns),
            fmt_ratio(r.hvp.ratio),
            fmt_ratio(r.gen_vs_f.ratio),
            fmt_ratio(r.hand_vs_f.ratio),
            fmt_ratio(r.nd_vg.ratio),
            fmt_ratio(r.nd_hvp.ratio),
            fmt_ratio(r.fd_grad.ratio),
            fmt_ratio(r.fd_hvp.ratio),
        );
    }
    println!();
    println!("Spread (10th–90th percentile of the per-round ratios, rounds) and num-dual mode:");
    println!();
    println!("| workload | gen/hand v+g | gen/hand hvp | gen v+g / f | num-dual v+g | num-dual hvp | num-dual mode |");
    println!("|---|---|---|---|---|---|---|");
    let spread = |p: &Pair| {
        format!(
            "{}–{} ({})",
            fmt_ratio(p.spread.0),
            fmt_ratio(p.spread.1),
            p.rounds
        )
    };
    for r in &runner.rows {
        println!(
            "| {} | {} | {} | {} | {} ({}) | {} ({}) | {} |",
            r.name,
            spread(&r.vg),
            spread(&r.hvp),
            spread(&r.gen_vs_f),
            fmt_time(r.nd_vg.a_ns),
            r.nd_vg.rounds,
            fmt_time(r.nd_hvp.a_ns),
            r.nd_hvp.rounds,
            r.nd
        );
    }
    println!();
    eprintln!("ratios: {:.1} s", start.elapsed().as_secs_f64());
}
