//! `skiff checkpoint` and `skiff restore`, with runc's flags, through CRIU.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Args;
use skiff::container::{self, CheckpointOptions, CriuFlags, RestoreOptions};
use skiff::criu::{CgroupsMode, empty_namespaces, parse_page_server};

use super::Context;

// The flags both commands take. (A plain comment: clap would show a doc comment as the
// command's description, over the one the command list gives it.)
#[derive(Debug, Args)]
pub struct CriuArgs {
    /// Path for saving (checkpoint) or reading (restore) the CRIU image files (default: ./checkpoint).
    #[arg(long, value_name = "PATH")]
    pub image_path: Option<PathBuf>,
    /// Path for saving work files and logs (default: the image path).
    #[arg(long, value_name = "PATH")]
    pub work_path: Option<PathBuf>,
    /// Allow open tcp connections.
    #[arg(long)]
    pub tcp_established: bool,
    /// Allow external unix sockets.
    #[arg(long)]
    pub ext_unix_sk: bool,
    /// Allow shell jobs.
    #[arg(long)]
    pub shell_job: bool,
    /// Handle file locks, for safety.
    #[arg(long)]
    pub file_locks: bool,
    /// Cgroups mode: soft|full|strict|ignore (default: soft).
    #[arg(long, value_name = "MODE")]
    pub manage_cgroups_mode: Option<String>,
    /// Create a namespace, but don't restore its properties (only 'network').
    #[arg(long, value_name = "NS")]
    pub empty_ns: Vec<String>,
    /// Enable auto deduplication of memory images.
    #[arg(long)]
    pub auto_dedup: bool,
    /// Use userfaultfd to lazily restore memory pages.
    #[arg(long)]
    pub lazy_pages: bool,
}

// Arguments of `checkpoint`. (A plain comment: clap would show a doc comment as the
// command's description, over the one the command list gives it.)
#[derive(Debug, Args)]
pub struct CheckpointArgs {
    /// The flags restore shares.
    #[command(flatten)]
    pub criu: CriuArgs,
    /// Path for previous criu image files in pre-dump (relative to the image path).
    #[arg(long, value_name = "PATH")]
    pub parent_path: Option<PathBuf>,
    /// Leave the process running after checkpointing.
    #[arg(long)]
    pub leave_running: bool,
    /// Skip in-flight tcp connections.
    #[arg(long)]
    pub tcp_skip_in_flight: bool,
    /// Allow one to link unlinked files back when possible.
    #[arg(long)]
    pub link_remap: bool,
    /// Dump the container's memory information only, leaving the container running.
    #[arg(long)]
    pub pre_dump: bool,
    /// Criu writes \0 to this FD once lazy-pages is ready.
    #[arg(long, value_name = "FD", default_value_t = -1, allow_negative_numbers = true)]
    pub status_fd: i32,
    /// ADDRESS:PORT of the page server.
    #[arg(long, value_name = "ADDRESS:PORT")]
    pub page_server: Option<String>,
    /// The container id.
    pub id: String,
}

// Arguments of `restore`. (A plain comment: clap would show a doc comment as the
// command's description, over the one the command list gives it.)
#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The flags checkpoint shares.
    #[command(flatten)]
    pub criu: CriuArgs,
    /// Path to the root of the bundle directory.
    #[arg(short, long, default_value = ".")]
    pub bundle: PathBuf,
    /// Path to an AF_UNIX socket which will receive the master end of the restored terminal.
    #[arg(long, value_name = "PATH")]
    pub console_socket: Option<PathBuf>,
    /// Detach from the container's process.
    #[arg(short, long)]
    pub detach: bool,
    /// Specify the file to write the process id to.
    #[arg(long, value_name = "PATH")]
    pub pid_file: Option<PathBuf>,
    /// Disable the use of the subreaper used to reap reparented processes.
    #[arg(long)]
    pub no_subreaper: bool,
    /// Do not use pivot root (CRIU restores the container's root itself; accepted as runc does).
    #[arg(long)]
    pub no_pivot: bool,
    /// An LSM profile to be used during restore, in the form TYPE:NAME.
    #[arg(long, value_name = "TYPE:NAME")]
    pub lsm_profile: Option<String>,
    /// An LSM mount context to be used during restore.
    #[arg(long, value_name = "CONTEXT")]
    pub lsm_mount_context: Option<String>,
    /// The container id (a new one may be chosen).
    pub id: String,
}

