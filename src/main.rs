//! The `skiff` binary: parse the command line, set up logging, dispatch, and turn an error
//! into runc's exit status and log line.

// No unsafe code in the binary but its entry symbol: the system calls are the library's `sys`.
#![deny(unsafe_code)]
// skiff starts without Rust's runtime start-up (see `skiff::sys::startup`): `main` below is
// the C entry point.
#![cfg_attr(not(test), no_main)]

mod cli;

use std::path::PathBuf;

use skiff::logging::{Level, LogFormat, Logger};
use skiff::state::StateStore;
use skiff::sys::exe_seal::BinarySeal;

use cli::{Cli, Context, LogFormatArg};

/// The process's entry, called by glibc's start-up: skiff's own start-up, then the command.
/// Returning ends the process through `exit`, which flushes stdout as Rust's runtime would.
#[cfg(not(test))]
#[allow(unsafe_code)] // exporting the symbol `main` is the only unsafe thing here
#[unsafe(no_mangle)]
extern "C" fn main(_argc: std::ffi::c_int, _argv: *const *const std::ffi::c_char) -> std::ffi::c_int {
    skiff::sys::startup::prepare_process();
    run();
    std::process::exit(0)
}

/// Parse the command line, dispatch, and exit with the command's status.
#[cfg_attr(test, allow(dead_code))]
fn run() {
    // For --debug's phase timing (one vDSO clock read; nothing else happens when it is off).
    let began = std::time::Instant::now();
    // The global flags alone: they find the subcommand.
    let globals = <Cli as clap::CommandFactory>::command();
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // Commands that start processes in a container run from a read-only mount of skiff's
    // binary (CVE-2019-5736): re-executed first, before anything is opened or created, and
    // before clap parses (the re-executed process parses anyway). The subcommand is the first
    // operand past the global flags.
    let subcommand = invoked_subcommand(&args, &globals);
    let sealed = match subcommand.as_deref() {
        Some("create" | "run" | "exec") => skiff::sys::exe_seal::reexec_sealed(&args),
        _ => Ok(BinarySeal::Sealed),
    };
    // For a second try from a read-only mount (an immutable binary, and a container that may
    // clear the attribute): the arguments as given.
    let invoked_args = matches!(sealed, Ok(BinarySeal::Immutable)).then(|| args.clone());
    // The tree that parses holds the invoked subcommand alone, its arguments added (every
    // subcommand, unbuilt, when none is named): the rewrite below reads the flag names off it
    // before clap parses.
    let mut command = cli::command_tree(globals, subcommand.as_deref().and_then(cli::subcommand));
    let args = normalize_single_dash_flags(args, &flag_names(&command));
    let parsed = cli::parse(&mut command, &args);
    let cli = match parsed {
        Ok(cli) => cli,
        Err(error) => usage_error(error.with_cmd(&command), &args),
    };
    if cli.version {
        print_version();
        return;
    }
    // Before anything is opened here: the fds the container is to inherit must really be
    // the caller's, or an fd of skiff's own (the log file) would take their place.
    let missing_fds = cli.command.as_ref().map(inherited_fds).map(check_inherited_fds).unwrap_or(Ok(()));
    // Once, in the process that goes on (a re-executing one never returns here), before the
    // log file or anything else of skiff's is opened.
    if let (Ok(_), Some(command @ (cli::Command::Create(_) | cli::Command::Run(_)))) = (&sealed, cli.command.as_ref()) {
        skiff::sys::fds::note_stray_fds(inherited_fds(command));
    }
    let format = match cli.log_format {
        LogFormatArg::Text => LogFormat::Text,
        LogFormatArg::Json => LogFormat::Json,
    };
    let logger = match Logger::open(cli.log.as_deref(), format, cli.debug) {
        Ok(logger) => logger,
        Err(e) => {
            eprintln!("skiff: open log file {}: {e}", cli.log.as_deref().unwrap_or(std::path::Path::new("")).display());
            std::process::exit(1);
        }
    };
    let Some(command) = cli.command else {
        // Printing help to stdout cannot meaningfully fail.
        let _ = cli::full_tree().print_help();
        return;
    };
    // Only what needs it asks (a read of /proc/self/uid_map for root): the state root's
    // default, and the commands that make processes; `state`, `kill` and the rest of an
    // engine's calls with --root pay nothing.
    let needs_rootless = cli.root.is_none()
        || cli.rootless.is_some()
        || matches!(command, cli::Command::Create(_) | cli::Command::Run(_) | cli::Command::Exec(_) | cli::Command::Restore(_));
    let rootless = match needs_rootless.then(|| skiff::rootless::is_rootless(cli.rootless.as_deref())).transpose() {
        Ok(rootless) => rootless.unwrap_or(false),
        Err(error) => {
            logger.log(Level::Error, &error.to_string());
            std::process::exit(1);
        }
    };
    let default_root = PathBuf::from("/run/skiff");
    let root = match &cli.root {
        Some(root) => root.clone(),
        None if rootless => skiff::rootless::default_state_root(std::env::var("XDG_RUNTIME_DIR").ok().as_deref(), default_root),
        None => default_root,
    };
    let clock = std::cell::RefCell::new(skiff::phases::PhaseClock::started_at(cli.debug, began));
    let binary = match *sealed.as_ref().unwrap_or(&BinarySeal::Sealed) {
        // Not root, or root of a user namespace: skiff holds no CAP_LINUX_IMMUTABLE in the
        // initial user namespace, and its containers run in user namespaces of their own, so
        // no process it starts can clear the attribute. (Not `--rootless`: root may pass it.)
        BinarySeal::Immutable if !nix::unistd::geteuid().is_root() || skiff::rootless::in_user_namespace() => BinarySeal::Sealed,
        seal => seal,
    };
    let context = Context {
        store: StateStore::new(root),
        root_given: cli.root.is_some(),
        logger,
        systemd_cgroup: cli.systemd_cgroup,
        rootless,
        criu: cli.criu,
        clock,
        binary,
    };
    context.lap("command line");
    if binary == BinarySeal::Immutable {
        context.debug("skiff's binary is immutable: no re-exec from a read-only mount unless the process may hold CAP_LINUX_IMMUTABLE");
    }
    if cli.systemd_cgroup {
        context.debug("cgroup driver: systemd (a new container's cgroup is a transient unit)");
    }
    if rootless {
        context.debug(&format!("rootless (--rootless {}), state root {}", cli.rootless.as_deref().unwrap_or("auto"), context.store.root().display()));
    }
    // runc's exec exits 255 when the runtime fails, so a caller can tell that from the
    // process's own status; every other command exits 1.
    let is_exec = matches!(command, cli::Command::Exec(_));
    let result = missing_fds.and_then(|()| Ok(sealed.map(|_| ())?)).and_then(|()| cli::dispatch(command, &context));
    // Refused before anything was made: the same command again, from a read-only mount.
    let result = match (result, invoked_args) {
        (Err(error), Some(args)) if matches!(error.downcast_ref(), Some(skiff::container::ContainerError::NeedsReadOnlyBinary)) => {
            context.debug("the process may hold CAP_LINUX_IMMUTABLE: re-executing from a read-only mount of skiff's binary");
            match skiff::sys::exe_seal::reexec_from_read_only_mount(args, std::env::vars_os().collect()) {
                // (rootless, a binary this user cannot write: nothing to re-execute from)
                Ok(_) => Err(error),
                Err(failed) => Err(failed.into()),
            }
        }
        (result, _) => result,
    };
    let code = match result {
        Ok(code) => code,
        Err(error) => {
            // One line with the whole chain: containerd shows the last error line of the log.
            let message = if is_exec { format!("exec failed: {error:#}") } else { format!("{error:#}") };
            context.logger.log(Level::Error, &message);
            if !context.logger.is_stderr() {
                eprintln!("{message}");
            }
            if is_exec { 255 } else { 1 }
        }
    };
    std::process::exit(code);
}

