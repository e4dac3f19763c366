//! `hotline train` and `hotline eval`: train the appeal classifier from labelled CSV files, and
//! measure it honestly on a held-out split.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context as _;
use clap::Args;
use hotline_router::model::{
    self, BarProgress, Evaluation, Example, LabeledRow, Model, Split, TrainOptions,
};

/// `hotline train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// A labelled CSV file (a `label` column and `text`, or `title` and `body`); repeatable.
    #[arg(long = "data")]
    pub data: Vec<PathBuf>,
    /// Also train on the configured taxonomy's example appeals (labels: matter codes).
    #[arg(long)]
    pub taxonomy: bool,
    /// Also train on the dispatchers' corrections that name a matter, from the configured
    /// database.
    #[arg(long)]
    pub corrections: bool,
    /// Where to write the model file.
    #[arg(long)]
    pub out: PathBuf,
    /// Which rows to train on: all, train or test (see `split`/`source` columns).
    #[arg(long, default_value = "all")]
    pub split: Split,
    /// Worker threads (0: one per core).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Overrides a training option, `PATH=VALUE` over the fields of `TrainOptions` (JSON
    /// values: `svm_c=0.5`, `text.char_ngrams=4`, `members.cnb=false`); repeatable.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<String>,
}

/// `hotline eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// A labelled CSV file with a train and a test split; repeatable.
    #[arg(long = "data", required = true)]
    pub data: Vec<PathBuf>,
    /// The split to evaluate on; the model is trained on the other one.
    #[arg(long, default_value = "test")]
    pub split: Split,
    /// Also write the model trained for the evaluation here.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Worker threads (0: one per core).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Instead of training on the other split: k-fold cross-validation of the recipe inside
    /// `--split` alone (how the recipe is chosen: `--split train --folds 5`).
    #[arg(long)]
    pub folds: Option<usize>,
    /// The seed of the cross-validation's folds.
    #[arg(long, default_value_t = 1)]
    pub fold_seed: u64,
    /// Overrides a training option, as for `hotline train`; repeatable.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<String>,
}

fn read(paths: &[PathBuf]) -> anyhow::Result<Vec<LabeledRow>> {
    let mut rows = Vec::new();
    for p in paths {
        rows.extend(model::read_labeled_csv(p)?);
    }
    Ok(rows)
}

/// The default options with `threads` and each `PATH=VALUE` override applied.
fn options(threads: usize, set: &[String]) -> anyhow::Result<TrainOptions> {
    let defaults = TrainOptions {
        threads,
        ..TrainOptions::default()
    };
    Ok(defaults.with_overrides(set)?)
}

fn fit(examples: &[Example], options: &TrainOptions) -> anyhow::Result<Model> {
    let progress = BarProgress::new();
    Ok(model::train(examples, options, &progress)?)
}

fn print_training(model: &Model, seconds: f64) {
    let r = model.report();
    println!(
        "trained on {} examples, {} labels, {} features in {seconds:.1} s",
        r.examples,
        model.labels().len(),
        r.features
    );
    if let (Some(acc), Some(f1)) = (r.cv_accuracy, r.cv_macro_f1) {
        println!(
            "{}-fold cross-validation inside the training data: accuracy {acc:.4}, macro-F1 {f1:.4}",
            r.folds
        );
        let members: Vec<String> = r
            .cv_members
            .iter()
            .map(|(name, f1)| format!("{name} {f1:.4}"))
            .collect();
        println!("  members alone (macro-F1): {}", members.join(", "));
    }
    println!("calibration temperature: {:.4}", r.temperature);
}

