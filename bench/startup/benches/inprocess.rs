//! The in-process parts of `mycli` start-up against the number of
//! installed plugins: reading the index, loading what one command needs
//! (through the start-up lookup), and building the command tree that
//! `--help` renders. Whole-process timings are `cargo xtask bench`.

use std::hint::black_box;
use std::path::Path;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use snapin::__private::Index;
use snapin_bench::{cli, command_name, home, host};

const SIZES: &[usize] = &[0, 10, 100, 1_000, 10_000];

/// A home of `n` synthetic plugins plus one more, whose command the
/// lookups ask for (so there is one at N=0 too), with the start-up lookup
/// already built, as after the first run following an install.
fn prepared(n: usize) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    home(dir.path(), n + 1).expect("writing the synthetic index");
    let wanted = command_name(n);
    let argv = ["mycli", wanted.as_str()];
    let app = host(dir.path()).load_from(cli(), argv);
    assert!(
        app.outcomes().iter().any(|o| o.status.as_str() == "ok"),
        "the synthetic plugin {wanted} loads"
    );
    (dir, wanted)
}

fn index_load(c: &mut Criterion) {
    let mut group = c.benchmark_group("index_load");
    for &n in SIZES {
        let (dir, _) = prepared(n);
        let index = dir.path().join("plugins.json");
        group.bench_with_input(
            BenchmarkId::from_parameter(n),
            &index,
            |b, index: &std::path::PathBuf| {
                b.iter(|| Index::load(black_box(index)).expect("the index loads"))
            },
        );
    }
    group.finish();
}

fn load_one_command(c: &mut Criterion) {
    let mut group = c.benchmark_group("load_one_command");
    for &n in SIZES {
        let (dir, wanted) = prepared(n);
        let root: &Path = dir.path();
        group.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter(|| {
                let app = host(root).load_from(cli(), ["mycli", wanted.as_str(), "item"]);
                black_box(app.command().get_subcommands().count())
            })
        });
    }
    group.finish();
}

fn help_tree(c: &mut Criterion) {
    let mut group = c.benchmark_group("help_tree");
    for &n in SIZES {
        let (dir, _) = prepared(n);
        let root: &Path = dir.path();
        group.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter(|| {
                let app = host(root).load_from(cli(), ["mycli", "--help"]);
                black_box(app.command().clone().render_help().to_string().len())
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = index_load, load_one_command, help_tree
}
criterion_main!(benches);
