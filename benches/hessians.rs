//! Paired ratios for full Hessians (issue 10, item 7): for the workloads of `workloads/` whose
//! `wrt` has at most 16 entries, the generated `f_hessian` against a hand-written closed form
//! and num-dual's `hessian` (second-order vector duals, one pass), each pair alternated in
//! short rounds in one process (the method of `ratios.rs`, in `paired/`).
//!
//! `cargo bench --bench hessians` prints the markdown table of the README. Arguments that do
//! not start with `-` filter the workloads by id; the environment variables are those of
//! `ratios.rs`.

#[cfg(feature = "nalgebra_v0_34")]
compile_error!(
    "the benchmarks compare against num-dual, which is built on nalgebra 0.35: run them without \
     the features nalgebra_v0_34, levenberg-marquardt and argmin"
);

mod paired;
mod workloads;

use std::hint::black_box;

use matdiff::runtime::Rng;
use paired::{fmt_ratio, fmt_time, paired, Pair, Settings};
use workloads::hessians::{check_hessian, visit_hessians, HessVisitor, HessWorkload};
use workloads::SEED;

/// One line of the table: the workload, the Hessian's size, and its pairs.
struct Row {
    name: &'static str,
    n: usize,
    /// generated `f_hessian` against the closed form.
    hand: Pair,
    /// num-dual's `hessian` against the generated `f_hessian`.
    nd: Pair,
}

struct Runner {
    settings: Settings,
    rows: Vec<Row>,
}

impl HessVisitor for Runner {
    fn visit<const N: usize, W: HessWorkload<N>>(&mut self) {
        if !self.settings.selects(W::ID) {
            return;
        }
        let w = W::new(&mut Rng::new(SEED));
        eprintln!("{:<24} columns agree: {:?}", W::NAME, check_hessian(&w));
        let w = &w;
        let batch = self.settings.batch_us * 1e3;
        let hand = paired(
            || black_box(w).gen_h(),
            || black_box(w).hand_h(),
            batch,
            self.settings.fast,
        );
        let nd = paired(
            || black_box(w).nd_h(),
            || black_box(w).gen_h(),
            batch,
            self.settings.slow,
        );
        self.rows.push(Row {
            name: W::NAME,
            n: N,
            hand,
            nd,
        });
    }
}

fn main() {
    let mut runner = Runner {
        settings: Settings::from_env(),
        rows: Vec::new(),
    };
    visit_hessians(&mut runner);
    println!();
    println!("{}", runner.settings.preamble("Hessian ratios"));
    println!();
    println!("| workload | n | generated `f_hessian` | closed form | **gen/hand** | num-dual `hessian` / gen |");
    println!("|---|---:|---:|---:|---:|---:|");
    for r in &runner.rows {
        println!(
            "| {} | {} | {} | {} | **{}** | {} |",
            r.name,
            r.n,
            fmt_time(r.hand.a_ns),
            fmt_time(r.hand.b_ns),
            fmt_ratio(r.hand.ratio),
            fmt_ratio(r.nd.ratio),
        );
    }
}
