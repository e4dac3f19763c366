//! Classification speed and model memory.
//!
//! `cargo bench -p hotline-router --bench classify`. Trains on the train split of the TipDM
//! 2020 C data (`../shared/data/appeals/tipdm2020c/labeled.csv`), or loads the model file named
//! by `HOTLINE_MODEL`, then classifies the test split's letters over and over on one thread:
//! classifications per second on one core, p50/p99/max latency of one classification (the whole
//! of `Model::predict`: normalisation, jieba, n-grams, TF-IDF, scores, calibrated sorted
//! probabilities), and the model's size on disk and estimated size in memory. Without the data
//! it says so and measures a model trained on synthetic letters instead.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use hotline_router::model::{self, Example, Model, Silent, Split, TrainOptions};

fn data_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/appeals/tipdm2020c/labeled.csv")
}

fn synthetic() -> (Vec<Example>, Vec<String>) {
    let topics = [
        ("城乡建设", ["小区", "物业", "路灯", "施工", "拆迁"]),
        ("劳动和社会保障", ["工资", "社保", "养老", "拖欠", "合同"]),
        ("教育文体", ["学校", "老师", "学生", "补课", "招生"]),
        ("环境保护", ["污染", "排放", "噪音", "垃圾", "污水"]),
    ];
    let mut train = Vec::new();
    let mut texts = Vec::new();
    for i in 0..400 {
        let (label, words) = topics[i % topics.len()];
        let text = format!(
            "关于{}的问题\n我们{}附近的{}问题已经很久了，{}一直没有解决，请有关部门尽快处理{}。",
            words[i % 5],
            words[(i + 1) % 5],
            words[(i + 2) % 5],
            words[(i + 3) % 5],
            i
        );
        texts.push(text.clone());
        train.push(Example::new(text, label));
    }
    (train, texts)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = data_file();
    let (model, texts) = if path.exists() {
        let rows = model::read_labeled_csv(&path)?;
        let texts: Vec<String> = model::data::examples(&rows, Split::Test)
            .into_iter()
            .map(|e| e.text)
            .collect();
        let model = match std::env::var_os("HOTLINE_MODEL") {
            Some(file) => Model::load(Path::new(&file))?,
            None => {
                let train = model::data::examples(&rows, Split::Train);
                let started = Instant::now();
                let m = model::train(&train, &TrainOptions::default(), &Silent)?;
                println!(
                    "trained on {} letters in {:.1} s",
                    train.len(),
                    started.elapsed().as_secs_f64()
                );
                m
            }
        };
        (model, texts)
    } else {
        println!(
            "{} is absent: measuring a model trained on synthetic letters",
            path.display()
        );
        let (train, texts) = synthetic();
        let options = TrainOptions {
            min_df: 1,
            ..TrainOptions::default()
        };
        (model::train(&train, &options, &Silent)?, texts)
    };
    let chars: usize = texts.iter().map(|t| t.chars().count()).sum();
    println!(
        "{} letters to classify, {:.0} characters on average",
        texts.len(),
        chars as f64 / texts.len().max(1) as f64
    );

    // Warm up, then measure for at least 5 s on this one thread.
    for t in texts.iter().take(200) {
        std::hint::black_box(model.predict(t));
    }
    let mut hist = Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3)?;
    let started = Instant::now();
    let mut n = 0u64;
    while started.elapsed() < Duration::from_secs(5) || n < texts.len() as u64 {
        for t in &texts {
            let t0 = Instant::now();
            let p = model.predict(t);
            let ns = t0.elapsed().as_nanos() as u64;
            std::hint::black_box(p);
            hist.record(ns.max(1))?;
            n += 1;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let us = |q: f64| hist.value_at_quantile(q) as f64 / 1000.0;
    println!("classifications: {n} in {elapsed:.2} s on 1 thread");
    println!(
        "throughput: {:.0} classifications/s/core",
        n as f64 / elapsed
    );
    println!(
        "latency: p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs",
        us(0.5),
        us(0.99),
        hist.max() as f64 / 1000.0
    );
    let bytes = model.to_bytes().len();
    println!(
        "model: {} labels, {} features; file {:.1} MiB; in memory ≈ {:.1} MiB (+ the jieba dictionary)",
        model.labels().len(),
        model.features(),
        bytes as f64 / 1048576.0,
        model.memory_bytes() as f64 / 1048576.0
    );
    Ok(())
}
