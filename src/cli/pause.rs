//! `skiff pause` and `skiff resume`.

use clap::Args;

use super::Context;

// Arguments of `pause` and `resume`. (A plain comment: clap would show a doc comment as the
// command's description, over the one the command list gives it.)
#[derive(Debug, Args)]
pub struct PauseArgs {
    /// The container id.
    pub id: String,
}

pub fn run_pause(args: PauseArgs, context: &Context) -> anyhow::Result<i32> {
    context.debug(&format!("pause: freezing the cgroup of container {}", args.id));
    skiff::container::pause(&context.store, &args.id)?;
    Ok(0)
}

pub fn run_resume(args: PauseArgs, context: &Context) -> anyhow::Result<i32> {
    context.debug(&format!("resume: thawing the cgroup of container {}", args.id));
    skiff::container::resume(&context.store, &args.id)?;
    Ok(0)
}
