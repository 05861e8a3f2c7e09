//! The `probe` command line: argument definitions, dispatch, exit codes.
//!
//! `main.rs` only calls [`main`]. Each subcommand lives in its own file and
//! returns `Result<ExitCode, CliError>`; errors are printed here with their
//! whole cause chain.
//!
//! Exit codes (sysexits where one fits):
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success |
//! | 1 | the command ran but its outcome is a failure (a probe not filed, a classify input unreadable) |
//! | 2 | wrong usage (unknown flag, missing argument, no such probe or message for `relabel`, `review --confirm` or `attach`) |
//! | 69 | a service we need is unavailable (the store is busy, another daemon runs) |
//! | 74 | an I/O error (state directory, files) |
//! | 78 | the configuration is invalid |
//! | 130 | interrupted (Ctrl-C during `probe run --wait`) |

mod check;
mod classify;
mod control;
mod demo;
mod digest;
mod logging;
mod output;
mod report;
mod review;
mod run;
mod show;
pub mod wiring;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::channel::ChannelError;
use crate::config::{ConfigErrors, SecretError};
use crate::daemon::DaemonError;
use crate::demo::DemoError;
use crate::digest::DigestError;
use crate::engine::EngineError;
use crate::schedule::CronError;
use crate::store::StoreError;

pub use output::Format;

/// Exit code: the outcome is a failure.
pub const EX_FAILURE: u8 = 1;
/// Exit code: a needed service is unavailable.
pub const EX_UNAVAILABLE: u8 = 69;
/// Exit code: I/O error.
pub const EX_IOERR: u8 = 74;
/// Exit code: invalid configuration.
pub const EX_CONFIG: u8 = 78;
/// Exit code: interrupted.
pub const EX_INTERRUPTED: u8 = 130;

/// support-probe: files synthetic support tickets to vendors on a schedule
/// and measures how long a human takes to answer.
#[derive(Debug, Parser)]
#[command(
    name = "probe",
    version,
    about,
    max_term_width = 100,
    after_help = "Exit codes and more: `probe --help` (or `man probe`).",
    after_long_help = "\
Exit codes:
  0    success
  1    the command ran but its outcome is a failure (a probe not filed, a classify input unreadable)
  2    wrong usage (unknown flag, missing argument, no such probe or message to act on)
  69   a service we need is unavailable (the store is busy, another daemon runs)
  74   an I/O error (state directory, files)
  78   the configuration is invalid (or a secret it names cannot be read)
  130  interrupted (Ctrl-C during `probe run --wait`)
  141  (in a shell) the reader of the output went away, as in `probe report | head`