/// runc's flag names as skiff's clap definitions have them, every command's: the long names
/// (which urfave/cli, runc's parser, also accepts with a single dash) and the names, long and
/// short, that take a value (so the next argument is not an operand). Read off the one
/// `clap::Command` that then parses, so the lists cannot drift from the definitions.
#[derive(Debug, Default)]
struct FlagNames<'a> {
    long: Vec<&'a str>,
    valued_long: Vec<&'a str>,
    valued_short: Vec<char>,
}

impl FlagNames<'_> {
    /// Whether flag `name` (long, or a one-letter short) takes a value.
    fn takes_value(&self, name: &str) -> bool {
        let mut chars = name.chars();
        match (chars.next(), chars.next()) {
            (Some(short), None) => self.valued_short.contains(&short),
            _ => self.valued_long.contains(&name),
        }
    }
}

fn flag_names(command: &clap::Command) -> FlagNames<'_> {
    fn visit<'a>(command: &'a clap::Command, names: &mut FlagNames<'a>) {
        for arg in command.get_arguments().filter(|a| !a.is_positional()) {
            let longs: Vec<&str> = arg.get_long().into_iter().chain(arg.get_all_aliases().unwrap_or_default()).collect();
            if arg.get_action().takes_values() {
                names.valued_long.extend(&longs);
                names.valued_short.extend(arg.get_short().into_iter().chain(arg.get_all_short_aliases().unwrap_or_default()));
            }
            names.long.extend(longs);
        }
        for sub in command.get_subcommands() {
            visit(sub, names);
        }
    }
    // clap adds --help itself when it builds the command.
    let mut names = FlagNames { long: vec!["help"], valued_long: Vec::new(), valued_short: Vec::new() };
    visit(command, &mut names);
    names
}

