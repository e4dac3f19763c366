//! `hotline`: the 12345 hotline and appeal-routing platform.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use hotline::config::LogFormat;
use hotline::redact::{self, RedactingMakeWriter};
use hotline::{Config, Roles};
use hotline_schemas::{Actor, NewUser, Role, UserId};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;

mod ml;

#[derive(Parser)]
#[command(
    name = "hotline",
    version,
    about = "12345 government-service hotline and appeal routing"
)]
struct Cli {
    /// Configuration file (TOML); default: ./hotline.toml when present.
    #[arg(long, global = true, env = "HOTLINE_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the whole platform in one process (embedded mode by default).
    Serve,
    /// Run the HTTP gateway only (distributed mode).
    Gateway,
    /// Run the router only: classify and dispatch received appeals (needs RabbitMQ).
    Router,
    /// Run the worker only: the outbox relay and notifications (needs RabbitMQ).
    Worker,
    /// Apply the database migrations and exit.
    Migrate,
    /// Train the appeal classifier from labelled CSV files and write the model file.
    Train(ml::TrainArgs),
    /// Train on the train split and report accuracy, macro-F1 and the confusion matrix on
    /// the held-out split.
    Eval(ml::EvalArgs),
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Manage the platform's users (staff).
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user; prints the new user's id as the last line.
    Add {
        /// The display name, recorded as the actor of the user's events.
        #[arg(long)]
        name: String,
        #[arg(long, value_enum)]
        role: StaffRole,
        /// The unit of a `unit` user.
        #[arg(long)]
        unit: Option<String>,
        /// A unit a leader or supervisor is in charge of (分管); may be repeated.
        #[arg(long = "in-charge-of", value_name = "CODE")]
        in_charge_of: Vec<String>,
        /// The user reads and handles confidential appeals (书记信箱).
        #[arg(long)]
        mailbox_reader: bool,
        /// The name they sign in to the console with.
        #[arg(long, requires = "password")]
        username: Option<String>,
        /// Read the user's console password from the first line of standard input (at least
        /// 10 characters; never on the command line, where other users of the host see it).
        #[arg(long, requires = "username")]
        password: bool,
    },
    /// Set a user's console password, read from the first line of standard input; their
    /// sessions end.
    SetPassword { id: UserId },
    /// List the users, oldest first: id, role, unit, in charge of, mailbox reader, state, name.
    List,
    /// Disable a user: their tokens are refused from the next request on.
    Disable { id: UserId },
    /// Enable a disabled user again.
    Enable { id: UserId },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Print a new token; the token is the last line of the output. With `--user` the token
    /// carries the user's record; with `--role` (tests, bootstrapping) what the options say.
    Issue {
        /// The user the token is for.
        #[arg(long, conflicts_with_all = ["role", "unit", "name", "mailbox_reader", "in_charge_of"], required_unless_present = "role")]
        user: Option<UserId>,
        #[arg(long, value_enum)]
        role: Option<StaffRole>,
        /// The unit of a `unit` token.
        #[arg(long)]
        unit: Option<String>,
        /// Recorded as the actor of the events the token causes.
        #[arg(long)]
        name: Option<String>,
        /// The holder reads and handles confidential appeals (书记信箱).
        #[arg(long)]
        mailbox_reader: bool,
        /// A unit a leader or supervisor is in charge of (分管); may be repeated.
        #[arg(long = "in-charge-of", value_name = "CODE")]
        in_charge_of: Vec<String>,
    },
    /// Revoke a token before it expires: it is refused from the next request on.
    Revoke {
        /// The token itself (as `token issue` printed it).
        token: String,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum StaffRole {
    Agent,
    Dispatcher,
    Unit,
    Supervisor,
    Leader,
    Admin,
}

impl From<StaffRole> for Role {
    fn from(r: StaffRole) -> Role {
        match r {
            StaffRole::Agent => Role::Agent,
            StaffRole::Dispatcher => Role::Dispatcher,
            StaffRole::Unit => Role::Unit,
            StaffRole::Supervisor => Role::Supervisor,
            StaffRole::Leader => Role::Leader,
            StaffRole::Admin => Role::Admin,
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Through the redactor too: an error may quote a URL with its password.
            let text = format!("Error: {e:?}");
            match redact::global() {
                Ok(r) => eprintln!("{}", r.redact(&text)),
                Err(_) => eprintln!("Error: {e}"),
            }
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::load(cli.config.as_deref())?;
    for secret in [&config.secret, &config.meili_key].into_iter().flatten() {
        redact::hide_secret(secret);
    }
    init_tracing(config.log_format)?;
    match cli.command {
        Command::Serve => serve(&config, Roles::ALL).await,
        Command::Gateway => serve(&config, Roles::GATEWAY).await,
        Command::Router => run_role(&config, Roles::ROUTER).await,
        Command::Worker => run_role(&config, Roles::WORKER).await,
        Command::Train(args) => ml::train(&args, &config).await,
        Command::Eval(args) => ml::eval(&args),
        Command::Migrate => {
            hotline::open_store(&config).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Token {
            command: TokenCommand::Issue { user: Some(id), .. },
        } => {
            let store = hotline::open_store(&config).await?;
            println!(
                "{}",
                hotline::people::issue_user_token(&config, store.as_ref(), id).await?
            );
            Ok(())
        }
        Command::Token {
            command:
                TokenCommand::Issue {
                    user: None,
                    role,
                    unit,
                    name,
                    mailbox_reader,
                    in_charge_of,
                },
        } => {
            let role = Role::from(role.context("--role or --user is needed")?);
            anyhow::ensure!(
                role != Role::Unit || unit.is_some(),
                "a unit token needs --unit CODE"
            );
            let actor = Actor {
                name: name.unwrap_or_else(|| role.as_str().to_owned()),
                role,
                unit: if role == Role::Unit {
                    unit.map(Into::into)
                } else {
                    None
                },
                appeal: None,
                user: None,
                in_charge_of: in_charge_of.into_iter().map(Into::into).collect(),
                mailbox_reader,
            };
            println!("{}", hotline::issue_token(&config, &actor)?);
            Ok(())
        }
        Command::Token {
            command: TokenCommand::Revoke { token },
        } => {
            let store = hotline::open_store(&config).await?;
            let id = hotline::people::revoke_token(&config, store.as_ref(), &token).await?;
            println!("revoked token {id}");
            Ok(())
        }
        Command::User { command } => user_command(&config, command).await,
    }
}

/// A password from the first line of standard input.
fn read_password() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

async fn user_command(config: &Config, command: UserCommand) -> anyhow::Result<()> {
    let store = hotline::open_store(config).await?;
    match command {
        UserCommand::Add {
            name,
            role,
            unit,
            in_charge_of,
            mailbox_reader,
            username,
            password,
        } => {
            let password = if password {
                Some(read_password()?)
            } else {
                None
            };
            let new = NewUser {
                name,
                username,
                role: role.into(),
                unit: unit.map(Into::into),
                in_charge_of: in_charge_of.into_iter().map(Into::into).collect(),
                mailbox_reader,
            };
            let user = hotline::people::add_user(config, store.as_ref(), new).await?;
            if let Some(password) = password {
                hotline::people::set_password(store.as_ref(), user.id, &password).await?;
            }
            println!("{}", user.id);
        }
        UserCommand::SetPassword { id } => {
            let password = read_password()?;
            hotline::people::set_password(store.as_ref(), id, &password).await?;
            println!("password set for user {id}; their sessions ended");
        }
        UserCommand::List => {
            for user in store.users().await? {
                let in_charge: Vec<&str> = user.in_charge_of.iter().map(|u| u.as_str()).collect();
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    user.id,
                    user.role,
                    user.unit.as_deref().unwrap_or("-"),
                    if in_charge.is_empty() {
                        "-".to_owned()
                    } else {
                        in_charge.join(",")
                    },
                    if user.mailbox_reader {
                        "mailbox-reader"
                    } else {
                        "-"
                    },
                    if user.disabled { "disabled" } else { "enabled" },
                    user.name,
                );
            }
        }
        UserCommand::Disable { id } => {
            hotline::people::set_user_disabled(store.as_ref(), id, true).await?;
            println!("disabled user {id}");
        }
        UserCommand::Enable { id } => {
            hotline::people::set_user_disabled(store.as_ref(), id, false).await?;
            println!("enabled user {id}");
        }
    }
    Ok(())
}

/// Runs `roles` with the HTTP gateway among them.
async fn serve(config: &Config, roles: Roles) -> anyhow::Result<()> {
    let listener = TcpListener::bind(config.http_addr)
        .await
        .with_context(|| format!("listening on {}", config.http_addr))?;
    hotline::run(config, roles, Some(listener), shutdown_token()).await
}

async fn run_role(config: &Config, roles: Roles) -> anyhow::Result<()> {
    hotline::run(config, roles, None, shutdown_token()).await
}

/// Cancelled on SIGTERM or Ctrl-C.
fn shutdown_token() -> CancellationToken {
    let token = CancellationToken::new();
    let trigger = token.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        trigger.cancel();
    });
    token
}

/// Logs to stderr, every line through the redactor (no token, secret or phone number).
fn init_tracing(format: LogFormat) -> anyhow::Result<()> {
    let filter = EnvFilter::try_from_env("HOTLINE_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,tower_http=info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(RedactingMakeWriter::new(std::io::stderr, redact::global()?));
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
    Ok(())
}

/// Completes on SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight work");
}
