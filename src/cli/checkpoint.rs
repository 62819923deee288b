//! `skiff checkpoint` and `skiff restore`: not supported; they answer with an error (and a
//! non-zero status even for `--help`, which podman uses to probe for support).

use clap::Args;

/// Whatever was passed, including `--help` and go-runc's single-dash `-no-subreaper`.
#[derive(Debug, Args)]
#[command(disable_help_flag = true)]
pub struct UnsupportedArgs {
    /// Ignored.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub rest: Vec<String>,
}

pub fn run(command: &str) -> anyhow::Result<i32> {
    anyhow::bail!("{command} is not supported: skiff has no checkpoint/restore (CRIU) support yet")
}
