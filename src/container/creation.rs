//! One container being made, as a transaction: the claimed state directory, its lock, the
//! state saved so far, and what has been made since (the cgroup, the Intel RDT group, mounts in
//! the runtime's namespace). `create` and `restore` both go through it. Until
//! [`Creation::commit`], dropping it takes down what was made, newest first, then releases the
//! lock and removes the directory; something that cannot be taken down keeps the directory, so
//! that `delete --force` finds it in the state.

use crate::cgroups::Manager;
use std::os::fd::RawFd;
use std::path::{Path, PathBuf};

use crate::cgroups::{CgroupPlan, ContainerCgroup};
use crate::resctrl::{RdtGroup, ResctrlRoot};
use crate::state::{Claim, ContainerId, DirLock, State, StateStore};

use super::ContainerError;

/// Something a creation made, which a failed creation takes down.
pub(super) trait Made {
    /// Take it down. `false`: it is still there, and the state directory stays for
    /// `delete --force`.
    fn take_down(&self) -> bool;
}

impl Made for ContainerCgroup {
    fn take_down(&self) -> bool {
        self.destroy().is_ok()
    }
}

impl Made for RdtGroup {
    fn take_down(&self) -> bool {
        // Best effort: the group is empty once init is gone.
        let _ = crate::resctrl::remove(self);
        true
    }
}

/// The mounts a container without a mount namespace of its own made in the runtime's.
struct HostRootfsMounts(PathBuf);

impl Made for HostRootfsMounts {
    fn take_down(&self) -> bool {
        let _ = crate::rootfs::unmount_host_rootfs(&self.0);
        true
    }
}

/// A container being created.
pub(super) struct Creation<'a> {
    store: &'a StateStore,
    /// What was made, in order.
    made: Vec<Box<dyn Made>>,
    // Fields drop in this order: the lock before the directory it locks. (`None` once
    // committed: the caller holds it until it returns.)
    lock: Option<DirLock>,
    claim: Claim,
    /// The state, saved by [`Creation::save`].
    pub state: State,
    committed: bool,
}

