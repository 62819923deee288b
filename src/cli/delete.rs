//! `skiff delete`.

use clap::Args;

use super::Context;

// Arguments of `delete`. (A plain comment: clap would show a doc comment as the
// command's description, over the one the command list gives it.)
#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// Forcibly delete the container if it is still running (uses SIGKILL).
    #[arg(short, long)]
    pub force: bool,
    /// The container id.
    pub id: String,
}

pub fn run(args: DeleteArgs, context: &Context) -> anyhow::Result<i32> {
    context.debug(&format!("delete: container {}{}", args.id, if args.force { " (--force: killed first if running)" } else { "" }));
    context.warn_all(&skiff::container::delete(&context.store, &args.id, args.force)?);
    context.debug(&format!("delete: container {} removed (cgroup, state directory)", args.id));
    Ok(0)
}
