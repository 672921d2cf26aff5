//! Criterion benchmark: the whole pipeline a request pays for (parse, compose every channel,
//! validate) over one-line documents from 64 KiB to 4 MiB, in the shapes that once cost
//! quadratic time: words with no sentence end, nested brackets, freeform text and a JSON
//! document. Time should grow with size, not with its square: compare the 256 KiB and
//! 2 MiB figures (a ratio near 8). Run with `cargo bench -p halcytone-content --bench linear`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::fixed_now;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use halcytone_content::{ComposeOptions, Templates, compose, parse, validate};
use std::hint::black_box;
use std::time::Duration;

const WORDS: [&str; 12] = [
    "breathing",
    "sensor",
    "update",
    "calm",
    "the",
    "app",
    "device",
    "slow",
    "focus",
    "team",
    "vision",
    "future",
];

/// `len` bytes of words with no full stop anywhere.
fn words(len: usize) -> String {
    let mut out = String::with_capacity(len + 16);
    let mut i = 0;
    while out.len() < len {
        out.push_str(WORDS[(i * 7 + i / 3) % WORDS.len()]);
        out.push(' ');
        i += 1;
    }
    out
}

/// The shapes measured, each `len` bytes long on one line.
fn document(shape: &str, len: usize) -> String {
    match shape {
        "markdown_words" => format!(
            "# Notes\n\n## [Tips] Tips\n\n### One long item\n\n{}\n",
            words(len)
        ),
        "freeform_words" => format!("{}\n", words(len)),
        "nested_brackets" => {
            let half = len / 2;
            format!(
                "## [Tips] Tips\n\n### Brackets\n\n{}{}\n",
                "[".repeat(half),
                "]".repeat(half)
            )
        }
        "json_words" => serde_json::json!({
            "categories": { "tips": [{ "title": "One long item", "content": words(len) }] }
        })
        .to_string(),
        other => panic!("unknown shape {other}"),
    }
}

fn pipeline(c: &mut Criterion) {
    let now = fixed_now();
    let templates = Templates::defaults();
    let opts = ComposeOptions::new(now);
    let mut group = c.benchmark_group("generate_one_line");
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(3));
    for shape in [
        "markdown_words",
        "freeform_words",
        "nested_brackets",
        "json_words",
    ] {
        for kib in [64_usize, 256, 1024, 2048, 4096] {
            let text = document(shape, kib * 1024);
            group.throughput(Throughput::Bytes(text.len() as u64));
            group.bench_with_input(
                BenchmarkId::new(shape, format!("{kib}KiB")),
                &text,
                |b, text| {
                    b.iter(|| {
                        let doc = parse(black_box(text), None).unwrap();
                        let bundle = compose(&doc, &opts, &templates).unwrap();
                        validate(&doc, Some(&bundle), now)
                    })
                },
            );
        }
    }
    group.finish();
}

criterion_group!(linear, pipeline);
criterion_main!(linear);
