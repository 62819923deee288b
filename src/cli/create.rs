//! `skiff create`.

use std::path::PathBuf;

use clap::Args;
use skiff::container::{self, CreateOptions};

use super::Context;

// Arguments of `create`. (A plain comment: clap would show a doc comment as the
// command's description, over the one the command list gives it.)
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Path to the root of the bundle directory.
    #[arg(short, long, default_value = ".")]
    pub bundle: PathBuf,
    /// Path to an AF_UNIX socket which will receive the pty master (process.terminal).
    #[arg(long)]
    pub console_socket: Option<PathBuf>,
    /// Path to an AF_UNIX socket which will receive a pidfd of the container's init.
    #[arg(long)]
    pub pidfd_socket: Option<PathBuf>,
    /// Specify the file to write the process id to.
    #[arg(long)]
    pub pid_file: Option<PathBuf>,
    /// Do not use pivot root to jail process inside rootfs.
    #[arg(long)]
    pub no_pivot: bool,
    /// Do not create a new session keyring for the container.
    #[arg(long)]
    pub no_new_keyring: bool,
    /// Pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total).
    #[arg(long, default_value_t = 0)]
    pub preserve_fds: u32,
    /// The container id.
    pub id: String,
}

impl CreateArgs {
    /// The core's options, with the global flags of `context` (cgroup driver, rootless).
    pub fn options(&self, context: &Context) -> CreateOptions {
        CreateOptions {
            id: self.id.clone(),
            bundle: self.bundle.clone(),
            pid_file: self.pid_file.clone(),
            no_pivot: self.no_pivot,
            no_new_keyring: self.no_new_keyring,
            preserve_fds: self.preserve_fds,
            listen_fds: super::listen_fds(),
            systemd_cgroup: context.systemd_cgroup,
            rootless: context.rootless,
            console_socket: self.console_socket.clone(),
            relay_terminal: false,
            pidfd_socket: self.pidfd_socket.clone(),
            wasm_handler: super::wasm_handler_search(),
            binary: context.binary,
        }
    }
}

pub fn run(args: CreateArgs, context: &Context) -> anyhow::Result<i32> {
    let created = container::create(&context.store, &args.options(context), context).map_err(super::init_failure_as_runc_words("create"))?;
    context.warn_all(&created.warnings);
    Ok(0)
}