/// The subcommand named in `args`, found with the global flags of `command` (its
/// subcommands' arguments unbuilt): computed once, for the re-exec and the flag rewrite.
fn invoked_subcommand(args: &[std::ffi::OsString], command: &clap::Command) -> Option<String> {
    subcommand_name(args, &flag_names(command)).map(str::to_owned)
}

/// The subcommand named on the command line: the first operand, past the global flags (and
/// their values).
fn subcommand_name<'a>(args: &'a [std::ffi::OsString], globals: &FlagNames) -> Option<&'a str> {
    let mut skip_value = false;
    for arg in args.iter().skip(1) {
        if skip_value {
            // A flag's value may be any bytes (a path): never the subcommand.
            skip_value = false;
            continue;
        }
        let text = arg.to_str()?;
        if text.starts_with('-') && text != "-" {
            let name = text.trim_start_matches('-').split('=').next().unwrap_or("");
            skip_value = !text.contains('=') && globals.takes_value(name);
        } else {
            return Some(text);
        }
    }
    None
}

/// Rewrite `-root`, `-log-format=json`, ... (runc's long flags with one dash) to the
/// double-dash form before clap sees them. Like urfave/cli, stop at the command's operands:
/// after the subcommand and the container id everything is the container's (`exec ID find
/// -user 0`, `ps ID -ef`).
fn normalize_single_dash_flags(args: Vec<std::ffi::OsString>, flags: &FlagNames) -> Vec<std::ffi::OsString> {
    let mut out = Vec::with_capacity(args.len());
    let mut positionals = 0;
    let mut takes_value = false;
    for (index, arg) in args.into_iter().enumerate() {
        let text = arg.to_str().unwrap_or("");
        let flag_name = |t: &str| t.trim_start_matches('-').split('=').next().unwrap_or("").to_string();
        if index == 0 || positionals >= 2 || text == "--" {
            if text == "--" {
                positionals = 2;
            }
            out.push(arg);
            continue;
        }
        if takes_value {
            takes_value = false;
            out.push(arg);
            continue;
        }
        if !text.starts_with('-') || text == "-" {
            positionals += 1;
            out.push(arg);
            continue;
        }
        let name = flag_name(text);
        takes_value = !text.contains('=') && flags.takes_value(&name);
        let single_dash_long = !text.starts_with("--") && flags.long.contains(&name.as_str());
        out.push(if single_dash_long { format!("-{text}").into() } else { arg });
    }
    out
}

