//! The command line, mirroring runc's flags and defaults. Each command file holds its clap
//! arguments and a handler that makes one call into the core.

mod checkpoint;
mod create;
mod delete;
mod doctor;
mod events;
mod exec;
mod features;
mod kill;
mod list;
mod pause;
mod ps;
mod run;
mod spec;
mod start;
mod state;
mod update;

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use skiff::logging::{Level, Logger};
use skiff::state::StateStore;

/// The `--log-format` values.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormatArg {
    /// logrus text lines.
    Text,
    /// logrus JSON lines.
    Json,
}

/// skiff: an OCI container runtime, runc-compatible.
#[derive(Debug, Parser)]
#[command(
    name = "skiff",
    disable_version_flag = true,
    about = "an Open Container Initiative runtime",
    // A flag given twice takes its last value, as with runc's parser (podman passes
    // `--leave-running` twice to `checkpoint`).
    args_override_self = true,
    long_about = "skiff - an Open Container Initiative runtime, runc-compatible.\n\nskiff runs containers from OCI bundles. A bundle is a directory holding the container's root filesystem and its config.json (runtime-spec 1.3); `skiff spec` writes a default one, and --bundle (default: the current directory) names it to create and run. Each container keeps its state under --root, so every command works across separate invocations, as with runc."
)]
pub struct Cli {
    /// Root directory for storage of container state (this should be located in tmpfs);
    /// default /run/skiff, or $XDG_RUNTIME_DIR/skiff when rootless.
    #[arg(long, global = true)]
    pub root: Option<PathBuf>,
    /// Set the log file to write runtime logs to (default is stderr).
    #[arg(long, global = true)]
    pub log: Option<PathBuf>,
    /// Set the log format ('text' (default), or 'json').
    #[arg(long, global = true, value_enum, default_value = "text")]
    pub log_format: LogFormatArg,
    /// Enable debug logging.
    #[arg(long, global = true)]
    pub debug: bool,
    /// Enable systemd cgroup support: a container's cgroup is a systemd transient unit.
    #[arg(long, global = true)]
    pub systemd_cgroup: bool,
    /// Ignore cgroup permission errors ('true', 'false', or 'auto').
    #[arg(long, value_name = "VALUE")]
    pub rootless: Option<String>,
    /// Path to the criu binary used for checkpoint and restore (default: criu on PATH).
    #[arg(long, global = true, value_name = "PATH")]
    pub criu: Option<String>,
    /// Print the version.
    #[arg(short = 'v', long)]
    pub version: bool,
    /// The command.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The commands. Each one's arguments are built only when it is the one invoked (`defer`):
/// most of clap's start-up is building argument lists, and every invocation pays it.
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum Command {
    /// Create a new specification file.
    Spec(spec::SpecArgs),
    /// Create a container.
    Create(create::CreateArgs),
    /// Execute the user defined process in a created container.
    Start(start::StartArgs),
    /// Create and run a container.
    Run(run::RunArgs),
    /// Output the state of a container.
    State(state::StateArgs),
    /// Send the specified signal (default: SIGTERM) to the container's init process.
    Kill(kill::KillArgs),
    /// Delete any resources held by the container.
    Delete(delete::DeleteArgs),
    /// List containers started by skiff with the given root.
    List(list::ListArgs),
    /// Suspend all processes inside the container.
    Pause(pause::PauseArgs),
    /// Resume all processes that have been previously paused.
    Resume(pause::PauseArgs),
    /// Display the processes running inside a container.
    Ps(ps::PsArgs),
    /// Update container resource constraints.
    Update(update::UpdateArgs),
    /// Display container events such as OOM notifications and resource statistics.
    Events(events::EventsArgs),
    /// Execute a new process inside the container.
    Exec(exec::ExecArgs),
    /// Show the enabled features (the runtime-spec features document).
    Features(features::FeaturesArgs),
    /// Report what this host gives a container runtime, and what each missing piece means.
    Doctor(doctor::DoctorArgs),
    /// Checkpoint a running container (CRIU).
    Checkpoint(checkpoint::CheckpointArgs),
    /// Restore a container from a previous checkpoint (CRIU).
    Restore(checkpoint::RestoreArgs),
}

impl Command {
    /// The command's name, as on the command line.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Spec(_) => "spec",
            Command::Create(_) => "create",
            Command::Start(_) => "start",
            Command::Run(_) => "run",
            Command::State(_) => "state",
            Command::Kill(_) => "kill",
            Command::Delete(_) => "delete",
            Command::List(_) => "list",
            Command::Pause(_) => "pause",
            Command::Resume(_) => "resume",
            Command::Ps(_) => "ps",
            Command::Update(_) => "update",
            Command::Events(_) => "events",
            Command::Exec(_) => "exec",
            Command::Features(_) => "features",
            Command::Doctor(_) => "doctor",
            Command::Checkpoint(_) => "checkpoint",
            Command::Restore(_) => "restore",
        }
    }
}

