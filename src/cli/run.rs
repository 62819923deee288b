//! `skiff run`: create, start, and (unless detached) wait, returning the process's status.

#![forbid(unsafe_code)]

use clap::Args;
use skiff::container;

use super::Context;
use super::create::CreateArgs;

/// Arguments of `run`: those of `create`, and how to wait.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Detach from the container's process.
    #[arg(short, long)]
    pub detach: bool,
    /// Do not delete the container after it exits.
    #[arg(long)]
    pub keep: bool,
    /// Do not make skiff a subreaper (then a container whose init is not its child cannot be waited for).
    #[arg(long)]
    pub no_subreaper: bool,
    /// The create arguments (bundle, pid file, ..., id).
    #[command(flatten)]
    pub create: CreateArgs,
}

pub fn run(args: RunArgs, context: &Context) -> anyhow::Result<i32> {
    let options = args.create.options();
    if !args.detach {
        // Signals sent to skiff from now on queue up and are forwarded to the container.
        container::block_signals()?;
        // Init may be a grandchild (joined user namespace + new pid namespace): adopt it.
        if !args.no_subreaper {
            nix::sys::prctl::set_child_subreaper(true).map_err(|e| anyhow::anyhow!("prctl PR_SET_CHILD_SUBREAPER: {e}"))?;
        }
    }
    let pid = container::create(&context.store, &options)?;
    match container::start(&context.store, &options.id) {
        Ok(warnings) => context.warn_all(&warnings),
        Err(error) => {
            // Do not leave a created container behind a failed run.
            let _ = container::delete(&context.store, &options.id, true);
            return Err(error.into());
        }
    }
    if args.detach {
        return Ok(0);
    }
    let outcome = container::wait_for_exit(pid)?;
    if !args.keep {
        context.warn_all(&container::delete(&context.store, &options.id, true)?);
    }
    Ok(outcome.exit_code())
}