/// A command line clap refuses: help and version go to stdout with status 0; an error is
/// logged like any other (to `--log` if given, so containerd sees it) and exits 1, as runc.
fn usage_error(error: clap::Error, args: &[std::ffi::OsString]) -> ! {
    use clap::error::ErrorKind;
    if matches!(error.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand) {
        let _ = error.print();
        std::process::exit(0);
    }
    let rendered = error.render().to_string();
    let message = missing_value_flag(&error)
        // runc's (Go's) wording, which podman's probe for pod checkpoint/restore looks for.
        .map(|flag| format!("flag needs an argument: -{flag}"))
        .unwrap_or_else(|| rendered.lines().next().unwrap_or("invalid command line").trim_start_matches("error: ").to_string());
    let value_of = |flag: &str| args.iter().position(|a| a.to_str() == Some(flag)).and_then(|i| args.get(i + 1)).map(std::path::PathBuf::from);
    let format = if value_of("--log-format").is_some_and(|f| f.as_os_str() == "json") { LogFormat::Json } else { LogFormat::Text };
    let log = value_of("--log");
    if let Ok(logger) = Logger::open(log.as_deref(), format, false) {
        logger.log(Level::Error, &message);
        if !logger.is_stderr() {
            eprint!("{rendered}");
        }
    } else {
        eprint!("{rendered}");
    }
    std::process::exit(1);
}

/// The flag (without dashes) of an error for a flag given without its value.
fn missing_value_flag(error: &clap::Error) -> Option<String> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if error.kind() != ErrorKind::InvalidValue {
        return None;
    }
    match (error.get(ContextKind::InvalidArg), error.get(ContextKind::InvalidValue)) {
        (Some(ContextValue::String(arg)), Some(ContextValue::String(value))) if value.is_empty() => {
            // clap names the argument as `--flag <VALUE>` (or `-f, --flag <VALUE>`).
            let long = arg.split([' ', ',']).find(|word| word.starts_with("--")).unwrap_or(arg);
            Some(long.trim_start_matches('-').to_string())
        }
        _ => None,
    }
}

/// How many fds from 3 up a create or run hands to the container.
fn inherited_fds(command: &cli::Command) -> u32 {
    match command {
        cli::Command::Create(args) => args.preserve_fds + cli::listen_fds(),
        cli::Command::Run(args) => args.create.preserve_fds + cli::listen_fds(),
        cli::Command::Exec(args) => args.preserve_fds,
        _ => 0,
    }
}

fn check_inherited_fds(count: u32) -> anyhow::Result<()> {
    for fd in 3..3 + count as i32 {
        if nix::fcntl::fcntl(fd, nix::fcntl::FcntlArg::F_GETFD).is_err() {
            anyhow::bail!("--preserve-fds/LISTEN_FDS: fd {fd} is not open; the container would get another file in its place");
        }
    }
    Ok(())
}

