//! `skiff features`: the runtime-spec features document.

use clap::Args;

// Arguments of `features` (none). (A plain comment: clap would show a doc comment as the
// command's description, over the one the command list gives it.)
#[derive(Debug, Args)]
pub struct FeaturesArgs {}

pub fn run(_args: FeaturesArgs) -> anyhow::Result<i32> {
    let features = skiff::features::features().map_err(|e| anyhow::anyhow!("build the features document: {e}"))?;
    println!("{}", serde_json::to_string_pretty(&features)?);
    Ok(0)
}
