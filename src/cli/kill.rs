//! `skiff kill`.

use clap::Args;

use super::Context;

// Arguments of `kill`. (A plain comment: clap would show a doc comment as the
// command's description, over the one the command list gives it.)
#[derive(Debug, Args)]
pub struct KillArgs {
    /// Send the signal to all processes in the container.
    #[arg(short, long)]
    pub all: bool,
    /// The container id.
    pub id: String,
    /// The signal: a number, or a name with or without SIG.
    #[arg(default_value = "SIGTERM")]
    pub signal: String,
}

pub fn run(args: KillArgs, context: &Context) -> anyhow::Result<i32> {
    let whom = if args.all { "every process of" } else { "the init of" };
    context.debug(&format!("kill: sending signal {} to {whom} container {}", args.signal, args.id));
    skiff::container::kill(&context.store, &args.id, &args.signal, args.all)?;
    Ok(0)
}