/// Trains on the chosen rows of every `--data` file, and on the taxonomy's examples and the
/// kept corrections when asked, and writes the model file.
pub async fn train(args: &TrainArgs, config: &hotline::Config) -> anyhow::Result<()> {
    let rows = read(&args.data)?;
    let mut examples = model::data::examples(&rows, args.split);
    if args.taxonomy {
        let taxonomy = hotline::taxonomy(config)?;
        let before = examples.len();
        examples.extend(
            taxonomy
                .examples()
                .map(|(text, matter)| Example::new(text, matter)),
        );
        println!("{} examples from the taxonomy", examples.len() - before);
    }
    if args.corrections {
        let store = hotline::open_store(config).await?;
        let before = examples.len();
        examples.extend(
            store
                .training_examples()
                .await?
                .into_iter()
                .filter_map(|c| Some(Example::new(c.text, c.matter?))),
        );
        println!(
            "{} examples from dispatchers' corrections",
            examples.len() - before
        );
    }
    anyhow::ensure!(
        !examples.is_empty(),
        "no examples: give --data files, --taxonomy or --corrections"
    );
    let started = Instant::now();
    let m = fit(&examples, &options(args.threads, &args.set)?)?;
    print_training(&m, started.elapsed().as_secs_f64());
    m.save(&args.out)
        .with_context(|| format!("writing {}", args.out.display()))?;
    println!("model written to {}", args.out.display());
    Ok(())
}

/// Trains on the rows outside `--split` and reports the quality on the rows inside it.
pub fn eval(args: &EvalArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let rows = read(&args.data)?;
    let options = options(args.threads, &args.set)?;
    if let Some(folds) = args.folds {
        return cross_validate(args, &rows, &options, folds, started);
    }
    let (train_split, eval_split) = match args.split {
        Split::Test => (Split::Train, Split::Test),
        Split::Train => (Split::Test, Split::Train),
        Split::All => {
            anyhow::bail!("evaluating on all rows would train on them too: use --split test")
        }
    };
    let train_set = model::data::examples(&rows, train_split);
    let eval_set = model::data::examples(&rows, eval_split);
    anyhow::ensure!(
        !train_set.is_empty() && !eval_set.is_empty(),
        "the data has {} training and {} evaluation rows: both are needed",
        train_set.len(),
        eval_set.len()
    );
    let m = fit(&train_set, &options)?;
    print_training(&m, started.elapsed().as_secs_f64());
    if let Some(out) = &args.out {
        m.save(out)
            .with_context(|| format!("writing {}", out.display()))?;
        println!("model written to {}", out.display());
    }
    let gold: Vec<&str> = eval_set.iter().map(|e| e.label.as_str()).collect();
    let predicted: Vec<String> = eval_set
        .iter()
        .map(|e| m.labels()[m.predict_index(&e.text)].clone())
        .collect();
    let predicted: Vec<&str> = predicted.iter().map(String::as_str).collect();
    let ev = Evaluation::from_names(&gold, &predicted);
    println!();
    println!(
        "evaluation on the {} split:",
        format!("{:?}", args.split).to_lowercase()
    );
    print!("{ev}");
    println!("wall time: {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// `hotline eval --folds K`: cross-validation of the recipe inside one split.
fn cross_validate(
    args: &EvalArgs,
    rows: &[LabeledRow],
    options: &TrainOptions,
    folds: usize,
    started: Instant,
) -> anyhow::Result<()> {
    anyhow::ensure!(folds >= 2, "--folds {folds}: at least 2");
    let set = model::data::examples(rows, args.split);
    anyhow::ensure!(!set.is_empty(), "the split holds no rows");
    let progress = BarProgress::new();
    let cv = model::cross_validate(&set, options, folds, args.fold_seed, &progress)?;
    let split = format!("{:?}", args.split).to_lowercase();
    println!(
        "{folds}-fold cross-validation inside the {split} split ({} letters, {} of them in a \
         fold with a near-duplicate), fold seed {}",
        set.len(),
        cv.grouped,
        args.fold_seed
    );
    for item in &args.set {
        println!("  option {item}");
    }
    let per_fold: Vec<String> = cv.fold_macro_f1.iter().map(|f| format!("{f:.4}")).collect();
    println!(
        "macro-F1 per fold: {}; mean {:.4} ± {:.4} (standard error)",
        per_fold.join(" "),
        cv.mean_macro_f1(),
        cv.stderr_macro_f1()
    );
    println!();
    println!("pooled held-out predictions:");
    print!("{}", cv.pooled);
    println!("wall time: {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}
