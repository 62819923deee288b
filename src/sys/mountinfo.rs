//! `/proc/self/mountinfo` and `/proc/self/cgroup`, parsed: which cgroup hierarchies are mounted
//! where, and which cgroup a process is in on each. Pure parsers over the file contents.

/// Where cgroup filesystems are mounted.
pub const CGROUP_ROOT: &str = "/sys/fs/cgroup";

/// One line of mountinfo, reduced to what the runtime uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountEntry {
    /// Path of the mount's root within its filesystem.
    pub root: String,
    /// Where it is mounted.
    pub mount_point: String,
    /// Filesystem type (`cgroup`, `cgroup2`, `tmpfs`, ...).
    pub fs_type: String,
    /// Per-superblock options (`rw,memory` for a cgroup v1 hierarchy).
    pub super_options: String,
}

/// Parse mountinfo text; malformed lines are skipped.
pub fn parse_mountinfo(text: &str) -> Vec<MountEntry> {
    text.lines().filter_map(parse_line).collect()
}

fn parse_line(line: &str) -> Option<MountEntry> {
    let (before, after) = line.split_once(" - ")?;
    let fields: Vec<&str> = before.split(' ').collect();
    let mut tail = after.split(' ');
    let fs_type = tail.next()?;
    let _source = tail.next()?;
    let super_options = tail.next().unwrap_or("");
    Some(MountEntry {
        root: unescape(fields.get(3)?),
        mount_point: unescape(fields.get(4)?),
        fs_type: fs_type.to_string(),
        super_options: super_options.to_string(),
    })
}

/// mountinfo escapes space, tab, newline and backslash as `\ooo`.
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 3 < bytes.len() && bytes[i + 1..i + 4].iter().all(|b| (b'0'..=b'7').contains(b)) {
            let value = bytes[i + 1..i + 4].iter().fold(0u32, |acc, b| acc * 8 + u32::from(b - b'0'));
            out.push(value as u8);
            i += 4;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A cgroup v1 hierarchy (or the v2 tree) and the controllers it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CgroupHierarchy {
    /// Where it is mounted on the host (`/sys/fs/cgroup/memory`).
    pub mount_point: String,
    /// The root of the mount within the hierarchy (usually `/`).
    pub root: String,
    /// Controllers and `name=` options; empty for cgroup2.
    pub controllers: Vec<String>,
    /// Whether this is the cgroup2 tree.
    pub unified: bool,
}

/// The cgroup hierarchies among mount entries.
pub fn cgroup_hierarchies(mounts: &[MountEntry]) -> Vec<CgroupHierarchy> {
    mounts
        .iter()
        .filter(|m| m.fs_type == "cgroup" || m.fs_type == "cgroup2")
        .map(|m| CgroupHierarchy {
            mount_point: m.mount_point.clone(),
            root: m.root.clone(),
            controllers: if m.fs_type == "cgroup" {
                m.super_options
                    .split(',')
                    .filter(|o| !matches!(*o, "rw" | "ro") && !o.starts_with("release_agent") && *o != "clone_children" && *o != "xattr" && *o != "noprefix")
                    .map(str::to_string)
                    .collect()
            } else {
                Vec::new()
            },
            unified: m.fs_type == "cgroup2",
        })
        .collect()
}

/// A process's cgroup on one hierarchy, from `/proc/<pid>/cgroup`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessCgroup {
    /// Controllers (`cpu,cpuacct`, `name=systemd`); empty for the v2 line `0::`.
    pub controllers: Vec<String>,
    /// Path within the hierarchy.
    pub path: String,
}

/// Parse `/proc/<pid>/cgroup`.
pub fn parse_proc_cgroup(text: &str) -> Vec<ProcessCgroup> {
    text.lines()
        .filter_map(|line| {
            let mut parts = line.splitn(3, ':');
            let _id = parts.next()?;
            let controllers = parts.next()?;
            let path = parts.next()?;
            Some(ProcessCgroup { controllers: controllers.split(',').filter(|c| !c.is_empty()).map(str::to_string).collect(), path: path.to_string() })
        })
        .collect()
}

