//! `skiff start`.

use clap::Args;

use super::Context;

// Arguments of `start`. (A plain comment: clap would show a doc comment as the
// command's description, over the one the command list gives it.)
#[derive(Debug, Args)]
pub struct StartArgs {
    /// The container id.
    pub id: String,
}

pub fn run(args: StartArgs, context: &Context) -> anyhow::Result<i32> {
    context.debug(&format!("start: opening the start gate of container {}", args.id));
    context.warn_all(&skiff::container::start(&context.store, &args.id, skiff::container::PoststartFailure::Warn)?);
    Ok(0)
}
