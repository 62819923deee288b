//! `skiff run`: create, start, and (unless detached) wait, returning the process's status.

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
    let how = container::Foreground { detach: args.detach, keep: args.keep, no_subreaper: args.no_subreaper };
    match container::run(&context.store, &args.create.options(context), how, context).map_err(super::init_failure_as_runc_words("run"))? {
        container::Ran::Detached(_) => Ok(0),
        container::Ran::Exited(outcome) => Ok(outcome.exit_code()),
    }
}
