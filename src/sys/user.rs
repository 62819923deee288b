//! Switching to the process's uid, gid and supplementary groups.

use nix::unistd::{Gid, Uid, setgroups, setresgid, setresuid};

use super::{SysContext, SysError};

/// Become `uid`/`gid` with exactly `additional_gids` as supplementary groups, keeping the
/// permitted capabilities across the uid change so the capability step can set them.
pub fn switch_user(uid: u32, gid: u32, additional_gids: &[u32]) -> Result<(), SysError> {
    set_keep_caps(true)?;
    // A rootless runtime denies setgroups in a user namespace mapping only its own gid
    // (the kernel's condition for writing that map): then there are no groups to drop.
    let denied = std::fs::read_to_string("/proc/self/setgroups").is_ok_and(|s| s.trim() == "deny");
    if denied && !additional_gids.is_empty() {
        return Err(SysError::refused(
            "setgroups",
            format!("{additional_gids:?}"),
            "denied in this rootless user namespace (it maps only the runtime's own gid)",
        ));
    }
    if !denied {
        let groups: Vec<Gid> = additional_gids.iter().map(|g| Gid::from_raw(*g)).collect();
        setgroups(&groups).on("setgroups", format!("{additional_gids:?}"))?;
    }
    let gid = Gid::from_raw(gid);
    setresgid(gid, gid, gid).on("setresgid", gid)?;
    let uid = Uid::from_raw(uid);
    setresuid(uid, uid, uid).on("setresuid", uid)?;
    set_keep_caps(false)
}

fn set_keep_caps(keep: bool) -> Result<(), SysError> {
    nix::sys::prctl::set_keepcaps(keep).on("prctl PR_SET_KEEPCAPS", keep)
}

/// Give stdin, stdout and stderr to `uid`, as runc does before it switches user: they were
/// opened outside the container (a pipe of the engine's, the pty slave), and a process
/// running as another user could not reopen `/dev/stdout` or call its terminal its own.
/// Only the owner changes (the group may be the devpts mount's `gid=5`); `/dev/null` and
/// what `uid` owns already are left alone, and so is a file the kernel will not let us give
/// (an owner or group not mapped in a user namespace, a read-only `/dev`).
pub fn give_stdio_to(uid: u32) -> Result<(), SysError> {
    let null = nix::sys::stat::stat("/dev/null").ok().map(|st| st.st_rdev);
    for fd in 0..3 {
        let Ok(stat) = nix::sys::stat::fstat(fd) else { continue };
        let is_null = stat.st_mode & libc::S_IFMT == libc::S_IFCHR && Some(stat.st_rdev) == null;
        if stat.st_uid == uid || is_null {
            continue;
        }
        match nix::unistd::fchown(fd, Some(Uid::from_raw(uid)), None) {
            Ok(()) | Err(nix::errno::Errno::EINVAL | nix::errno::Errno::EPERM | nix::errno::Errno::EROFS) => {}
            Err(errno) => return Err(SysError::new("chown stdio fd", format!("{fd} to uid {uid}"), errno)),
        }
    }
    Ok(())
}

/// Set `PR_SET_NO_NEW_PRIVS`.
pub fn set_no_new_privileges() -> Result<(), SysError> {
    nix::sys::prctl::set_no_new_privs().on("prctl PR_SET_NO_NEW_PRIVS", 1)
}

/// The home directory of `uid` in passwd-format `text`.
pub fn home_from_passwd(text: &str, uid: u32) -> Option<String> {
    passwd_field(text, uid, 5)
}

/// The user name of `uid` in passwd-format `text`.
pub fn name_from_passwd(text: &str, uid: u32) -> Option<String> {
    passwd_field(text, uid, 0)
}

fn passwd_field(text: &str, uid: u32, field: usize) -> Option<String> {
    text.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        (fields.len() >= 7 && fields[2].parse() == Ok(uid)).then(|| fields[field].to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_home_by_uid() {
        let passwd = "root:x:0:0:root:/root:/bin/sh\nbroken\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";
        assert_eq!(home_from_passwd(passwd, 0).as_deref(), Some("/root"));
        assert_eq!(home_from_passwd(passwd, 65534).as_deref(), Some("/nonexistent"));
        assert_eq!(home_from_passwd(passwd, 1000), None);
        assert_eq!(name_from_passwd(passwd, 65534).as_deref(), Some("nobody"));
    }
}