/// The path of the process's cgroup within `hierarchy`, if it is listed.
pub fn cgroup_path_in<'a>(hierarchy: &CgroupHierarchy, cgroups: &'a [ProcessCgroup]) -> Option<&'a str> {
    cgroups
        .iter()
        .find(|c| if hierarchy.unified { c.controllers.is_empty() } else { !c.controllers.is_empty() && c.controllers == hierarchy.controllers })
        .map(|c| c.path.as_str())
}

/// A v1 hierarchy the host mounts under `/sys/fs/cgroup`, with a process's cgroup in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V1CgroupDir {
    /// The hierarchy.
    pub hierarchy: CgroupHierarchy,
    /// Its directory's name under `/sys/fs/cgroup` (`cpu,cpuacct`, `systemd`).
    pub name: String,
    /// The process's cgroup in it, as a host directory.
    pub dir: std::path::PathBuf,
}

/// The v1 hierarchies among the host's own mounts under `/sys/fs/cgroup` (not those an rbind
/// of `/sys` shows again elsewhere), each with where `cgroups` (a `/proc/<pid>/cgroup`) puts
/// the process: what a container's `cgroup` mount binds on a v1 or hybrid host. The cgroup2
/// tree of a hybrid host is left out, as runc leaves it out.
pub fn v1_cgroup_dirs(mountinfo: &str, cgroups: &[ProcessCgroup]) -> Vec<V1CgroupDir> {
    let root = std::path::Path::new(CGROUP_ROOT);
    cgroup_hierarchies(&parse_mountinfo(mountinfo))
        .into_iter()
        .filter(|h| !h.unified && std::path::Path::new(&h.mount_point).starts_with(root))
        .filter_map(|hierarchy| {
            let path = std::path::Path::new(cgroup_path_in(&hierarchy, cgroups)?);
            let mount_point = std::path::Path::new(&hierarchy.mount_point);
            let name = mount_point.file_name()?.to_string_lossy().into_owned();
            // Paths in /proc/<pid>/cgroup are relative to the hierarchy root; the mount may be deeper.
            let relative = path.strip_prefix(&hierarchy.root).unwrap_or(path);
            let dir = mount_point.join(relative.strip_prefix("/").unwrap_or(relative));
            Some(V1CgroupDir { hierarchy, name, dir })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID: &str = "\
25 1 0:22 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755
26 25 0:23 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw
27 25 0:24 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct
28 25 0:25 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
29 25 0:26 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd
30 1 8:1 /with\\040space /mnt/a\\040b rw - ext4 /dev/sda1 rw";

    #[test]
    fn finds_hierarchies_and_unescapes() {
        let mounts = parse_mountinfo(HYBRID);
        assert_eq!(mounts[5].mount_point, "/mnt/a b");
        assert_eq!(mounts[5].root, "/with space");
        let hierarchies = cgroup_hierarchies(&mounts);
        assert_eq!(hierarchies.len(), 4);
        assert!(hierarchies[0].unified);
        assert_eq!(hierarchies[1].controllers, vec!["cpu", "cpuacct"]);
        assert_eq!(hierarchies[3].controllers, vec!["name=systemd"]);
    }

    #[test]
    fn matches_process_cgroups() {
        let hierarchies = cgroup_hierarchies(&parse_mountinfo(HYBRID));
        let own = parse_proc_cgroup("4:memory:/a\n3:cpu,cpuacct:/b\n1:name=systemd:/c\n0::/d\n");
        let paths: Vec<_> = hierarchies.iter().map(|h| cgroup_path_in(h, &own)).collect();
        assert_eq!(paths, vec![Some("/d"), Some("/b"), Some("/a"), Some("/c")]);
    }

    #[test]
    fn v1_cgroup_dirs_leave_out_cgroup2_and_join_the_process_path() {
        let own = parse_proc_cgroup("4:memory:/a\n3:cpu,cpuacct:/b\n1:name=systemd:/c\n0::/d\n");
        let dirs: Vec<(String, String)> = v1_cgroup_dirs(HYBRID, &own).into_iter().map(|d| (d.name, d.dir.display().to_string())).collect();
        assert_eq!(
            dirs,
            [
                ("cpu,cpuacct".to_string(), "/sys/fs/cgroup/cpu,cpuacct/b".to_string()),
                ("memory".to_string(), "/sys/fs/cgroup/memory/a".to_string()),
                ("systemd".to_string(), "/sys/fs/cgroup/systemd/c".to_string()),
            ]
        );
    }
}
