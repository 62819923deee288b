//! Who makes each of the container's namespaces, and when: computed once, as data, from the
//! config's namespace list and the runtime's privilege, before anything is cloned. The
//! runtime (`spawn_init`) and init (`init_main`) both follow it; neither decides again.

use nix::sched::CloneFlags;
use oci_spec::runtime::LinuxNamespaceType;

use crate::sys::namespaces::{NamespacePlan, clone_flag};

/// The order of namespace operations around init's clone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NamespaceSchedule {
    /// The namespaces `clone3` creates.
    pub clone: CloneFlags,
    /// The runtime unshares a new time namespace for its children before the clone and
    /// writes its offsets: they can be written only before the first member enters.
    pub time_by_runtime: bool,
    /// A user namespace is joined by path: namespaces created at the clone would belong to
    /// the host's user namespace, and init would lose its privilege over them once it joins.
    pub joins_user: bool,
    /// A new user namespace while joining others by path: those belong to the host's user
    /// namespace and can be joined only before it exists. Init joins them, unshares the user
    /// namespace and asks the runtime for its maps (`MappingRequest`).
    pub late_user: bool,
    /// Namespaces init unshares once it is in the (joined or late) user namespace, so that
    /// they belong to it. Never user, ipc, cgroup or time (each has its own moment).
    pub deferred: CloneFlags,
    /// The deferred namespaces hold a new pid namespace: init forks the real init into it
    /// (the only intermediate process) and reports its pid (`InitPid`).
    pub intermediate: bool,
    /// The runtime writes the user namespace's maps right after the clone.
    pub maps_after_clone: bool,
    /// Init becomes root of its user namespace (setresuid/setresgid 0) before it makes
    /// files: the host's root has no mapping there.
    pub become_userns_root: bool,
    /// Init unshares a new ipc namespace after becoming root of the user namespace: the
    /// kernel gives the namespace's mqueue to its creator (runc makes it after setresuid too).
    pub ipc_by_init: bool,
    /// Init unshares the cgroup namespace once the runtime has put it in its cgroup, so that
    /// the namespace is rooted there.
    pub cgroup_by_init: bool,
    /// A rootless runtime writes the maps through /proc/<init>/, which only a dumpable process
    /// lets its owner open: init stays dumpable until its maps are written.
    pub dumpable_until_maps: bool,
}

