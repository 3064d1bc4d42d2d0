//! Criterion timings of every column of every workload (issue 5): the function alone, the
//! generated `*_value_and_grad` and `*_hvp`, the hand-written value+gradient and HVP, num-dual
//! and central finite differences. Benchmark ids are `<workload>/<column>`, e.g.
//! `quad10/gen_vg`; `cargo bench --bench columns -- quad10/` runs one workload.
//!
//! Measurement and warm-up times are short (0.5 s and 0.2 s per benchmark) so the whole run
//! takes a couple of minutes on 2 cores; the ratios that count come from `benches/ratios.rs`.

#[cfg(feature = "nalgebra_v0_34")]
compile_error!(
    "the benchmarks compare against num-dual, which is built on nalgebra 0.35: run them without \
     the features nalgebra_v0_34, levenberg-marquardt and argmin"
);

mod workloads;

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode};
use matdiff::runtime::Rng;
use workloads::{check, visit_all, Visitor, Workload, SEED};

/// Registers the benchmarks of each workload with criterion.
struct Register<'a> {
    c: &'a mut Criterion,
}

impl Visitor for Register<'_> {
    fn visit<W: Workload>(&mut self) {
        let w = W::new(&mut Rng::new(SEED));
        check(&w);
        let w = &w;
        let mut g = self.c.benchmark_group(W::ID);
        g.bench_function("f", |b| b.iter(|| black_box(w).f()));
        g.bench_function("gen_vg", |b| b.iter(|| black_box(w).gen_vg()));
        g.bench_function("hand_vg", |b| b.iter(|| black_box(w).hand_vg()));
        g.bench_function("gen_hvp", |b| b.iter(|| black_box(w).gen_hvp()));
        g.bench_function("hand_hvp", |b| b.iter(|| black_box(w).hand_hvp()));
        // The runtime-AD and finite-difference columns can take milliseconds per call: flat
        // sampling keeps them within the time budget.
        g.sampling_mode(SamplingMode::Flat);
        g.sample_size(10);
        g.bench_function("numdual_vg", |b| b.iter(|| black_box(w).nd_vg()));
        g.bench_function("numdual_hvp", |b| b.iter(|| black_box(w).nd_hvp()));
        g.bench_function("fd_grad", |b| b.iter(|| black_box(w).fd_grad()));
        g.bench_function("fd_hvp", |b| b.iter(|| black_box(w).fd_hvp()));
        g.finish();
    }
}

/// Every workload, every column.
fn all_columns(c: &mut Criterion) {
    visit_all(&mut Register { c });
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .measurement_time(Duration::from_millis(500))
        .warm_up_time(Duration::from_millis(200))
        .sample_size(30);
    targets = all_columns
}
criterion_main!(benches);