/// What every handler gets.
#[derive(Debug)]
pub struct Context {
    /// The state store under `--root`.
    pub store: StateStore,
    /// `--root` was given (not the default one).
    pub root_given: bool,
    /// The log.
    pub logger: Logger,
    /// `--systemd-cgroup`: new containers get a systemd unit as their cgroup.
    pub systemd_cgroup: bool,
    /// Running rootless (`--rootless`, or detected).
    pub rootless: bool,
    /// `--criu`: the criu binary.
    pub criu: Option<String>,
    /// `--debug`'s phase timing of this command (off without `--debug`).
    pub clock: std::cell::RefCell<skiff::phases::PhaseClock>,
    /// What keeps skiff's binary from a container's writes (found before dispatch).
    pub binary: skiff::sys::exe_seal::BinarySeal,
}

impl Context {
    /// Log at debug level.
    pub fn debug(&self, message: &str) {
        self.logger.log(Level::Debug, message);
    }

    /// End the current phase of this command (`--debug` phase timing).
    pub fn lap(&self, phase: &str) {
        self.clock.borrow_mut().lap(phase);
    }

    /// Log warnings the core returned (failed poststart/poststop hooks).
    pub fn warn_all(&self, warnings: &[String]) {
        for warning in warnings {
            self.logger.log(Level::Warning, warning);
        }
    }
}

/// The core reports to the log and the phase clock through the context.
impl skiff::trace::Trace for Context {
    fn debug(&self, line: std::fmt::Arguments<'_>) {
        if self.logger.is_debug() {
            self.logger.log(Level::Debug, &line.to_string());
        }
    }

    fn warn(&self, line: &str) {
        self.logger.log(Level::Warning, line);
    }

    fn lap(&self, phase: &str) {
        Context::lap(self, phase);
    }

    fn timing(&self) -> bool {
        self.clock.borrow().is_on()
    }

    fn add_laps(&self, who: &str, laps: &[(String, u64)]) {
        self.clock.borrow_mut().add_wire(who, laps);
    }
}

/// Socket activation (sd_listen_fds): the number of fds from 3 handed to this process, when
/// `LISTEN_PID` names it, as runc reads them.
pub fn listen_fds() -> u32 {
    let for_us = std::env::var("LISTEN_PID").ok().and_then(|p| p.parse::<u32>().ok()) == Some(std::process::id());
    if !for_us {
        return 0;
    }
    std::env::var("LISTEN_FDS").ok().and_then(|n| n.parse().ok()).unwrap_or(0)
}

/// Where a WebAssembly container's handler is looked for: beside this binary as it was
/// invoked, then in `PATH`.
pub fn wasm_handler_search() -> skiff::wasm::HandlerSearch {
    skiff::wasm::HandlerSearch { invoked: std::env::args_os().next().map(std::path::PathBuf::from), path: std::env::var_os("PATH") }
}

/// Run the command; the result is skiff's exit status. With `--debug`, the last debug line
/// says how long each phase took.
/// A failure of init's setup under `create` or `run` (`command`), led by runc's words with
/// this binary's name ("runc run failed: unable to start container process: ..."), which
/// callers of a runc-compatible runtime match; other errors are returned as they are.
pub fn init_failure_as_runc_words(command: &str) -> impl Fn(skiff::container::ContainerError) -> anyhow::Error + '_ {
    move |error| {
        if !error.is_init_failure() {
            return error.into();
        }
        let program = std::env::args_os().next().map(std::path::PathBuf::from);
        let name = program.as_deref().and_then(std::path::Path::file_name).map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "skiff".into());
        anyhow::anyhow!("{name} {command} failed: {error}")
    }
}

pub fn dispatch(command: Command, context: &Context) -> anyhow::Result<i32> {
    let name = command.name();
    let result = run_command(command, context);
    context.lap(name);
    if let Some(line) = context.clock.borrow().report(name) {
        context.debug(&line);
    }
    result
}

fn run_command(command: Command, context: &Context) -> anyhow::Result<i32> {
    match command {
        Command::Spec(args) => spec::run(args),
        Command::Create(args) => create::run(args, context),
        Command::Start(args) => start::run(args, context),
        Command::Run(args) => run::run(args, context),
        Command::State(args) => state::run(args, context),
        Command::Kill(args) => kill::run(args, context),
        Command::Delete(args) => delete::run(args, context),
        Command::List(args) => list::run(args, context),
        Command::Pause(args) => pause::run_pause(args, context),
        Command::Resume(args) => pause::run_resume(args, context),
        Command::Ps(args) => ps::run(args, context),
        Command::Update(args) => update::run(args, context),
        Command::Events(args) => events::run(args, context),
        Command::Exec(args) => exec::run(args, context),
        Command::Features(args) => features::run(args),
        Command::Doctor(args) => doctor::run(args, context),
        Command::Checkpoint(args) => checkpoint::run_checkpoint(args, context.criu.as_deref(), context),
        Command::Restore(args) => checkpoint::run_restore(args, context.criu.as_deref(), context),
    }
}
