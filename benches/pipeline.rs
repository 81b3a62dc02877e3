//! Criterion benchmarks of each stage, in memory: parse, check (parse and
//! every rule, building the platform), and render (per target and all) at
//! 28 services (the root platform), 1,000 and 10,000 generated services.
//!
//! `cargo bench` measures them all; `cargo bench --bench pipeline -- --test`
//! (what CI runs) runs each once, so they keep compiling and working
//! without costing minutes.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use platgen::render::{Engine, Options, Target};
use platgen::source::SourceFile;

/// The allocator the binary uses, so that the stages cost here what they
/// cost there.
#[global_allocator]
static ALLOCATOR: platgen::memory::Allocator = platgen::memory::Allocator;

#[allow(dead_code)]
#[path = "../examples/gen-spec.rs"]
mod gen_spec;

fn specs() -> Vec<(String, SourceFile)> {
    let root = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/platform.yaml"))
        .expect("the root platform.yaml");
    let mut out = vec![("28".to_owned(), SourceFile::new("platform.yaml", root))];
    for n in [1_000, 10_000] {
        out.push((
            n.to_string(),
            SourceFile::new("platform.yaml", gen_spec::spec(n)),
        ));
    }
    out
}

fn stages(c: &mut Criterion) {
    let specs = specs();
    let engine = Engine::new(None);
    let mut parse = c.benchmark_group("parse");
    parse.sample_size(10);
    for (n, source) in &specs {
        parse.bench_with_input(BenchmarkId::from_parameter(n), source, |b, s| {
            b.iter(|| platgen::spec::parse(s));
        });
    }
    parse.finish();

    let mut check = c.benchmark_group("check");
    check.sample_size(10);
    for (n, source) in &specs {
        check.bench_with_input(BenchmarkId::from_parameter(n), source, |b, s| {
            b.iter(|| platgen::check::check(s));
        });
    }
    check.finish();

    let mut render = c.benchmark_group("render");
    render.sample_size(10);
    for (n, source) in &specs {
        let platform = platgen::check::check(source)
            .platform
            .expect("the spec checks clean");
        let mut targets: Vec<(&str, Vec<Target>)> =
            Target::ALL.iter().map(|t| (t.name(), vec![*t])).collect();
        targets.push(("all", Target::ALL.to_vec()));
        for (name, targets) in targets {
            let options = Options {
                spec_name: "platform.yaml".into(),
                targets,
            };
            render.bench_with_input(BenchmarkId::new(name, n), &platform, |b, p| {
                b.iter(|| platgen::render::render(p, &engine, &options).expect("renders"));
            });
        }
    }
    render.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
