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

use clap::{Parser, ValueEnum};
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
    // Nothing above a subcommand is required, so this changes no parse; it spares clap
    // working out the parent's required usage each time it enters a subcommand.
    subcommand_negates_reqs = true,
    // (which would also make the usage line two; runc's one line, as before)
    override_usage = "skiff [OPTIONS] [COMMAND]",
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
    /// The command: added by [`command_tree`] and read by [`parse`], not by the derive.
    #[arg(skip)]
    pub command: Option<Command>,
}

/// The command tree that parses: `globals` (the top command, [`Cli`]'s) with `invoked`, the
/// subcommand named on the command line (from [`subcommand`], its arguments already added),
/// alone; without one, every subcommand (for help, a misspelt name's suggestions, the man
/// pages). clap copies each global flag into every subcommand it holds and works through
/// them all at each parse: with one, that is one copy each instead of eighteen.
pub fn command_tree(globals: clap::Command, invoked: Option<clap::Command>) -> clap::Command {
    match invoked {
        Some(invoked) => globals.subcommand(invoked),
        None => COMMANDS.iter().fold(globals, |top, entry| top.subcommand(entry.deferred())),
    }
}

/// The whole tree: every subcommand, each built when clap enters it.
pub fn full_tree() -> clap::Command {
    command_tree(<Cli as clap::CommandFactory>::command(), None)
}

/// Parse `args` with `tree` (from [`command_tree`]).
pub fn parse(tree: &mut clap::Command, args: &[std::ffi::OsString]) -> Result<Cli, clap::Error> {
    use clap::FromArgMatches;
    let mut matches = tree.try_get_matches_from_mut(args)?;
    let mut cli = Cli::from_arg_matches_mut(&mut matches)?;
    if matches.subcommand_name().is_some() {
        cli.command = Some(Command::from_arg_matches_mut(&mut matches)?);
    }
    Ok(cli)
}

/// The commands, one variant per subcommand; [`COMMANDS`] gives each its name and help line.
#[derive(Debug)]
pub enum Command {
    /// `skiff spec`.
    Spec(spec::SpecArgs),
    /// `skiff create`.
    Create(create::CreateArgs),
    /// `skiff start`.
    Start(start::StartArgs),
    /// `skiff run`.
    Run(run::RunArgs),
    /// `skiff state`.
    State(state::StateArgs),
    /// `skiff kill`.
    Kill(kill::KillArgs),
    /// `skiff delete`.
    Delete(delete::DeleteArgs),
    /// `skiff list`.
    List(list::ListArgs),
    /// `skiff pause`.
    Pause(pause::PauseArgs),
    /// `skiff resume`.
    Resume(pause::PauseArgs),
    /// `skiff ps`.
    Ps(ps::PsArgs),
    /// `skiff update`.
    Update(update::UpdateArgs),
    /// `skiff events`.
    Events(events::EventsArgs),
    /// `skiff exec`.
    Exec(exec::ExecArgs),
    /// `skiff features`.
    Features(features::FeaturesArgs),
    /// `skiff doctor`.
    Doctor(doctor::DoctorArgs),
    /// `skiff checkpoint`.
    Checkpoint(checkpoint::CheckpointArgs),
    /// `skiff restore`.
    Restore(checkpoint::RestoreArgs),
}

/// One subcommand as clap lists it: its name, its help line, what adds its arguments, and
/// what makes its [`Command`] of clap's matches.
struct CommandEntry {
    name: &'static str,
    about: &'static str,
    args: fn(clap::Command) -> clap::Command,
    parse: fn(&mut clap::ArgMatches) -> Result<Command, clap::Error>,
}

impl CommandEntry {
    /// The subcommand, its arguments built only when clap enters it (`defer`).
    fn deferred(&self) -> clap::Command {
        clap::Command::new(self.name).about(self.about).defer(self.args)
    }
}

/// The table's entry for subcommand `name`.
fn entry(name: &str) -> Option<&'static CommandEntry> {
    COMMANDS.iter().find(|entry| entry.name == name)
}

