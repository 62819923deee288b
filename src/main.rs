//! The `skiff` binary: parse the command line, set up logging, dispatch, and turn an error
//! into runc's exit status and log line.

mod cli;

use clap::Parser;
use skiff::logging::{Level, LogFormat, Logger};
use skiff::state::StateStore;

use cli::{Cli, Context, LogFormatArg};

fn main() {
    let args = normalize_single_dash_flags(std::env::args_os().collect());
    let cli = Cli::parse_from(args);
    if cli.version {
        print_version();
        return;
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
        use clap::CommandFactory;
        // Printing help to stdout cannot meaningfully fail.
        let _ = Cli::command().print_help();
        return;
    };
    let context = Context { store: StateStore::new(cli.root.clone()), logger };
    if cli.systemd_cgroup {
        context.debug("--systemd-cgroup is accepted but not acted on yet: cgroups are not managed");
    }
    if let Some(value) = &cli.rootless {
        context.debug(&format!("--rootless {value} is accepted but not acted on"));
    }
    if let Some(path) = &cli.criu {
        context.debug(&format!("--criu {path} is accepted but checkpoint/restore is not supported"));
    }
    let code = match cli::dispatch(command, &context) {
        Ok(code) => code,
        Err(error) => {
            // One line with the whole chain: containerd shows the last error line of the log.
            let message = format!("{error:#}");
            context.logger.log(Level::Error, &message);
            if !context.logger.is_stderr() {
                eprintln!("{message}");
            }
            1
        }
    };
    std::process::exit(code);
}

/// runc (urfave/cli) also accepts long flags with one dash (`-root`, `-log-format`); rewrite
/// them to the double-dash form before clap sees them. Single-letter flags are left alone.
fn normalize_single_dash_flags(args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let mut out = Vec::with_capacity(args.len());
    let mut positional_only = false;
    for (index, arg) in args.into_iter().enumerate() {
        let text = arg.to_str().unwrap_or("");
        if index > 0 && !positional_only && text.len() > 2 && text.starts_with('-') && !text.starts_with("--")
            && text[1..].chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && text[1..].split('=').next().is_some_and(|name| name.len() > 1 && name.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
        {
            out.push(format!("-{text}").into());
            continue;
        }
        if text == "--" {
            positional_only = true;
        }
        out.push(arg);
    }
    out
}

fn print_version() {
    println!("skiff version {}", env!("CARGO_PKG_VERSION"));
    println!("commit: {}", option_env!("SKIFF_COMMIT").unwrap_or("unknown"));
    println!("spec: {}", skiff::OCI_VERSION);
}
