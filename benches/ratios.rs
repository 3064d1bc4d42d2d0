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

#[cfg(feature = "nalgebra_v0_34")]
compile_error!(
    "the benchmarks compare against num-dual, which is built on nalgebra 0.35: run them without \
     the features nalgebra_v0_34, levenberg-marquardt and argmin"
);

mod paired;
mod workloads;

use std::hint::black_box;
use std::time::Instant;

use paired::{fmt_ratio, fmt_time, paired, Pair, Settings};

use matdiff::runtime::Rng;
use workloads::{check, visit_all, Visitor, Workload, SEED};

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
    settings: Settings,
    rows: Vec<Row>,
}

impl Visitor for Runner {
    fn visit<W: Workload>(&mut self) {
        if !self.settings.selects(W::ID) {
            return;
        }
        let w = W::new(&mut Rng::new(SEED));
        let agreement = check(&w);
        eprintln!("{:<20} columns agree: {agreement:?}", W::NAME);
        let w = &w;
        let (fast, slow) = (self.settings.fast, self.settings.slow);
        let batch = self.settings.batch_us * 1e3;
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

fn main() {
    let mut runner = Runner {
        settings: Settings::from_env(),
        rows: Vec::new(),
    };
    let start = Instant::now();
    visit_all(&mut runner);

    println!();
    println!("{}", runner.settings.preamble("ratios"));
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