fn print_version() {
    println!("skiff version {}", env!("CARGO_PKG_VERSION"));
    println!("commit: {}", option_env!("SKIFF_COMMIT").unwrap_or("unknown"));
    println!("spec: {}", skiff::OCI_VERSION);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(args: &[&str]) -> Vec<std::ffi::OsString> {
        args.iter().map(|a| a.into()).collect()
    }

    /// The tree `main` builds to rewrite and parse `args`.
    fn tree_for(args: &[std::ffi::OsString]) -> clap::Command {
        let globals = <Cli as clap::CommandFactory>::command();
        let subcommand = invoked_subcommand(args, &globals);
        cli::command_tree(globals, subcommand.as_deref().and_then(cli::subcommand))
    }

    fn normalized(args: &[&str]) -> Vec<String> {
        let source = tree_for(&os(args));
        normalize_single_dash_flags(os(args), &flag_names(&source)).into_iter().map(|a| a.into_string().unwrap()).collect()
    }

    #[test]
    fn runc_flags_come_from_the_clap_definitions() {
        let mut command = cli::full_tree();
        command.build();
        let names = flag_names(&command);
        for long in [
            "root",
            "log-format",
            "systemd-cgroup",
            "bundle",
            "pid-file",
            "console-socket",
            "preserve-fds",
            "cpu-share",
            "l3-cache-schema",
            "pidfd-socket",
            "help",
            "version",
        ] {
            assert!(names.long.contains(&long), "{long} in {:?}", names.long);
        }
        for valued in ["root", "log", "bundle", "pid-file", "process", "cwd", "env", "user", "cap", "b", "e", "u", "p"] {
            assert!(names.takes_value(valued), "{valued} takes a value: {:?} {:?}", names.valued_long, names.valued_short);
        }
        for flag in ["debug", "detach", "force", "all", "tty", "systemd-cgroup"] {
            assert!(!names.takes_value(flag), "{flag} takes no value");
        }
    }

    #[test]
    fn single_dash_long_flags_are_rewritten_up_to_the_operands() {
        assert_eq!(
            normalized(&["skiff", "-root", "/r", "-log-format=json", "exec", "-t", "-cwd", "/", "c1", "find", "-user", "0"]),
            ["skiff", "--root", "/r", "--log-format=json", "exec", "-t", "--cwd", "/", "c1", "find", "-user", "0"]
        );
        assert_eq!(normalized(&["skiff", "ps", "c1", "-ef"]), ["skiff", "ps", "c1", "-ef"]);
        // go-runc's single-dash flags of restore, past a valued global flag
        assert_eq!(
            normalized(&["skiff", "-log", "/l", "restore", "-no-subreaper", "-bundle", "/b", "-detach", "c1"]),
            ["skiff", "--log", "/l", "restore", "--no-subreaper", "--bundle", "/b", "--detach", "c1"]
        );
    }

    #[test]
    fn a_flag_given_twice_takes_its_last_value_as_with_runc() {
        let parse = |args: &[&str]| {
            let args = os(args);
            cli::parse(&mut tree_for(&args), &args).map_err(|e| e.to_string())
        };
        let cli = parse(&["skiff", "checkpoint", "--leave-running", "--leave-running", "--image-path", "/a", "--image-path", "/b", "c1"]).unwrap();
        let Some(cli::Command::Checkpoint(args)) = cli.command else { panic!("not checkpoint") };
        assert!(args.leave_running);
        assert_eq!(args.criu.image_path.as_deref(), Some(std::path::Path::new("/b")));
        let cli = parse(&["skiff", "--root", "/a", "--root", "/b", "state", "c1"]).unwrap();
        assert_eq!(cli.root.as_deref(), Some(std::path::Path::new("/b")));
        // repeated values still add up
        let cli = parse(&["skiff", "exec", "--env", "A=1", "--env", "B=2", "c1", "true"]).unwrap();
        let Some(cli::Command::Exec(args)) = cli.command else { panic!("not exec") };
        assert_eq!(args.env, ["A=1", "B=2"]);
    }

    /// clap copies every global flag into each subcommand of the tree and walks them all at
    /// each parse: the tree that parses holds the invoked subcommand alone.
    #[test]
    fn the_parsing_tree_holds_only_the_invoked_subcommand() {
        let names = |tree: &clap::Command| tree.get_subcommands().map(|s| s.get_name().to_string()).collect::<Vec<_>>();
        assert_eq!(names(&tree_for(&os(&["skiff", "--root", "/r", "run", "c1"]))), ["run"]);
        // no subcommand by that name: all of them, for clap's suggestion and for help
        assert_eq!(names(&tree_for(&os(&["skiff", "ruun", "c1"]))).len(), 18);
        assert_eq!(names(&tree_for(&os(&["skiff", "--debug"]))).len(), 18);
        // a global flag after the subcommand still reaches the top
        let args = os(&["skiff", "run", "--root", "/r", "--bundle", "/b", "c1"]);
        let parsed = cli::parse(&mut tree_for(&args), &args).unwrap();
        assert_eq!(parsed.root.as_deref(), Some(std::path::Path::new("/r")));
        let Some(cli::Command::Run(run)) = parsed.command else { panic!("not run") };
        assert_eq!((run.create.bundle.to_str(), run.create.id.as_str()), (Some("/b"), "c1"));
    }

    #[test]
    fn only_the_invoked_subcommand_is_built() {
        let source = tree_for(&os(&["skiff", "--root", "/r", "exec", "c1", "true"]));
        let names = flag_names(&source);
        assert!(names.long.contains(&"cwd") && names.long.contains(&"root"), "{:?}", names.long);
        assert!(!names.long.contains(&"image-path"), "checkpoint's flags were built for exec: {:?}", names.long);
        assert_eq!(subcommand_name(&os(&["skiff", "--log-format", "json", "-root=/r", "state", "c1"]), &names), Some("state"));
        assert_eq!(subcommand_name(&os(&["skiff", "--debug"]), &names), None);
    }
}
