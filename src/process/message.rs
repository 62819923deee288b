//! The messages between the runtime (parent) and the container's init, one SEQPACKET packet
//! each, JSON-encoded.
//!
//! ```text
//!   parent (skiff create)                          init (cloned into the namespaces)
//!   ---------------------                          ---------------------------------
//!   clone3 (on cgroup v2 into the cgroup) -------> starts, waits
//!   [new user namespace] write uid_map, gid_map
//!   [cgroup v1] write init's pid to cgroup.procs
//!   [new user ns] open bind sources in init's
//!   mount namespace (init's uid may not reach them)
//!   [seccomp, not cached] the program compiled
//!   on a thread since the clone
//!        ------------- Proceed [+ fds] ----------->  [cgroup ns] unshare it, now rooted in
//!                                                    the container's cgroup;
//!                                                    joins namespaces by path, mounts
//!   Once per idmapped mount whose source is in the rootfs, at that mount:
//!        <------------ IdmapPlease(index) ---------
//!   make the idmapped tree in init's mount
//!   namespace (a helper joins it)
//!        ------------- Idmapped + fd ------------->  attach it
//!   Only with prestart, createRuntime, createContainer or startContainer hooks:
//!        <------------ HooksPlease ----------------
//!   run prestart and createRuntime
//!        ------------- HooksDone{pid} ------------>  run createContainer (startContainer
//!                                                    after the gate, with this pid);
//!                                                    pivot_root, hostname, rlimits,
//!                                                    user, capabilities, no_new_privs, seccomp
//!        <------------ SeccompListener + fd -------  [NOTIFY rules] filter loaded
//!   send the fd and the state to listenerPath
//!        <------------ Ready(phase times) ---------  (or Failed{errno, chain}, then _exit;
//!                                                    the times only with --debug)
//!   write state.json, --pid-file
//!        ------------- Committed ----------------->  (EOF instead: the runtime died, _exit)
//!   exit                                             waits on the start gate fifo
//!
//!   Only with user namespaces joined or created around joined namespaces (see
//!   process/mod.rs), before Ready:
//!        <------------ MappingRequest -------------  (unshared its user namespace late)
//!   write uid_map, gid_map
//!        ------------- MappingWritten ------------>
//!        <------------ InitPid(pid) ---------------  (intermediate: forked the real init
//!   wait for the intermediate; init = pid             into a new pid namespace, exits)
//!   ...
//!   skiff start: writes one byte to the gate ----->  execve(process.args)
//! ```
//!
//! The order is enforced on both sides by `protocol.rs`: each side knows which of the
//! optional exchanges (late maps, intermediate, hooks, listener) this container has, and
//! refuses any other message with what it expected. An exec'd process follows the same
//! sequence without the maps, the hooks and the gate: Proceed, [InitPid], [SeccompListener],
//! Ready, Committed, execve.

use serde::{Deserialize, Serialize};

/// Messages init sends to the runtime.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub enum ToParent {
    /// From the intermediate process (joined user namespace + new pid namespace): the pid of
    /// the real init, its child, in the runtime's pid namespace.
    InitPid(i32),
    /// Init has unshared its user namespace (after joining others): write its maps.
    MappingRequest,
    /// `mounts[index]` is idmapped and its source lies in the rootfs, under the container's
    /// earlier mounts: make its idmapped tree now, in init's mount namespace.
    IdmapPlease(usize),
    /// The rootfs is mounted, not yet entered: run the prestart and createRuntime hooks.
    HooksPlease,
    /// The seccomp filter is loaded; its notification listener fd travels with this
    /// message, for the runtime to pass to `listenerPath`.
    SeccompListener,
    /// Everything is set up; init is about to wait on the start gate. With `--debug`, the
    /// time each of its setup phases took, as (phase, nanoseconds); empty otherwise.
    Ready(Vec<(String, u64)>),
    /// Setup failed; init exits after sending this.
    Failed(WireError),
}

/// Messages the runtime sends to init.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub enum ToInit {
    /// Init's uid/gid maps are written and it is in its cgroup: it may set up. In a new
    /// user namespace, O_PATH fds of bind sources the runtime opened in init's mount
    /// namespace travel with it, one per index into `mounts` listed here, in that order.
    Proceed {
        /// The `mounts` entries whose source fd follows.
        bind_sources: Vec<usize>,
        /// The seccomp program compiled beside the setup: its bytes in a memfd, the last fd.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seccomp: Option<SeccompHeader>,
    },
    /// The maps asked for with `MappingRequest` are written.
    MappingWritten,
    /// The idmapped tree asked for with `IdmapPlease` travels with this message.
    Idmapped,
    /// The runtime's hooks ran; `pid` is init's pid as the runtime (and hooks) see it.
    HooksDone {
        /// Init's pid in the runtime's pid namespace.
        pid: i32,
    },
    /// The state is saved: init may outlive the runtime now.
    Committed,
}

/// The seccomp program's flags beside its bytes (sent as a memfd).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct SeccompHeader {
    /// `SECCOMP_FILTER_FLAG_*`.
    pub flags: u32,
    /// The load returns a listener.
    pub notify: bool,
}

/// An error crossing from init to the runtime as data: the errno (if a syscall failed) and
/// the chain of messages from outermost to innermost.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct WireError {
    /// The errno of the failing call.
    pub errno: Option<i32>,
    /// Each layer's message, outermost first.
    pub chain: Vec<String>,
}

impl WireError {
    /// Capture an error and its sources.
    pub fn capture(error: &(dyn std::error::Error + 'static), errno: Option<i32>) -> WireError {
        let mut chain = Vec::new();
        let mut current = Some(error);
        while let Some(e) = current {
            chain.push(e.to_string());
            current = e.source();
        }
        WireError { errno, chain }
    }
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.chain.join(": "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captures_the_chain() {
        let inner = crate::sys::SysError::new("mount", "proc on /x", nix::errno::Errno::EPERM);
        let wire = WireError::capture(&inner, Some(libc::EPERM));
        assert_eq!(wire.to_string(), "mount proc on /x: EPERM: Operation not permitted");
        let json = serde_json::to_vec(&ToParent::Failed(wire.clone())).unwrap();
        assert_eq!(serde_json::from_slice::<ToParent>(&json).unwrap(), ToParent::Failed(wire));
    }
}
