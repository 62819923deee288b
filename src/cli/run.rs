//! `skiff run`: create, start, and (unless detached) wait, returning the process's status.

#![forbid(unsafe_code)]

use clap::Args;
use skiff::container;

use super::Context;
use super::create::CreateArgs;

// Arguments of `run`: those of `create`, and how to wait. (A plain comment: clap would show a doc comment as the
// command's description, over the one the command list gives it.)
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
    let mut options = args.create.options();
    options.systemd_cgroup = context.systemd_cgroup;
    options.rootless = context.rootless;
    // A terminal in the foreground without a console socket of the caller's: skiff keeps
    // the pty master and relays it to its stdio.
    options.relay_terminal = !args.detach;
    if !args.detach {
        // Signals sent to skiff from now on queue up and are forwarded to the container.
        container::block_signals()?;
        // Init may be a grandchild (joined user namespace + new pid namespace): adopt it.
        if !args.no_subreaper {
            nix::sys::prctl::set_child_subreaper(true).map_err(|e| anyhow::anyhow!("prctl PR_SET_CHILD_SUBREAPER: {e}"))?;
        }
    }
    let container::Created { pid, master, warnings } = container::create(&context.store, &options, &mut |line| context.debug(&line), &mut context.clock.borrow_mut()).map_err(super::init_failure_as_runc_words("run"))?;
    context.warn_all(&warnings);
    context.debug(&format!("run: starting container {} (init pid {pid})", options.id));
    match container::start(&context.store, &options.id, container::PoststartFailure::KillAndFail) {
        Ok(warnings) => {
            context.lap("start");
            context.warn_all(&warnings);
        }
        Err(error) => {
            // Do not leave a created container behind a failed run.
            let _ = container::delete(&context.store, &options.id, true);
            return Err(error.into());
        }
    }
    if args.detach {
        return Ok(0);
    }
    let outcome = container::wait_for_process(pid, master)?;
    context.lap("the container's process runs");
    context.debug(&format!("run: process exited pid={pid} status={}", outcome.exit_code()));
    if !args.keep {
        context.warn_all(&container::delete(&context.store, &options.id, true)?);
        context.lap("delete");
    }
    Ok(outcome.exit_code())
}
