//! Criterion benchmarks: composing the sample document (every channel, and each channel
//! alone) and parsing a
//! 1 MB living document. Run with `cargo bench -p halcytone-content`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::fixed_now;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use halcytone_content::{Channel, ComposeOptions, Templates, compose, parse};
use std::hint::black_box;

const SAMPLE: &str = include_str!("../../../samples/living-document.md");

/// The sample's sections repeated until the text is at least 1 MiB.
fn one_megabyte_document() -> String {
    let body = SAMPLE.find("\n## ").map_or(SAMPLE, |i| &SAMPLE[i..]);
    let mut doc = String::from("# Large living document\n");
    let mut n = 0;
    while doc.len() < 1 << 20 {
        doc.push_str(&body.replace("### ", &format!("### [{n}] ")));
        n += 1;
    }
    doc
}

fn benches(c: &mut Criterion) {
    let templates = Templates::defaults();
    let opts = ComposeOptions::new(fixed_now());
    let doc = match parse(SAMPLE, None) {
        Ok(d) => d,
        Err(e) => panic!("sample must parse: {e}"),
    };
    c.bench_function("compose_sample_all_channels", |b| {
        b.iter(|| compose(black_box(&doc), &opts, &templates))
    });
    // Each channel alone: which one a preview's time goes to.
    let mut group = c.benchmark_group("compose_sample_channel");
    for channel in Channel::ALL {
        let mut one = ComposeOptions::new(fixed_now());
        one.channels = vec![channel];
        group.bench_function(channel.as_str(), |b| {
            b.iter(|| compose(black_box(&doc), &one, &templates))
        });
    }
    group.finish();
    c.bench_function("parse_sample", |b| {
        b.iter(|| parse(black_box(SAMPLE), None))
    });

    let big = one_megabyte_document();
    let mut group = c.benchmark_group("parse_1mb");
    group.throughput(Throughput::Bytes(big.len() as u64));
    group.sample_size(30);
    group.bench_function("markdown", |b| b.iter(|| parse(black_box(&big), None)));
    group.finish();
}

criterion_group!(compose_benches, benches);
criterion_main!(compose_benches);
