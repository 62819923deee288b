//! `skiff spec`: write the default config.json, like `runc spec`.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use serde::Serialize;
use skiff::default_spec::{default_spec, rootless_spec};

// Arguments of `spec`. (A plain comment: clap would show a doc comment as the
// command's description, over the one the command list gives it.)
#[derive(Debug, Args)]
pub struct SpecArgs {
    /// Path to the root of the bundle directory.
    #[arg(short, long, default_value = ".")]
    pub bundle: PathBuf,
    /// Generate a configuration for a rootless container.
    #[arg(long)]
    pub rootless: bool,
}

pub fn run(args: SpecArgs) -> anyhow::Result<i32> {
    let spec = if args.rootless { rootless_spec(nix::unistd::geteuid().as_raw(), nix::unistd::getegid().as_raw()) } else { default_spec() };
    let path = args.bundle.join(skiff::bundle::CONFIG_FILE);
    // Tab-indented, like runc's output.
    let mut bytes = Vec::new();
    let mut serializer = serde_json::Serializer::with_formatter(&mut bytes, serde_json::ser::PrettyFormatter::with_indent(b"\t"));
    spec.serialize(&mut serializer)?;
    let mut file = match std::fs::OpenOptions::new().write(true).create_new(true).open(&path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            anyhow::bail!("File {} exists. Remove it first", path.display())
        }
        Err(e) => return Err(anyhow::Error::new(e).context(format!("create {}", path.display()))),
    };
    file.write_all(&bytes).map_err(|e| anyhow::Error::new(e).context(format!("write {}", path.display())))?;
    Ok(0)
}
