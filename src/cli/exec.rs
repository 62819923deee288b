//! `skiff exec`: run a process in a running container.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use skiff::container::{self, ExecOptions, ExecOutcome};

use super::Context;

// Arguments of `exec`, runc's names. (A plain comment: clap would show a doc comment as the
// command's description, over the one the command list gives it.)
#[derive(Debug, Args)]
pub struct ExecArgs {
    /// Path to an AF_UNIX socket which will receive the pty master (with --tty).
    #[arg(long)]
    pub console_socket: Option<PathBuf>,
    /// Path to an AF_UNIX socket which will receive a pidfd of the process.
    #[arg(long)]
    pub pidfd_socket: Option<PathBuf>,
    /// Current working directory in the container.
    #[arg(long)]
    pub cwd: Option<PathBuf>,
    /// Set environment variables (K=V), repeatable.
    #[arg(short, long)]
    pub env: Vec<String>,
    /// Allocate a pseudo-TTY (its master goes to --console-socket, or is relayed to skiff's stdio in the foreground).
    #[arg(short, long)]
    pub tty: bool,
    /// UID (format: <uid>[:<gid>]).
    #[arg(short, long)]
    pub user: Option<String>,
    /// Additional gids, repeatable.
    #[arg(short = 'g', long)]
    pub additional_gids: Vec<u32>,
    /// Path to the process.json.
    #[arg(short, long)]
    pub process: Option<PathBuf>,
    /// Detach from the container's process.
    #[arg(short, long)]
    pub detach: bool,
    /// Specify the file to write the process id to.
    #[arg(long)]
    pub pid_file: Option<PathBuf>,
    /// Set the SELinux label of the process (refused on a host without SELinux).
    #[arg(long)]
    pub process_label: Option<String>,
    /// Set the AppArmor profile of the process (refused on a host without AppArmor).
    #[arg(long)]
    pub apparmor: Option<String>,
    /// Set the no new privileges value for the process.
    #[arg(long)]
    pub no_new_privs: bool,
    /// Add a capability to the bounding set for the process, repeatable.
    #[arg(short, long)]
    pub cap: Vec<String>,
    /// Pass N additional file descriptors to the process.
    #[arg(long, default_value_t = 0)]
    pub preserve_fds: u32,
    /// Run the process in an existing sub-cgroup of the container's: `[controller,...:]path`.
    #[arg(long)]
    pub cgroup: Vec<String>,
    /// Allow exec in a paused container.
    #[arg(long)]
    pub ignore_paused: bool,
    /// The container id.
    pub id: String,
    /// The command and its arguments.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

/// runc reads `--process` into a Go struct, where every field is optional: a missing
/// `user` is uid 0 and gid 0, a missing `cwd` no chdir (here: the container's `/`). The
/// spec's types require both, so they are filled in first.
fn with_runcs_defaults(mut value: serde_json::Value) -> serde_json::Value {
    if let Some(process) = value.as_object_mut() {
        let user = process.entry("user").or_insert_with(|| serde_json::json!({}));
        if let Some(user) = user.as_object_mut() {
            user.entry("uid").or_insert(0.into());
            user.entry("gid").or_insert(0.into());
        }
        process.entry("cwd").or_insert_with(|| "/".into());
    }
    skiff::bundle::respell_scheduler_flags(&mut value);
    value
}

pub fn run(args: ExecArgs, context: &Context) -> anyhow::Result<i32> {
    let process = match &args.process {
        Some(path) => {
            let text = std::fs::read(path).with_context(|| format!("read --process {}", path.display()))?;
            let value: serde_json::Value =
                serde_json::from_slice(&text).map_err(|e| anyhow::anyhow!("decode --process {}: {}", path.display(), skiff::json_path::describe(&text, &e)))?;
            // Decoded from text again, so that a type error still names the field's path.
            let filled = serde_json::to_vec(&with_runcs_defaults(value))?;
            let process = serde_json::from_slice(&filled)
                .map_err(|e| anyhow::anyhow!("decode --process {}: {}", path.display(), skiff::json_path::describe(&filled, &e)))?;
            Some(process)
        }
        None => None,
    };
    let user = args.user.as_deref().map(parse_user).transpose()?;
    let options = ExecOptions {
        process,
        args: args.command,
        env: args.env,
        cwd: args.cwd,
        user,
        additional_gids: args.additional_gids,
        caps: args.cap,
        no_new_privs: args.no_new_privs,
        detach: args.detach,
        pid_file: args.pid_file,
        preserve_fds: args.preserve_fds,
        ignore_paused: args.ignore_paused,
        tty: args.tty,
        console_socket: args.console_socket,
        pidfd_socket: args.pidfd_socket,
        process_label: args.process_label,
        apparmor: args.apparmor,
        cgroup: args.cgroup,
        wasm_handler: super::wasm_handler_search(),
        binary: context.binary,
    };
    let outcome = container::exec(&context.store, &args.id, &options, context)?;
    match outcome {
        ExecOutcome::Detached(_) => Ok(0),
        ExecOutcome::Finished(outcome) => Ok(outcome.exit_code()),
    }
}

/// `uid[:gid]`, numeric as runc takes them.
fn parse_user(text: &str) -> anyhow::Result<(u32, Option<u32>)> {
    let (uid, gid) = match text.split_once(':') {
        Some((uid, gid)) => (uid, Some(gid)),
        None => (text, None),
    };
    let uid = uid.parse().with_context(|| format!("--user {text:?}: the uid must be a number"))?;
    let gid = gid.map(|g| g.parse().with_context(|| format!("--user {text:?}: the gid must be a number"))).transpose()?;
    Ok((uid, gid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_without_user_or_cwd_gets_runcs_defaults() {
        let value = with_runcs_defaults(serde_json::json!({"args": ["true"], "consoleSize": {"height": 10, "width": 20}}));
        assert_eq!(value["user"], serde_json::json!({"uid": 0, "gid": 0}));
        assert_eq!(value["cwd"], "/");
        let value = with_runcs_defaults(serde_json::json!({"args": ["true"], "user": {"uid": 5}, "cwd": "/tmp"}));
        assert_eq!(value["user"], serde_json::json!({"uid": 5, "gid": 0}));
        assert_eq!(value["cwd"], "/tmp");
    }
}