Errors are printed as `error: ...` followed by each `caused by: ...`.
Configuration errors name their place as file:line:col; `probe check` lists them all.
Logs go to stderr, results to stdout. The user's guide is the README; every config key,
command and metric is described under docs/ (the Debian package installs both in
/usr/share/doc/support-probe)."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every subcommand takes.
#[derive(Debug, Args)]
pub struct Global {
    /// The configuration file.
    #[arg(
        long,
        global = true,
        env = "PROBE_CONFIG",
        default_value = "probes.toml"
    )]
    pub config: PathBuf,
    /// Where the store lives [default: $STATE_DIRECTORY, the config's
    /// daemon.state-dir, $XDG_STATE_HOME/support-probe or ~/.local/state/support-probe].
    #[arg(long, global = true, env = "PROBE_STATE_DIR")]
    pub state_dir: Option<PathBuf>,
    /// Output format.
    #[arg(long, global = true, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// More log output (-v: debug, -vv: trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,
    /// Only errors in the log output.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Log as JSON lines (for log shippers); the same as --log-format json.
    #[arg(long, global = true)]
    pub log_json: bool,
    /// Log format: auto (journal-friendly under systemd, coloured on a
    /// terminal), text, journal (no colours, no timestamps) or json.
    #[arg(long, global = true, value_enum, default_value_t = logging::LogFormat::Auto)]
    pub log_format: logging::LogFormat,
    /// Colours in the log output: auto (on a terminal, unless NO_COLOR is
    /// set), always or never.
    #[arg(long, global = true, value_enum, default_value_t = logging::Color::Auto)]
    pub color: logging::Color,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// File probes now (respecting the caps); with --wait, follow them live.
    Run(run::RunArgs),
    /// Run schedules and watchers until SIGTERM or Ctrl-C; SIGHUP re-reads the config.
    Daemon,
    /// Pending probes and the latest readings per vendor.
    Status,
    /// The timeline of one probe.
    Show {
        /// Probe id (as printed by `run` and `status`).
        probe: String,
    },
    /// Validate the configuration and print the next fire of each probe.
    Check,
    /// Upcoming fire instants, from the config or for one expression.
    Schedule(check::ScheduleArgs),
    /// Classify raw messages offline (.eml files), to debug a reading.
    Classify(classify::ClassifyArgs),
    /// Correct the class of a recorded message, or one judged trait of a
    /// human reply (personal=no, templated=yes, ...); readings use the correction.
    Relabel {
        /// Probe id.
        probe: String,
        /// Message key or Message-ID, as `probe show` prints it.
        message: String,
        /// human, ack, out-of-office, bounce, delay or automated; or
        /// TRAIT=yes|no with TRAIT one of personal, templated, specific,
        /// asks-back, answers.
        class: String,
    },
    /// The messages a person should look at: classifications marked unsure
    /// and replies that matched no probe (--confirm PROBE MESSAGE confirms a class).
    Review(review::ReviewArgs),
    /// Tie a reply that matched no probe (see `probe review`) to its probe.
    Attach {
        /// The unmatched message's key, as `probe review` prints it.
        message: String,
        /// Probe id.
        probe: String,
    },
    /// Settle an uncertain probe: did the vendor receive it?
    Resolve {
        /// Probe id.
        probe: String,
        /// What you found out.
        #[arg(value_enum)]
        outcome: ResolveOutcome,
    },
    /// Run the real pipeline against simulated helpdesks: two weeks in seconds.
    Demo(demo::DemoArgs),
    /// Stop filing to one vendor (or, without VENDOR, to every vendor), also in a running daemon.
    Pause(control::PauseArgs),
    /// Lift a pause of one vendor (or, without VENDOR, every pause).
    Resume(control::ResumeArgs),
    /// Figures per vendor and window for a period (--format table, json or csv).
    Report(report::ReportArgs),
    /// The weekly digest email: preview it to a file, or send it now.
    Digest(digest::DigestArgs),
    /// Print the shell completion script for bash, zsh, fish, elvish or powershell.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), e.g. `probe man > probe.1`.
    Man,
}

/// The answer to an uncertain filing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ResolveOutcome {
    /// The vendor has it: wait for replies (the clock starts at the send attempt).
    Filed,
    /// The vendor never got it.
    NotFiled,
}

/// Everything a subcommand can fail with.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Config(ConfigErrors),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Daemon(#[from] DaemonError),
    #[error("{0}")]
    Usage(String),
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    /// A password or token the config points at cannot be read.
    #[error("{what}: {source}")]
    Secret {
        what: String,
        #[source]
        source: SecretError,
    },
    /// A channel cannot be built from the config (e.g. its CA file).
    #[error(transparent)]
    Channel(#[from] ChannelError),
    /// A probe's schedule does not parse.
    #[error("probe {probe}: {source}")]
    Schedule {
        probe: String,
        #[source]
        source: Box<CronError>,
    },
    /// The weekly digest cannot be composed or sent.
    #[error(transparent)]
    Digest(#[from] DigestError),
    /// The demo failed.
    #[error(transparent)]
    Demo(#[from] DemoError),
    /// A probe's message cannot be composed from the config.
    #[error("{0}")]
    Compose(String),
}

impl CliError {
    fn exit_code(&self) -> u8 {
        match self {
            // What the config asks for cannot be had: 78, like an invalid
            // file. An unreadable [metrics] secret is a mailbox password's kin.
            CliError::Config(_)
            | CliError::Secret { .. }
            | CliError::Channel(_)
            | CliError::Schedule { .. }
            | CliError::Compose(_)
            | CliError::Demo(DemoError::Config(_))
            | CliError::Daemon(DaemonError::MetricsCredentials(_)) => EX_CONFIG,
            CliError::Digest(e) => digest_exit_code(e),
            CliError::Demo(DemoError::Digest(e)) => digest_exit_code(e),
            CliError::Demo(DemoError::ExistingStore(_)) | CliError::Usage(_) => 2,
            CliError::Store(e) | CliError::Demo(DemoError::Store(e)) => store_exit_code(e),
            CliError::Daemon(DaemonError::AlreadyRunning { .. }) => EX_UNAVAILABLE,
            CliError::Io { .. } => EX_IOERR,
            _ => EX_FAILURE,
        }
    }
}

fn store_exit_code(e: &StoreError) -> u8 {
    match e {
        StoreError::Busy { .. } => EX_UNAVAILABLE,
        StoreError::CreateDir { .. } => EX_IOERR,
        _ => EX_FAILURE,
    }
}

/// A bad week is a usage error; a digest the config cannot send (no
/// `[digest]`, no SMTP, an unreadable password, a refused address) is 78.
fn digest_exit_code(e: &DigestError) -> u8 {
    match e {
        DigestError::Period(_) => 2,
        DigestError::Store(s) => store_exit_code(s),
        DigestError::NotConfigured
        | DigestError::NotEmail(_)
        | DigestError::Secret { .. }
        | DigestError::Compose(_) => EX_CONFIG,
    }
}

/// Parses the command line, runs the command, returns the exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if prints_only(&cli.command) {
        restore_default_sigpipe();
    }
    init_logging(&cli.global, matches!(cli.command, Command::Daemon));
    // One crypto provider for the whole process (ring); see ARCHITECTURE.md.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(EX_FAILURE);
        }
    };
    match runtime.block_on(dispatch(cli)) {
        Ok(code) => code,
        Err(e) => {
            let mut printed = e.to_string();
            eprintln!("error: {printed}");
            let mut source = std::error::Error::source(&e);
            while let Some(cause) = source {
                // Many messages already include their cause; say it once.
                let text = cause.to_string();
                if !printed.contains(&text) {
                    eprintln!("  caused by: {text}");
                    printed.push_str(&text);
                }
                source = cause.source();
            }
            ExitCode::from(e.exit_code())
        }
    }
}

