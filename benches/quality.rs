//! The reply evidence's cost per message (issue 11, BENCHMARKS.md): `judge`
//! — new text, language detection, MinHash signature and similarity against
//! other replies, and every trait — over the human answers of
//! `tests/fixtures/lang/` (18 languages), on the release build.
//!
//! Each round judges every fixture once, comparing it with the signatures
//! of all the others (as the engine does with a vendor's replies to other
//! probes); the first round warms the lazily compiled phrases. Settings:
//! `BENCH_ROUNDS` (default 200).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)]
#[path = "../tests/kit/mod.rs"]
mod kit;

use std::path::Path;
use std::time::Instant;

use support_probe::classify::parse;
use support_probe::quality::{Judge, judge, signature, similarity};

const BENCH: &str = "quality";

fn main() {
    if !kit::bench::measuring(BENCH) {
        return;
    }
    let rounds: usize = std::env::var("BENCH_ROUNDS")
        .ok()
        .map_or(200, |s| s.parse().expect("BENCH_ROUNDS: a count"));
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lang");
    let mut facts = Vec::new();
    for lang in std::fs::read_dir(&dir).unwrap().filter_map(Result::ok) {
        if !lang.path().is_dir() {
            continue;
        }
        for f in std::fs::read_dir(lang.path())
            .unwrap()
            .filter_map(Result::ok)
        {
            if f.file_name().to_string_lossy().starts_with("human--") {
                facts.push(parse(&std::fs::read(f.path()).unwrap()));
            }
        }
    }
    let others: Vec<(String, Vec<u32>)> = facts
        .iter()
        .enumerate()
        .map(|(i, f)| (format!("probe-{i}"), signature(&f.body_text)))
        .collect();
    let expect = vec![r"status\.example\.(com|test)".to_string()];
    let run = |facts: &[support_probe::classify::MessageFacts]| {
        let mut templated = 0usize;
        for f in facts {
            let q = judge(
                f,
                &Judge {
                    persona_name: "Dana Lee",
                    vendor: "Vendor",
                    detail: Some("ETag 5f1c-a"),
                    expect: &expect,
                    others: &others,
                },
            );
            templated += usize::from(q.templated.is_some_and(|t| t.value));
        }
        templated
    };
    run(&facts); // warm up: phrases and regexes compile on first use
    let start = Instant::now();
    let mut sink = 0;
    for _ in 0..rounds {
        sink += run(&facts);
    }
    let per = start.elapsed().as_secs_f64() / (rounds * facts.len()) as f64;
    // Similarity alone: one reply against a vendor's 1,000 others.
    let a = signature(&facts[0].body_text);
    let many: Vec<Vec<u32>> = (0..1000)
        .map(|i| others[i % others.len()].1.clone())
        .collect();
    let start = Instant::now();
    let mut best = 0.0f64;
    for _ in 0..rounds {
        for b in &many {
            best = best.max(similarity(&a, b));
        }
    }
    let sim = start.elapsed().as_secs_f64() / (rounds * many.len()) as f64;
    println!(
        "{BENCH}: {} human fixtures x {rounds} rounds, each compared with {} others",
        facts.len(),
        others.len()
    );
    println!("{BENCH}: judge, mean per message: {:.1} µs", per * 1e6);
    println!("{BENCH}: similarity, mean per pair: {:.1} ns", sim * 1e9);
    println!("{BENCH}: (templated hits {sink}, best {best:.2})");
}
