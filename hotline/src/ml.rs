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
}

fn read(paths: &[PathBuf]) -> anyhow::Result<Vec<LabeledRow>> {
    let mut rows = Vec::new();
    for p in paths {
        rows.extend(model::read_labeled_csv(p)?);
    }
    Ok(rows)
}

fn fit(examples: &[Example], threads: usize) -> anyhow::Result<Model> {
    let options = TrainOptions {
        threads,
        ..TrainOptions::default()
    };
    let progress = BarProgress::new();
    Ok(model::train(examples, &options, &progress)?)
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
    let m = fit(&examples, args.threads)?;
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
    let m = fit(&train_set, args.threads)?;
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
