//! `skiff state`.

use clap::Args;

use super::Context;

// Arguments of `state`. (A plain comment: clap would show a doc comment as the
// command's description, over the one the command list gives it.)
#[derive(Debug, Args)]
pub struct StateArgs {
    /// The container id.
    pub id: String,
}

pub fn run(args: StateArgs, context: &Context) -> anyhow::Result<i32> {
    let report = skiff::container::state(&context.store, &args.id)?;
    context.debug(&format!("state: container {} is {} (init pid {})", args.id, report.status, report.pid));
    // runc prints the indented object without a trailing newline.
    print!("{}", serde_json::to_string_pretty(&report)?);
    Ok(0)
}