/// Commands that only read and print (no network, no store writes that
/// matter): their output may go to a pipe that closes early.
fn prints_only(command: &Command) -> bool {
    matches!(
        command,
        Command::Status
            | Command::Show { .. }
            | Command::Check
            | Command::Schedule(_)
            | Command::Classify(_)
            | Command::Review(_)
            | Command::Report(_)
            | Command::Demo(_)
            | Command::Completions { .. }
            | Command::Man
    )
}

/// Lets `probe report | head` end quietly, as Unix tools do, instead of
/// panicking in `println!` on a closed pipe. Only for [`prints_only`]
/// commands: a command that talks to a server keeps Rust's default (SIGPIPE
/// ignored, a broken connection is an error to record, not a sudden death).
fn restore_default_sigpipe() {
    // SAFETY: called once at start-up, before the runtime or any other
    // thread exists; SIG_DFL is a valid disposition for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

async fn dispatch(cli: Cli) -> Result<ExitCode, CliError> {
    let g = &cli.global;
    if g.format == Format::Csv && !matches!(cli.command, Command::Report(_)) {
        return Err(CliError::Usage(
            "--format csv is only for probe report".into(),
        ));
    }
    match cli.command {
        Command::Run(args) => run::run(g, args).await,
        Command::Daemon => run::daemon(g).await,
        Command::Status => show::status(g),
        Command::Show { probe } => show::show(g, &probe),
        Command::Check => check::check(g),
        Command::Schedule(args) => check::schedule(g, args),
        Command::Classify(args) => classify::classify(g, args),
        Command::Relabel {
            probe,
            message,
            class,
        } => classify::relabel(g, &probe, &message, &class),
        Command::Review(args) => review::review(g, args),
        Command::Attach { message, probe } => review::attach(g, &message, &probe),
        Command::Resolve { probe, outcome } => show::resolve(g, &probe, outcome),
        Command::Demo(args) => demo::demo(g, args).await,
        Command::Pause(args) => control::pause(g, args),
        Command::Resume(args) => control::resume(g, args),
        Command::Report(args) => report::report(g, args),
        Command::Digest(args) => digest::digest(g, args).await,
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "probe", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
        Command::Man => {
            let cmd = <Cli as clap::CommandFactory>::command();
            let mut out = Vec::new();
            clap_mangen::Man::new(cmd)
                .render(&mut out)
                .map_err(|source| CliError::Io {
                    what: "cannot render the manual page".into(),
                    source,
                })?;
            std::io::Write::write_all(&mut std::io::stdout(), &out).map_err(|source| {
                CliError::Io {
                    what: "cannot write the manual page".into(),
                    source,
                }
            })?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn init_logging(g: &Global, daemon: bool) {
    logging::init(g, daemon);
}
