//! Paired ratios for Jacobians (issue 10, item 7): for every residual of
//! `jacobian_workloads/`, the generated `*_value_and_jacobian` against a hand-written value and
//! Jacobian, num-dual's vector duals and central finite differences against the same, each
//! pair alternated in short rounds in one process (the method of `ratios.rs`, in `paired/`).
//!
//! `cargo bench --bench jacobians` prints the markdown table of the README. Arguments that do
//! not start with `-` filter the workloads by id (`rat43`, `arm`, `reprojection`, `curve`).
//! Environment: `MATDIFF_ROUNDS` (rounds of the generated/hand pairs, default 1000),
//! `MATDIFF_BATCH_US` (batch length, default 20), `MATDIFF_SLOW_MS` (time budget of each
//! num-dual or finite-difference pair, default 1000).

#[cfg(feature = "nalgebra_v0_34")]
compile_error!(
    "the benchmarks compare against num-dual, which is built on nalgebra 0.35: run them without \
     the features nalgebra_v0_34, levenberg-marquardt and argmin"
);

mod jacobian_workloads;
mod paired;

use std::hint::black_box;
use std::time::Instant;

use jacobian_workloads::{check, visit_all, JacWorkload, Visitor, SEED};
use matdiff::runtime::Rng;
use paired::{fmt_ratio, fmt_time, paired, Pair, Settings};

/// One line of the table.
struct Row {
    name: &'static str,
    /// Parameters (the width of the Jacobian).
    n: usize,
    /// generated v+J against the residual alone.
    gen_vs_f: Pair,
    /// hand-written v+J against the residual alone.
    hand_vs_f: Pair,
    /// generated v+J against hand-written v+J.
    vj: Pair,
    /// generated `_jacobian` (no value returned) against hand-written v+J.
    j: Pair,
    /// num-dual v+J against hand-written v+J.
    nd: Pair,
    /// finite-difference Jacobian against hand-written v+J.
    fd: Pair,
}

/// Runs every pair of every selected workload.
struct Runner {
    settings: Settings,
    rows: Vec<Row>,
}

impl Visitor for Runner {
    fn visit<const M: usize, const N: usize, W: JacWorkload<M, N>>(&mut self) {
        if !self.settings.selects(W::ID) {
            return;
        }
        let w = W::new(&mut Rng::new(SEED));
        let agreement = check(&w);
        eprintln!("{:<48} columns agree: {agreement:?}", W::NAME);
        let w = &w;
        let (fast, slow) = (self.settings.fast, self.settings.slow);
        let batch = self.settings.batch_us * 1e3;
        let vj = paired(
            || black_box(w).gen_vj(),
            || black_box(w).hand_vj(),
            batch,
            fast,
        );
        let j = paired(
            || black_box(w).gen_j(),
            || black_box(w).hand_vj(),
            batch,
            fast,
        );
        let gen_vs_f = paired(|| black_box(w).gen_vj(), || black_box(w).f(), batch, fast);
        let hand_vs_f = paired(|| black_box(w).hand_vj(), || black_box(w).f(), batch, fast);
        let nd = paired(
            || black_box(w).nd_vj(),
            || black_box(w).hand_vj(),
            batch,
            slow,
        );
        let fd = paired(
            || black_box(w).fd_j(),
            || black_box(w).hand_vj(),
            batch,
            slow,
        );
        eprintln!(
            "{:<48} gen/hand v+J {:.3}, num-dual/hand {:.3}",
            W::NAME,
            vj.ratio,
            nd.ratio
        );
        self.rows.push(Row {
            name: W::NAME,
            n: N,
            gen_vs_f,
            hand_vs_f,
            vj,
            j,
            nd,
            fd,
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
    println!("{}", runner.settings.preamble("Jacobian ratios"));
    println!();
    println!(
        "| residual | f alone | gen v+J | hand v+J | **gen/hand v+J** | gen J / hand v+J \
         | gen v+J / f | hand v+J / f | num-dual v+J / hand | FD J / hand |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in &runner.rows {
        println!(
            "| {} | {} | {} | {} | **{}** | {} | {} | {} | {} | {} |",
            r.name,
            fmt_time(r.gen_vs_f.b_ns),
            fmt_time(r.vj.a_ns),
            fmt_time(r.vj.b_ns),
            fmt_ratio(r.vj.ratio),
            fmt_ratio(r.j.ratio),
            fmt_ratio(r.gen_vs_f.ratio),
            fmt_ratio(r.hand_vs_f.ratio),
            fmt_ratio(r.nd.ratio),
            fmt_ratio(r.fd.ratio),
        );
    }
    println!();
    println!("Spread (10th–90th percentile of the per-round ratios, rounds):");
    println!();
    println!(
        "| residual | gen/hand v+J | gen J / hand v+J | num-dual v+J / hand (`DualSVec64<N>`) |"
    );
    println!("|---|---|---|---|");
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
            "| {} | {} | {} | {}, N = {} |",
            r.name,
            spread(&r.vj),
            spread(&r.j),
            spread(&r.nd),
            r.n
        );
    }
    println!();
    eprintln!("jacobians: {:.1} s", start.elapsed().as_secs_f64());
}