impl<'a> Creation<'a> {
    /// Claim `id` (one `mkdir`: of two parallel creates exactly one wins), lock it for the
    /// whole creation (a concurrent delete or start waits instead of acting on a half-made
    /// container), refuse a cgroup already in use, and save `state`: from here a runtime that
    /// is killed leaves what `delete --force` can clean (init pid 0 reads as stopped).
    pub(super) fn begin(store: &'a StateStore, id: &ContainerId, state: State) -> Result<Creation<'a>, ContainerError> {
        let claim = store.claim(id)?;
        let lock = store.lock(id)?;
        let creation = Creation { store, made: Vec::new(), lock: Some(lock), claim, state, committed: false };
        // A cgroup holding processes is refused before anything could touch it; so is a
        // frozen one (runc's check): init put into it could never run, nor report.
        if let Some(cgroup) = &creation.state.cgroup {
            cgroup.check_usable()?;
        }
        creation.save()?;
        Ok(creation)
    }

    /// The container's state directory.
    pub(super) fn dir(&self) -> &Path {
        self.claim.dir()
    }

    /// The fd of the lock, which init must close (it would hold the lock for its lifetime).
    pub(super) fn lock_fd(&self) -> Option<RawFd> {
        self.lock.as_ref().map(DirLock::raw_fd)
    }

    /// Save the state as it is now.
    pub(super) fn save(&self) -> Result<(), ContainerError> {
        Ok(self.store.save(self.claim.dir(), &self.state)?)
    }

    /// Record that `made` exists: a failure from here on takes it down.
    fn made(&mut self, made: impl Made + 'static) {
        self.made.push(Box::new(made));
    }

    /// Make the container's cgroup (the one in the state) and apply `plan` to it.
    pub(super) fn prepare_cgroup(&mut self, plan: &CgroupPlan) -> Result<(), ContainerError> {
        let Some(cgroup) = self.state.cgroup.clone() else { return Ok(()) };
        // Registered first: a half-made cgroup is removed too.
        self.made(cgroup.clone());
        cgroup.prepare(plan)?;
        Ok(())
    }

    /// Make the Intel RDT group planned, and record it in the state.
    pub(super) fn prepare_rdt(&mut self, rdt: Option<(crate::resctrl::RdtPlan, ResctrlRoot)>) -> Result<(), ContainerError> {
        let Some((plan, root)) = rdt else { return Ok(()) };
        let group = root.prepare(&plan)?;
        self.made(group.clone());
        self.state.resctrl = Some(group);
        self.save()
    }

    /// A container without its own mount namespace mounts its rootfs in the runtime's: a
    /// failure from here on unmounts it.
    pub(super) fn mounts_in_runtime_namespace(&mut self, rootfs: &Path) {
        self.made(HostRootfsMounts(rootfs.to_path_buf()));
    }

    /// The container exists: keep everything. The lock is handed to the caller, which holds
    /// it until it is done (a concurrent delete or start still waits for `create` to return).
    pub(super) fn commit(mut self) -> Option<DirLock> {
        self.committed = true;
        self.lock.take()
    }
}

impl Drop for Creation<'_> {
    fn drop(&mut self) {
        if self.committed {
            self.claim.retain_for_cleanup();
            return;
        }
        let mut all_gone = true;
        for made in self.made.iter().rev() {
            all_gone &= made.take_down();
        }
        if !all_gone {
            self.claim.retain_for_cleanup();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::rc::Rc;

    /// A made thing that records when it is taken down, and may refuse.
    struct Fake {
        name: &'static str,
        log: Rc<RefCell<Vec<&'static str>>>,
        refuses: bool,
    }

    impl Made for Fake {
        fn take_down(&self) -> bool {
            self.log.borrow_mut().push(self.name);
            !self.refuses
        }
    }

    fn store() -> (tempfile::TempDir, StateStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = StateStore::new(dir.path().join("root"));
        (dir, store)
    }

    fn state(id: &str) -> State {
        State { init_pid: 0, init_start_time: 0, ..crate::state::tests::sample(id) }
    }

    #[test]
    fn begin_saves_the_state_and_a_failure_removes_the_directory() {
        let (_tmp, store) = store();
        let id = ContainerId::parse("c1").unwrap();
        let creation = Creation::begin(&store, &id, state("c1")).unwrap();
        let dir = creation.dir().to_path_buf();
        assert!(dir.join("state.json").exists());
        drop(creation);
        assert!(!dir.exists(), "a failed creation leaves no state directory");
    }

    #[test]
    fn a_second_creation_of_the_same_id_fails_and_leaves_the_first() {
        let (_tmp, store) = store();
        let id = ContainerId::parse("c1").unwrap();
        let first = Creation::begin(&store, &id, state("c1")).unwrap();
        let error = Creation::begin(&store, &id, state("c1")).err().expect("duplicate");
        assert!(error.to_string().contains("already exists"), "{error}");
        assert!(first.dir().join("state.json").exists(), "the loser must not remove the winner's directory");
    }

    #[test]
    fn what_was_made_is_taken_down_newest_first() {
        let (_tmp, store) = store();
        let id = ContainerId::parse("c1").unwrap();
        let log = Rc::new(RefCell::new(Vec::new()));
        let mut creation = Creation::begin(&store, &id, state("c1")).unwrap();
        for name in ["cgroup", "rdt", "mounts"] {
            creation.made(Fake { name, log: log.clone(), refuses: false });
        }
        let dir = creation.dir().to_path_buf();
        drop(creation);
        assert_eq!(*log.borrow(), ["mounts", "rdt", "cgroup"]);
        assert!(!dir.exists());
    }

    #[test]
    fn something_that_stays_keeps_the_state_for_delete_force() {
        let (_tmp, store) = store();
        let id = ContainerId::parse("c1").unwrap();
        let log = Rc::new(RefCell::new(Vec::new()));
        let mut creation = Creation::begin(&store, &id, state("c1")).unwrap();
        creation.made(Fake { name: "cgroup", log: log.clone(), refuses: true });
        creation.made(Fake { name: "rdt", log: log.clone(), refuses: false });
        let dir = creation.dir().to_path_buf();
        drop(creation);
        assert_eq!(*log.borrow(), ["rdt", "cgroup"], "every step is still tried");
        assert!(dir.join("state.json").exists(), "the cgroup that stayed is recorded for delete --force");
    }

    #[test]
    fn a_committed_creation_keeps_everything() {
        let (_tmp, store) = store();
        let id = ContainerId::parse("c1").unwrap();
        let log = Rc::new(RefCell::new(Vec::new()));
        let mut creation = Creation::begin(&store, &id, state("c1")).unwrap();
        creation.made(Fake { name: "cgroup", log: log.clone(), refuses: false });
        creation.state.init_pid = 42;
        creation.save().unwrap();
        let dir = creation.dir().to_path_buf();
        let lock = creation.commit();
        assert!(log.borrow().is_empty());
        // Still locked until the caller lets go of the lock.
        let try_lock = || nix::fcntl::Flock::lock(std::fs::File::open(&dir).unwrap(), nix::fcntl::FlockArg::LockExclusiveNonblock).map_err(|(_, errno)| errno);
        assert_eq!(try_lock().err(), Some(nix::errno::Errno::EWOULDBLOCK));
        drop(lock);
        try_lock().unwrap();
        let saved = store.load(&id).unwrap();
        assert_eq!(saved.init_pid, 42);
        assert!(dir.exists());
    }
}