impl NamespaceSchedule {
    /// The schedule of `plan`; `rootless`: the runtime runs without the host's root.
    pub fn of(plan: &NamespacePlan, rootless: bool) -> NamespaceSchedule {
        let time = clone_flag(LinuxNamespaceType::Time);
        let creates_user = plan.creates(LinuxNamespaceType::User);
        let joins_user = plan.join.iter().any(|(kind, _)| *kind == LinuxNamespaceType::User);
        // pid and time namespaces joined by path are entered by the runtime for its
        // children, around the clone: they never make the user namespace late.
        let late_user = creates_user && plan.join.iter().any(|(kind, _)| !matches!(kind, LinuxNamespaceType::Pid | LinuxNamespaceType::Time));
        let by_init = CloneFlags::CLONE_NEWCGROUP | time;
        let deferred_at_clone = if joins_user || late_user { plan.create - by_init } else { CloneFlags::empty() };
        let ipc_by_init = plan.has(LinuxNamespaceType::User) && plan.creates(LinuxNamespaceType::Ipc);
        let ipc = if ipc_by_init { CloneFlags::CLONE_NEWIPC } else { CloneFlags::empty() };
        NamespaceSchedule {
            clone: plan.create - by_init - deferred_at_clone - ipc,
            time_by_runtime: plan.creates(LinuxNamespaceType::Time),
            joins_user,
            late_user,
            deferred: deferred_at_clone - CloneFlags::CLONE_NEWUSER - CloneFlags::CLONE_NEWIPC,
            intermediate: deferred_at_clone.contains(CloneFlags::CLONE_NEWPID),
            maps_after_clone: creates_user && !late_user,
            become_userns_root: plan.has(LinuxNamespaceType::User),
            ipc_by_init,
            cgroup_by_init: plan.creates(LinuxNamespaceType::Cgroup),
            dumpable_until_maps: rootless && creates_user,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::namespaces::plan_namespaces;
    use oci_spec::runtime::LinuxNamespaceBuilder;

    const KINDS: [LinuxNamespaceType; 4] = [LinuxNamespaceType::User, LinuxNamespaceType::Pid, LinuxNamespaceType::Mount, LinuxNamespaceType::Cgroup];

    /// Every combination of user, pid, mount and cgroup namespace, each absent, created or
    /// joined by path (3^4), with uts and ipc always created.
    fn every_plan() -> Vec<NamespacePlan> {
        let mut plans = Vec::new();
        for code in 0..81u32 {
            let mut list = vec![
                LinuxNamespaceBuilder::default().typ(LinuxNamespaceType::Uts).build().unwrap(),
                LinuxNamespaceBuilder::default().typ(LinuxNamespaceType::Ipc).build().unwrap(),
            ];
            let mut rest = code;
            for kind in KINDS {
                match rest % 3 {
                    1 => list.push(LinuxNamespaceBuilder::default().typ(kind).build().unwrap()),
                    2 => list.push(LinuxNamespaceBuilder::default().typ(kind).path(format!("/proc/1/ns/{kind}")).build().unwrap()),
                    _ => {}
                }
                rest /= 3;
            }
            plans.push(plan_namespaces(&list).unwrap());
        }
        plans
    }

    fn joins(plan: &NamespacePlan, kind: LinuxNamespaceType) -> bool {
        plan.join.iter().any(|(k, _)| *k == kind)
    }

    #[test]
    fn every_created_namespace_is_made_exactly_once() {
        for plan in every_plan() {
            let schedule = NamespaceSchedule::of(&plan, false);
            let mut made = schedule.clone | schedule.deferred;
            if schedule.late_user {
                made |= CloneFlags::CLONE_NEWUSER;
            }
            if schedule.ipc_by_init {
                made |= CloneFlags::CLONE_NEWIPC;
            }
            if schedule.cgroup_by_init {
                made |= CloneFlags::CLONE_NEWCGROUP;
            }
            assert_eq!(made, plan.create, "{plan:?} -> {schedule:?}");
            // No two moments make the same namespace.
            assert!(!schedule.clone.intersects(schedule.deferred), "{schedule:?}");
            assert!(!schedule.clone.contains(CloneFlags::CLONE_NEWCGROUP), "cgroup before the move: {schedule:?}");
        }
    }

    #[test]
    fn a_joined_user_namespace_owns_every_created_namespace() {
        for plan in every_plan().into_iter().filter(|plan| joins(plan, LinuxNamespaceType::User)) {
            let schedule = NamespaceSchedule::of(&plan, false);
            assert!(schedule.joins_user && !schedule.late_user && !schedule.maps_after_clone);
            // Nothing is created at the clone: it would belong to the host's user namespace.
            assert_eq!(schedule.clone, CloneFlags::empty(), "{plan:?}");
            assert_eq!(schedule.intermediate, plan.creates(LinuxNamespaceType::Pid), "{plan:?}");
            assert!(schedule.become_userns_root);
        }
    }

    #[test]
    fn a_new_user_namespace_beside_joins_is_made_late() {
        for plan in every_plan().into_iter().filter(|plan| plan.creates(LinuxNamespaceType::User)) {
            let schedule = NamespaceSchedule::of(&plan, false);
            // pid namespaces joined by path are the runtime's, around the clone.
            let joins_other = joins(&plan, LinuxNamespaceType::Mount) || joins(&plan, LinuxNamespaceType::Cgroup);
            assert_eq!(schedule.late_user, joins_other, "{plan:?}");
            assert_eq!(schedule.maps_after_clone, !joins_other, "{plan:?}");
            assert_eq!(schedule.clone.contains(CloneFlags::CLONE_NEWUSER), !joins_other, "{plan:?}");
            assert_eq!(schedule.intermediate, joins_other && plan.creates(LinuxNamespaceType::Pid), "{plan:?}");
            // The mqueue of a new ipc namespace is the user namespace root's.
            assert!(schedule.ipc_by_init && !schedule.clone.contains(CloneFlags::CLONE_NEWIPC));
        }
    }

    #[test]
    fn without_a_user_namespace_the_clone_makes_all_but_cgroup() {
        for plan in every_plan().into_iter().filter(|plan| !plan.has(LinuxNamespaceType::User)) {
            let schedule = NamespaceSchedule::of(&plan, true);
            assert_eq!(schedule.clone, plan.create - CloneFlags::CLONE_NEWCGROUP, "{plan:?}");
            assert!(schedule.deferred.is_empty() && !schedule.intermediate && !schedule.late_user);
            assert!(!schedule.become_userns_root && !schedule.ipc_by_init && !schedule.dumpable_until_maps);
            assert_eq!(schedule.cgroup_by_init, plan.creates(LinuxNamespaceType::Cgroup));
        }
    }

    #[test]
    fn a_rootless_runtime_keeps_init_dumpable_until_it_has_written_the_maps() {
        for plan in every_plan() {
            let rootless = NamespaceSchedule::of(&plan, true);
            assert_eq!(rootless.dumpable_until_maps, plan.creates(LinuxNamespaceType::User));
            assert!(!NamespaceSchedule::of(&plan, false).dumpable_until_maps);
        }
    }

    #[test]
    fn a_new_time_namespace_is_the_runtime_s_to_make() {
        let list = [
            LinuxNamespaceBuilder::default().typ(LinuxNamespaceType::Time).build().unwrap(),
            LinuxNamespaceBuilder::default().typ(LinuxNamespaceType::User).build().unwrap(),
            LinuxNamespaceBuilder::default().typ(LinuxNamespaceType::Mount).path("/proc/1/ns/mnt").build().unwrap(),
        ];
        let schedule = NamespaceSchedule::of(&plan_namespaces(&list).unwrap(), false);
        assert!(schedule.time_by_runtime && schedule.late_user);
        assert!(!(schedule.clone | schedule.deferred).contains(clone_flag(LinuxNamespaceType::Time)));
    }
}
