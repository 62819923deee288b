//! `skiff run`: create, start, and (unless detached) wait, returning the process's status.

use std::path::PathBuf;

use clap::Args;
use skiff::container::{self, CreateOptions};

use super::Context;
use super::create::refuse_console_socket;

/// Arguments of `run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Path to the root of the bundle directory.
    #[arg(short, long, default_value = ".")]
    pub bundle: PathBuf,
    /// Path to an AF_UNIX socket which will receive the pty master (not supported yet).
    #[arg(long)]
    pub console_socket: Option<PathBuf>,
    /// Detach from the container's process.
    #[arg(short, long)]
    pub detach: bool,
    /// Do not delete the container after it exits.
    #[arg(long)]
    pub keep: bool,
    /// Specify the file to write the process id to.
    #[arg(long)]
    pub pid_file: Option<PathBuf>,
    /// Do not use pivot root to jail process inside rootfs.
    #[arg(long)]
    pub no_pivot: bool,
    /// Do not create a new session keyring for the container.
    #[arg(long)]
    pub no_new_keyring: bool,
    /// Do not make skiff a subreaper (accepted for compatibility; skiff never is one).
    #[arg(long)]
    pub no_subreaper: bool,
    /// Pass N additional file descriptors to the container.
    #[arg(long, default_value_t = 0)]
    pub preserve_fds: u32,
    /// The container id.
    pub id: String,
}

pub fn run(args: RunArgs, context: &Context) -> anyhow::Result<i32> {
    refuse_console_socket(&args.console_socket)?;
    let options = CreateOptions {
        id: args.id.clone(),
        bundle: args.bundle.clone(),
        pid_file: args.pid_file.clone(),
        no_pivot: args.no_pivot,
        no_new_keyring: args.no_new_keyring,
        preserve_fds: args.preserve_fds,
        listen_fds: super::listen_fds(),
    };
    if !args.detach {
        // Signals sent to skiff from now on queue up and are forwarded to the container.
        container::block_signals()?;
    }
    let pid = container::create(&context.store, &options)?;
    if let Err(error) = container::start(&context.store, &args.id) {
        // Do not leave a created container behind a failed run.
        let _ = container::delete(&context.store, &args.id, true);
        return Err(error.into());
    }
    if args.detach {
        return Ok(0);
    }
    let outcome = container::wait_for_exit(pid)?;
    if !args.keep {
        container::delete(&context.store, &args.id, true)?;
    }
    Ok(outcome.exit_code())
}