impl CriuArgs {
    fn flags(&self, criu: Option<&str>, status_fd: i32) -> anyhow::Result<CriuFlags> {
        let cwd = std::env::current_dir().context("resolve the current directory")?;
        let image_path = self.image_path.clone().unwrap_or_else(|| PathBuf::from("checkpoint"));
        Ok(CriuFlags {
            criu: criu.map(PathBuf::from),
            image_path: absolute(&cwd, &image_path),
            work_path: self.work_path.as_deref().map(|p| absolute(&cwd, p)),
            tcp_established: self.tcp_established,
            ext_unix_sk: self.ext_unix_sk,
            shell_job: self.shell_job,
            file_locks: self.file_locks,
            cgroups_mode: CgroupsMode::parse(self.manage_cgroups_mode.as_deref())?,
            empty_ns: empty_namespaces(&self.empty_ns)?,
            auto_dedup: self.auto_dedup,
            lazy_pages: self.lazy_pages,
            status_fd: check_status_fd(status_fd)?,
        })
    }
}

fn absolute(cwd: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() { path.to_path_buf() } else { cwd.join(path) }
}

/// runc's check of `--status-fd`: an open fd, writable.
fn check_status_fd(fd: i32) -> anyhow::Result<Option<i32>> {
    if fd < 0 {
        return Ok(None);
    }
    let flags = nix::fcntl::fcntl(fd, nix::fcntl::FcntlArg::F_GETFL).map_err(|e| anyhow::anyhow!("invalid --status-fd argument {fd}: {e}"))?;
    let mode = nix::fcntl::OFlag::from_bits_truncate(flags) & nix::fcntl::OFlag::O_ACCMODE;
    if mode == nix::fcntl::OFlag::O_RDONLY {
        anyhow::bail!("invalid --status-fd argument {fd}: not writable");
    }
    Ok(Some(fd))
}

pub fn run_checkpoint(args: CheckpointArgs, criu: Option<&str>, context: &Context) -> anyhow::Result<i32> {
    let options = CheckpointOptions {
        flags: args.criu.flags(criu, args.status_fd)?,
        parent_path: args.parent_path,
        leave_running: args.leave_running,
        tcp_skip_in_flight: args.tcp_skip_in_flight,
        link_remap: args.link_remap,
        pre_dump: args.pre_dump,
        page_server: args.page_server.as_deref().map(parse_page_server).transpose()?,
    };
    let warnings = container::checkpoint(&context.store, &args.id, &options, context)?;
    context.warn_all(&warnings);
    Ok(0)
}

pub fn run_restore(args: RestoreArgs, criu: Option<&str>, context: &Context) -> anyhow::Result<i32> {
    let options = RestoreOptions {
        create: container::CreateOptions {
            id: args.id.clone(),
            bundle: args.bundle.clone(),
            pid_file: args.pid_file.clone(),
            no_pivot: args.no_pivot,
            no_new_keyring: false,
            preserve_fds: 0,
            listen_fds: 0,
            systemd_cgroup: context.systemd_cgroup,
            rootless: context.rootless,
            console_socket: args.console_socket.clone(),
            // (set by the core: in the foreground skiff relays a terminal itself, as `run`)
            relay_terminal: false,
            pidfd_socket: None,
            wasm_handler: super::wasm_handler_search(),
            // CRIU restores the processes: none of them runs skiff's binary.
            binary: skiff::sys::exe_seal::BinarySeal::Sealed,
        },
        flags: args.criu.flags(criu, -1)?,
        lsm_profile: args.lsm_profile,
        lsm_mount_context: args.lsm_mount_context,
    };
    let how = container::Foreground { detach: args.detach, keep: false, no_subreaper: args.no_subreaper };
    match container::restore_and_run(&context.store, &options, how, context)? {
        container::Ran::Detached(_) => Ok(0),
        container::Ran::Exited(outcome) => Ok(outcome.exit_code()),
    }
}