/// Every subcommand, in `--help`'s order. A table walked by one loop, not clap's derive:
/// the derive registers each subcommand with its own inlined builder calls, 15 KB of code
/// that every invocation runs once, and an emulator (the systemd VM's TCG) translates
/// again for every process.
static COMMANDS: [CommandEntry; 18] = {
    use clap::Args as A;
    use clap::FromArgMatches as F;
    const fn entry(
        name: &'static str,
        about: &'static str,
        args: fn(clap::Command) -> clap::Command,
        parse: fn(&mut clap::ArgMatches) -> Result<Command, clap::Error>,
    ) -> CommandEntry {
        CommandEntry { name, about, args, parse }
    }
    [
        entry("spec", "Create a new specification file", spec::SpecArgs::augment_args, |m| Ok(Command::Spec(F::from_arg_matches_mut(m)?))),
        entry("create", "Create a container", create::CreateArgs::augment_args, |m| Ok(Command::Create(F::from_arg_matches_mut(m)?))),
        entry("start", "Execute the user defined process in a created container", start::StartArgs::augment_args, |m| {
            Ok(Command::Start(F::from_arg_matches_mut(m)?))
        }),
        entry("run", "Create and run a container", run::RunArgs::augment_args, |m| Ok(Command::Run(F::from_arg_matches_mut(m)?))),
        entry("state", "Output the state of a container", state::StateArgs::augment_args, |m| Ok(Command::State(F::from_arg_matches_mut(m)?))),
        entry("kill", "Send the specified signal (default: SIGTERM) to the container's init process", kill::KillArgs::augment_args, |m| {
            Ok(Command::Kill(F::from_arg_matches_mut(m)?))
        }),
        entry("delete", "Delete any resources held by the container", delete::DeleteArgs::augment_args, |m| Ok(Command::Delete(F::from_arg_matches_mut(m)?))),
        entry("list", "List containers started by skiff with the given root", list::ListArgs::augment_args, |m| Ok(Command::List(F::from_arg_matches_mut(m)?))),
        entry("pause", "Suspend all processes inside the container", pause::PauseArgs::augment_args, |m| Ok(Command::Pause(F::from_arg_matches_mut(m)?))),
        entry("resume", "Resume all processes that have been previously paused", pause::PauseArgs::augment_args, |m| {
            Ok(Command::Resume(F::from_arg_matches_mut(m)?))
        }),
        entry("ps", "Display the processes running inside a container", ps::PsArgs::augment_args, |m| Ok(Command::Ps(F::from_arg_matches_mut(m)?))),
        entry("update", "Update container resource constraints", update::UpdateArgs::augment_args, |m| Ok(Command::Update(F::from_arg_matches_mut(m)?))),
        entry("events", "Display container events such as OOM notifications and resource statistics", events::EventsArgs::augment_args, |m| {
            Ok(Command::Events(F::from_arg_matches_mut(m)?))
        }),
        entry("exec", "Execute a new process inside the container", exec::ExecArgs::augment_args, |m| Ok(Command::Exec(F::from_arg_matches_mut(m)?))),
        entry("features", "Show the enabled features (the runtime-spec features document)", features::FeaturesArgs::augment_args, |m| {
            Ok(Command::Features(F::from_arg_matches_mut(m)?))
        }),
        entry("doctor", "Report what this host gives a container runtime, and what each missing piece means", doctor::DoctorArgs::augment_args, |m| {
            Ok(Command::Doctor(F::from_arg_matches_mut(m)?))
        }),
        entry("checkpoint", "Checkpoint a running container (CRIU)", checkpoint::CheckpointArgs::augment_args, |m| {
            Ok(Command::Checkpoint(F::from_arg_matches_mut(m)?))
        }),
        entry("restore", "Restore a container from a previous checkpoint (CRIU)", checkpoint::RestoreArgs::augment_args, |m| {
            Ok(Command::Restore(F::from_arg_matches_mut(m)?))
        }),
    ]
};

/// Subcommand `name` with its help line and its arguments added, unbuilt (its flags can be
/// read off before clap parses); `None` for a name that is no subcommand.
pub fn subcommand(name: &str) -> Option<clap::Command> {
    entry(name).map(|entry| (entry.args)(clap::Command::new(entry.name).about(entry.about)))
}

impl clap::FromArgMatches for Command {
    fn from_arg_matches(matches: &clap::ArgMatches) -> Result<Self, clap::Error> {
        Self::from_arg_matches_mut(&mut matches.clone())
    }

    fn update_from_arg_matches(&mut self, matches: &clap::ArgMatches) -> Result<(), clap::Error> {
        self.update_from_arg_matches_mut(&mut matches.clone())
    }

    fn from_arg_matches_mut(matches: &mut clap::ArgMatches) -> Result<Self, clap::Error> {
        let Some((name, mut sub)) = matches.remove_subcommand() else {
            return Err(clap::Error::raw(clap::error::ErrorKind::MissingSubcommand, "a subcommand is required\n"));
        };
        match entry(&name) {
            Some(entry) => (entry.parse)(&mut sub),
            None => Err(clap::Error::raw(clap::error::ErrorKind::InvalidSubcommand, format!("unrecognized subcommand '{name}'\n"))),
        }
    }

    fn update_from_arg_matches_mut(&mut self, matches: &mut clap::ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches_mut(matches)?;
        Ok(())
    }
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
