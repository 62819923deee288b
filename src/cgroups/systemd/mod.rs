//! The systemd driver: the container's cgroup is a transient unit (a scope, or a slice when
//! the path names one) that systemd makes over D-Bus with init as its process, delegated to
//! us. systemd sets what it can express (the unit's properties); the cgroupfs manager of the
//! host's layout, pointed at the unit's cgroup, writes the rest, as runc's systemd manager
//! wraps its fs manager. Everything after create (freeze, stats, pids, signals) is cgroupfs.

pub mod bus;
pub mod gvariant;
pub mod properties;

use std::cell::RefCell;
use std::path::Path;
use std::time::Duration;

use oci_spec::runtime::{LinuxResources, Spec};
use serde::{Deserialize, Serialize};

use super::path::SystemdUnit;
use super::{CgroupError, CgroupPlan, ContainerCgroup, ExecCgroups, FsCgroup, Layout, Manager, stats};
use crate::dbus::{Connection, DbusError, Message, Type, Value};
use bus::SystemdBus;

const DESTINATION: &str = "org.freedesktop.systemd1";
const PATH: &str = "/org/freedesktop/systemd1";
const MANAGER: &str = "org.freedesktop.systemd1.Manager";

/// How long systemd may take to finish a unit's start or stop job (runc's bound).
pub const JOB_TIMEOUT: Duration = Duration::from_secs(30);

/// A container's cgroup as a systemd unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SystemdCgroup {
    /// The unit's slice and name.
    pub unit: SystemdUnitState,
    /// The host's layout (which property names apply).
    pub layout: Layout,
    /// The cgroupfs manager of the unit's cgroup.
    pub fs: FsCgroup,
    /// The unit is in the user's own systemd instance (rootless), reached on the user's bus.
    #[serde(default)]
    pub user: bool,
    /// The bus, connected on first use, once per command.
    #[serde(skip)]
    bus: BusSlot,
    /// The unit turned out to be another's.
    #[serde(skip)]
    foreign: Foreign,
}

/// What the unit is started with: its properties (the unit's own, the resources systemd
/// expresses, device rules, annotations), in the order systemd gets them. Made by
/// [`Manager::plan`], before anything exists; init's pid joins them at the start.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UnitPlan {
    properties: Vec<properties::Property>,
}

impl UnitPlan {
    /// The properties' names, in order (what `--debug` and the tests look at).
    pub fn property_names(&self) -> impl Iterator<Item = &str> {
        self.properties.iter().map(|(name, _)| name.as_str())
    }
}

/// The unit's names, as saved in state.json.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SystemdUnitState {
    /// The parent slice.
    pub slice: String,
    /// The unit.
    pub unit: String,
    /// The container's name part.
    pub name: String,
}

impl From<&SystemdUnitState> for SystemdUnit {
    fn from(state: &SystemdUnitState) -> SystemdUnit {
        SystemdUnit { slice: state.slice.clone(), unit: state.unit.clone(), name: state.name.clone() }
    }
}

/// Set when systemd refused to start the unit because another owns it: then a failed
/// create must leave that unit alone. Shared by clones: the copy that cleans up after a failed
/// create is not the one that tried to start the unit.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Foreign(std::rc::Rc<std::cell::Cell<bool>>);

/// The connection, if made. Not saved, not compared, and not shared by clones.
#[derive(Default)]
struct BusSlot {
    bus: RefCell<Option<Box<dyn SystemdBus>>>,
    /// Tests: makes the connection instead of the system or user bus.
    #[cfg(test)]
    connect: Option<std::rc::Rc<dyn Fn() -> Box<dyn SystemdBus>>>,
}

impl std::fmt::Debug for BusSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.bus.borrow().is_some() { "BusSlot(connected)" } else { "BusSlot(none)" })
    }
}

impl Clone for BusSlot {
    fn clone(&self) -> BusSlot {
        // (tests: the copy reaches the same fake bus)
        #[cfg(test)]
        return BusSlot { connect: self.connect.clone(), ..BusSlot::default() };
        #[cfg(not(test))]
        BusSlot::default()
    }
}

impl PartialEq for BusSlot {
    fn eq(&self, _: &BusSlot) -> bool {
        true
    }
}

impl Eq for BusSlot {}

impl SystemdCgroup {
    /// The manager of `unit`, whose cgroup `fs` manages.
    pub fn new(unit: SystemdUnit, layout: Layout, fs: FsCgroup, user: bool) -> SystemdCgroup {
        let unit = SystemdUnitState { slice: unit.slice, unit: unit.unit, name: unit.name };
        SystemdCgroup { unit, layout, fs, user, bus: BusSlot::default(), foreign: Foreign::default() }
    }

    fn error(&self, op: &'static str) -> impl FnOnce(DbusError) -> CgroupError + '_ {
        move |source| CgroupError::Systemd { unit: self.unit.unit.clone(), op, source }
    }

    /// Run `f` on the bus connection, connecting on first use.
    fn with_bus<T>(&self, f: impl FnOnce(&mut dyn SystemdBus) -> Result<T, DbusError>) -> Result<T, DbusError> {
        let mut slot = self.bus.bus.borrow_mut();
        let connection = match slot.take() {
            Some(connection) => connection,
            None => self.connect()?,
        };
        f(slot.insert(connection).as_mut())
    }

    /// A new connection: the user's bus (rootless) or the system's.
    fn connect(&self) -> Result<Box<dyn SystemdBus>, DbusError> {
        #[cfg(test)]
        if let Some(connect) = &self.bus.connect {
            return Ok(connect());
        }
        Ok(Box::new(if self.user { Connection::session()? } else { Connection::system()? }))
    }

    fn call(&self, op: &'static str, member: &str, body: Vec<Value>) -> Result<Vec<Value>, CgroupError> {
        self.with_bus(|bus| bus.call(DESTINATION, PATH, MANAGER, member, body)).map_err(self.error(op))
    }

    /// Whether the unit exists in a state other than inactive or failed.
    fn is_active(&self) -> Result<bool, CgroupError> {
        let op = "look up";
        let path = match self.call(op, "GetUnit", vec![Value::Str(self.unit.unit.clone())]) {
            Ok(body) => body.first().and_then(Value::as_str).map(str::to_string).unwrap_or_default(),
            Err(CgroupError::Systemd { source, .. }) if source.remote_name() == Some("org.freedesktop.systemd1.NoSuchUnit") => return Ok(false),
            Err(error) => return Err(error),
        };
        let property = vec![Value::Str("org.freedesktop.systemd1.Unit".into()), Value::Str("ActiveState".into())];
        let state = self.with_bus(|bus| bus.call(DESTINATION, &path, "org.freedesktop.DBus.Properties", "Get", property)).map_err(self.error(op))?;
        let state = state.first().map(Value::unwrap_variant).and_then(Value::as_str).unwrap_or_default().to_string();
        Ok(!matches!(state.as_str(), "inactive" | "failed"))
    }

    /// The unique bus name systemd's signals come from (`None` on systemd's private socket,
    /// where only systemd talks), so that another client cannot fake a job's end.
    fn systemd_sender(&self, op: &'static str) -> Result<Option<String>, CgroupError> {
        self.with_bus(|bus| {
            if !bus.has_daemon() {
                return Ok(None);
            }
            let owner =
                bus.call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetNameOwner", vec![Value::Str(DESTINATION.into())])?;
            name_owner(&owner).map(Some)
        })
        .map_err(self.error(op))
    }

    /// systemd's version (`252` of `252.38-1~deb12u1`), 0 when it cannot be read.
    fn systemd_version(&self) -> u32 {
        let version = self.with_bus(|bus| {
            bus.call(DESTINATION, PATH, "org.freedesktop.DBus.Properties", "Get", vec![Value::Str(MANAGER.into()), Value::Str("Version".into())])
        });
        let text = version.ok().and_then(|body| body.first().map(Value::unwrap_variant).and_then(Value::as_str).map(str::to_string)).unwrap_or_default();
        properties::parse_systemd_version(&text)
    }

    /// Run a job-making method and wait for its `JobRemoved` signal; `done` is success.
    fn run_job(&self, op: &'static str, member: &str, body: Vec<Value>) -> Result<(), CgroupError> {
        let rule =
            "type='signal',sender='org.freedesktop.systemd1',path='/org/freedesktop/systemd1',interface='org.freedesktop.systemd1.Manager',member='JobRemoved'";
        self.with_bus(|bus| bus.add_match(rule)).map_err(self.error(op))?;
        let sender = self.systemd_sender(op)?;
        let reply = self.call(op, member, body)?;
        let job = reply.first().and_then(Value::as_str).unwrap_or_default().to_string();
        let is_ours = |m: &Message| {
            m.member.as_deref() == Some("JobRemoved") && m.body.get(1).and_then(Value::as_str) == Some(job.as_str()) && (sender.is_none() || m.sender == sender)
        };
        let what = format!("{member} job {job}");
        let signal = self.with_bus(|bus| bus.wait_for_signal(JOB_TIMEOUT, &what, &is_ours)).map_err(self.error(op))?;
        let result = signal.body.get(3).and_then(Value::as_str).unwrap_or_default().to_string();
        if result != "done" {
            return Err(CgroupError::SystemdJob { unit: self.unit.unit.clone(), op, result });
        }
        Ok(())
    }

    /// `ResetFailedUnit`, so a failed unit of ours leaves nothing behind; errors are moot.
    fn reset_failed(&self) {
        let _ = self.call("reset", "ResetFailedUnit", vec![Value::Str(self.unit.unit.clone())]);
    }

    /// Start the unit with `properties` and wait for its job. A leftover unit of the same
    /// name (failed or inactive) is reset and the start tried once more, as runc does.
    fn start(&self, properties: Vec<properties::Property>) -> Result<(), CgroupError> {
        let properties = properties::supported_by(properties, self.systemd_version());
        let property_type = Type::Struct(vec![Type::Str, Type::Variant]);
        let body = || {
            vec![
                Value::Str(self.unit.unit.clone()),
                Value::Str("replace".into()),
                Value::Array(
                    property_type.clone(),
                    properties.iter().map(|(name, value)| Value::Struct(vec![Value::Str(name.clone()), Value::Variant(Box::new(value.clone()))])).collect(),
                ),
                Value::Array(Type::Struct(vec![Type::Str, Type::Array(Box::new(property_type.clone()))]), vec![]),
            ]
        };
        let op = "start transient unit";
        let exists =
            |error: &CgroupError| matches!(error, CgroupError::Systemd { source, .. } if source.remote_name() == Some("org.freedesktop.systemd1.UnitExists"));
        let result = match self.run_job(op, "StartTransientUnit", body()) {
            Err(error) if exists(&error) => {
                self.reset_failed();
                let again = self.run_job(op, "StartTransientUnit", body());
                if again.as_ref().is_err_and(exists) {
                    // Still there after a reset: an active unit of someone else's.
                    self.foreign.0.set(true);
                    return again;
                }
                again
            }
            other => other,
        };
        if result.is_err() {
            self.reset_failed();
        }
        result
    }

    /// Stop the unit (a unit already gone is fine), wait for the job, reset its failure.
    fn stop(&self) -> Result<(), CgroupError> {
        let result = match self.run_job("stop", "StopUnit", vec![Value::Str(self.unit.unit.clone()), Value::Str("replace".into())]) {
            Err(CgroupError::Systemd { source, .. }) if source.remote_name() == Some("org.freedesktop.systemd1.NoSuchUnit") => Ok(()),
            // A stop job that ends otherwise (the unit went away meanwhile) leaves no unit.
            Err(CgroupError::SystemdJob { .. }) => Ok(()),
            other => other,
        };
        self.reset_failed();
        result
    }

    fn properties_for(
        &self,
        resources: &LinuxResources,
        spec: &Spec,
        device_rules: &[super::devices::DeviceRule],
    ) -> Result<Vec<properties::Property>, CgroupError> {
        let mut all = properties::unit_properties(&SystemdUnit::from(&self.unit), self.layout);
        all.extend(properties::resource_properties(resources, self.layout)?);
        // systemd cannot express every rule; skiff's own filter (applied by the fs manager)
        // enforces them exactly, so its warnings are not errors. A user's systemd cannot
        // filter devices at all (and a rootless container cannot make device nodes).
        if !self.user {
            all.extend(properties::device_properties(device_rules).0);
        }
        // Annotations last: they override the defaults, as with runc.
        let annotations = spec.annotations().iter().flatten();
        all.extend(properties::annotation_properties(annotations)?);
        Ok(all)
    }
}

/// The cgroup of the user's systemd instance (its manager's `ControlGroup`, such as
/// `/user.slice/user-1000.slice/user@1000.service`), below which its units' cgroups are.
pub fn user_manager_cgroup(unit: &str) -> Result<std::path::PathBuf, CgroupError> {
    let error = |source| CgroupError::Systemd { unit: unit.to_string(), op: "ask the user's systemd for its cgroup", source };
    let mut bus = Connection::session().map_err(error)?;
    let reply = bus
        .call(DESTINATION, PATH, "org.freedesktop.DBus.Properties", "Get", vec![Value::Str(MANAGER.into()), Value::Str("ControlGroup".into())])
        .map_err(error)?;
    let path = reply.first().map(Value::unwrap_variant).and_then(Value::as_str).unwrap_or_default();
    if !path.starts_with('/') {
        return Err(CgroupError::Invalid { field: "--systemd-cgroup", reason: format!("the user's systemd reports the cgroup {path:?}") });
    }
    Ok(std::path::PathBuf::from(path))
}

impl Manager for SystemdCgroup {
    fn check_unused(&self) -> Result<(), CgroupError> {
        let active = self.is_active();
        // Not kept: the connection would be inherited by init, cloned next. enter_init,
        // after the clone, connects again.
        *self.bus.bus.borrow_mut() = None;
        if active? {
            return Err(CgroupError::Invalid {
                field: "linux.cgroupsPath",
                reason: format!("systemd unit {} already exists; a container needs a unit of its own", self.unit.unit),
            });
        }
        self.fs.check_unused()
    }

    fn plan(&self, resources: &LinuxResources, spec: &Spec) -> Result<CgroupPlan, CgroupError> {
        // The files get the CPU quota systemd will hold, so both agree (runc does the same).
        let resources = properties::round_cpu_quota(resources);
        let mut plan = self.fs.plan(&resources, spec)?;
        plan.unit = Some(UnitPlan { properties: self.properties_for(&resources, spec, &plan.device_rules)? });
        Ok(plan)
    }

    fn location(&self) -> &Path {
        self.fs.location()
    }

    fn may_create(&self) -> bool {
        // systemd makes the cgroup; whether it will is its answer to StartTransientUnit.
        true
    }

    fn prepare(&self, _plan: &CgroupPlan) -> Result<(), CgroupError> {
        // systemd makes the cgroup when it starts the unit, with init in it.
        Ok(())
    }

    fn clone_dir(&self, init: bool) -> Option<&Path> {
        if init { None } else { self.fs.clone_dir(false) }
    }

    fn enter_init(&self, pid: i32, plan: &CgroupPlan) -> Result<(), CgroupError> {
        let mut unit_properties = plan.unit.as_ref().map(|unit| unit.properties.clone()).unwrap_or_default();
        // After the unit's own properties, before the resources (runc's order).
        let at = unit_properties.iter().position(|(name, _)| name == "DefaultDependencies").map_or(0, |i| i + 1);
        unit_properties.insert(at, properties::pids_property(pid));
        self.start(unit_properties)?;
        // The rest is cgroupfs: the hierarchies systemd does not manage (v1), the
        // controllers of the parents, the files systemd has no property for, the devices.
        match &self.fs {
            FsCgroup::V1(fs) => {
                fs.make_dirs()?;
                fs.add_process(pid)?;
                fs.apply(plan)
            }
            FsCgroup::V2(fs) => {
                fs.make_dir()?;
                fs.apply(plan)
            }
        }
    }

    /// A process that could not be cloned into the unit's cgroup (a rootless runtime may not
    /// move processes between its session and its systemd instance) is attached by systemd.
    fn freezer_dir(&self) -> Option<&Path> {
        self.fs.freezer_dir()
    }

    fn enter_exec(&self, pid: i32, cloned_into: bool) -> Result<(), CgroupError> {
        if cloned_into {
            return Ok(());
        }
        if !self.user {
            return self.fs.enter_exec(pid, false);
        }
        let pids = Value::Array(Type::U32, vec![Value::U32(u32::try_from(pid).unwrap_or(0))]);
        self.call("attach the process", "AttachProcessesToUnit", vec![Value::Str(self.unit.unit.clone()), Value::Str("/".into()), pids])?;
        Ok(())
    }

    /// The files first (their update refuses a memory limit below the usage when asked to
    /// check), then the unit's properties, which hold the same values.
    fn update(&self, resources: &LinuxResources) -> Result<(), CgroupError> {
        let resources = properties::round_cpu_quota(resources);
        let changed = properties::supported_by(properties::resource_properties(&resources, self.layout)?, self.systemd_version());
        self.fs.update(&resources)?;
        if !changed.is_empty() {
            let property_type = Type::Struct(vec![Type::Str, Type::Variant]);
            let list = changed.into_iter().map(|(name, value)| Value::Struct(vec![Value::Str(name), Value::Variant(Box::new(value))])).collect();
            self.call(
                "set unit properties",
                "SetUnitProperties",
                vec![Value::Str(self.unit.unit.clone()), Value::Bool(true), Value::Array(property_type, list)],
            )?;
        }
        Ok(())
    }

    fn is_frozen(&self) -> bool {
        self.fs.is_frozen()
    }

    fn set_frozen(&self, frozen: bool) -> Result<(), CgroupError> {
        self.fs.set_frozen(frozen)
    }

    fn pids(&self) -> Result<Vec<i32>, CgroupError> {
        self.fs.pids()
    }

    fn signal_all(&self, signal: i32) -> Result<(), CgroupError> {
        self.fs.signal_all(signal)
    }

    fn stats(&self) -> Result<stats::Stats, CgroupError> {
        self.fs.stats()
    }

    fn oom_kills(&self) -> u64 {
        self.fs.oom_kills()
    }

    /// Kill what is left, stop the unit, then remove what systemd left (v1 hierarchies it
    /// does not manage; sub-cgroups).
    fn destroy(&self) -> Result<(), CgroupError> {
        if self.foreign.0.get() {
            return Ok(());
        }
        super::fs::kill_what_is_left(&self.fs)?;
        let stopped = match self.stop() {
            // No bus now (a delete from an environment without the user's bus, say) and
            // nothing of the unit left: systemd stopped it when it emptied.
            Err(CgroupError::Systemd { .. }) if !self.fs.location().exists() => Ok(()),
            other => other,
        };
        self.fs.destroy()?;
        stopped
    }

    fn sub_cgroup(&self, requests: &ExecCgroups) -> Result<ContainerCgroup, CgroupError> {
        self.fs.sub_cgroup(requests)
    }
}
/// The unique name in a `GetNameOwner` reply. A reply without one is an error, never "any
/// sender": matching signals against no name would let any client on the bus fake the end
/// of systemd's job.
fn name_owner(reply: &[Value]) -> Result<String, DbusError> {
    match reply.first().and_then(Value::as_str) {
        Some(name) if !name.is_empty() => Ok(name.to_string()),
        _ => Err(DbusError::Reply {
            method: format!("GetNameOwner {DESTINATION}"),
            signature: reply.iter().map(|v| format!("{v:?}")).collect::<Vec<_>>().join(","),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bus::fake::{Answer, FakeBus, Script};
    use std::rc::Rc;

    const EXISTS: &str = "org.freedesktop.systemd1.UnitExists";
    const NO_SUCH_UNIT: &str = "org.freedesktop.systemd1.NoSuchUnit";
    const SYSTEMD: &str = ":1.1";

    /// A manager of `test.scope` whose bus is the fake `script`, and whose cgroupfs side is
    /// a directory under `dir` (never made: only a failed create's cleanup would look).
    fn manager(dir: &Path, script: &Rc<RefCell<Script>>) -> SystemdCgroup {
        let unit = SystemdUnit { slice: "system.slice".into(), unit: "test.scope".into(), name: "test".into() };
        let fs = FsCgroup::V2(super::super::v2::V2Cgroup { root: dir.to_path_buf(), path: dir.join("system.slice/test.scope"), made_from: None });
        let mut cgroup = SystemdCgroup::new(unit, Layout::Unified, fs, false);
        let shared = script.clone();
        cgroup.bus.connect = Some(Rc::new(move || Box::new(FakeBus(shared.clone())) as Box<dyn SystemdBus>));
        cgroup
    }

    fn script() -> Rc<RefCell<Script>> {
        let defaults = vec![("GetNameOwner", vec![Value::Str(SYSTEMD.into())]), ("Get", vec![Value::Variant(Box::new(Value::Str("252.38-1~deb12u1".into())))])];
        Rc::new(RefCell::new(Script { daemon: true, defaults, ..Script::default() }))
    }

    /// The next StartTransientUnit (or StopUnit) makes job `job`, which ends with `result`.
    fn job(script: &Rc<RefCell<Script>>, member: &'static str, job: &str, result: &str) {
        let mut script = script.borrow_mut();
        script.answer(member, Answer::Reply(vec![Value::Str(job.into())]));
        script.job_removed(job, result, Some(SYSTEMD));
    }

    fn calls(script: &Rc<RefCell<Script>>) -> Vec<String> {
        script.borrow().calls.iter().filter(|m| !matches!(m.as_str(), "Get" | "GetNameOwner")).cloned().collect()
    }

    #[test]
    fn a_leftover_unit_is_reset_and_the_start_tried_once_more() {
        let dir = tempfile::tempdir().unwrap();
        let script = script();
        script.borrow_mut().answer("StartTransientUnit", Answer::Error(EXISTS));
        job(&script, "StartTransientUnit", "/job/2", "done");
        let cgroup = manager(dir.path(), &script);
        cgroup.start(vec![]).unwrap();
        assert_eq!(calls(&script), ["StartTransientUnit", "ResetFailedUnit", "StartTransientUnit"]);
        assert!(!cgroup.foreign.0.get());
    }

    #[test]
    fn an_active_unit_of_someone_else_s_is_left_alone_by_the_cleanup() {
        let dir = tempfile::tempdir().unwrap();
        let script = script();
        script.borrow_mut().answer("StartTransientUnit", Answer::Error(EXISTS));
        script.borrow_mut().answer("StartTransientUnit", Answer::Error(EXISTS));
        let cgroup = manager(dir.path(), &script);
        let error = cgroup.start(vec![]).unwrap_err();
        assert!(matches!(&error, CgroupError::Systemd { source, .. } if source.remote_name() == Some(EXISTS)), "{error:?}");
        assert!(cgroup.foreign.0.get());
        script.borrow_mut().calls.clear();
        cgroup.destroy().unwrap();
        assert!(calls(&script).is_empty(), "a failed create must not stop another's unit: {:?}", calls(&script));
    }

    #[test]
    fn a_copy_made_before_the_start_also_leaves_someone_else_s_unit_alone() {
        // The create transaction cleans up with the copy of the cgroup it recorded, made
        // before init's start found the unit to be another's.
        let dir = tempfile::tempdir().unwrap();
        let script = script();
        script.borrow_mut().answer("StartTransientUnit", Answer::Error(EXISTS));
        script.borrow_mut().answer("StartTransientUnit", Answer::Error(EXISTS));
        let cgroup = manager(dir.path(), &script);
        let recorded = cgroup.clone();
        assert!(cgroup.start(vec![]).is_err());
        script.borrow_mut().calls.clear();
        recorded.destroy().unwrap();
        assert!(calls(&script).is_empty(), "the recorded copy stopped another's unit: {:?}", calls(&script));
    }

    #[test]
    fn a_failed_start_job_is_an_error_and_the_unit_is_reset() {
        let dir = tempfile::tempdir().unwrap();
        let script = script();
        job(&script, "StartTransientUnit", "/job/1", "failed");
        let error = manager(dir.path(), &script).start(vec![]).unwrap_err();
        assert!(matches!(&error, CgroupError::SystemdJob { result, .. } if result == "failed"), "{error}");
        assert_eq!(calls(&script), ["StartTransientUnit", "ResetFailedUnit"]);
    }

    #[test]
    fn a_job_end_from_another_sender_is_not_systemd_s() {
        let dir = tempfile::tempdir().unwrap();
        let script = script();
        {
            let mut script = script.borrow_mut();
            script.answer("GetNameOwner", Answer::Reply(vec![Value::Str(SYSTEMD.into())]));
            script.answer("StartTransientUnit", Answer::Reply(vec![Value::Str("/job/1".into())]));
            // A client faking the job's end first, then systemd's own (failed) end.
            script.job_removed("/job/1", "done", Some(":1.99"));
            script.job_removed("/job/1", "failed", Some(SYSTEMD));
        }
        let error = manager(dir.path(), &script).start(vec![]).unwrap_err();
        assert!(matches!(&error, CgroupError::SystemdJob { result, .. } if result == "failed"), "the faked `done` was taken: {error}");
    }

    #[test]
    fn a_job_end_of_another_job_is_not_ours() {
        let dir = tempfile::tempdir().unwrap();
        let script = script();
        {
            let mut script = script.borrow_mut();
            script.answer("GetNameOwner", Answer::Reply(vec![Value::Str(SYSTEMD.into())]));
            script.answer("StartTransientUnit", Answer::Reply(vec![Value::Str("/job/1".into())]));
            script.job_removed("/job/7", "done", Some(SYSTEMD));
        }
        let error = manager(dir.path(), &script).start(vec![]).unwrap_err();
        assert!(matches!(&error, CgroupError::Systemd { source: DbusError::Timeout { .. }, .. }), "{error}");
    }

    #[test]
    fn an_empty_name_owner_fails_the_job_rather_than_accept_any_sender() {
        let dir = tempfile::tempdir().unwrap();
        let script = script();
        script.borrow_mut().answer("GetNameOwner", Answer::Reply(vec![Value::Str(String::new())]));
        let error = manager(dir.path(), &script).start(vec![]).unwrap_err();
        assert!(matches!(&error, CgroupError::Systemd { source: DbusError::Reply { method, .. }, .. } if method.contains("GetNameOwner")), "{error:?}");
        assert!(!calls(&script).contains(&"StartTransientUnit".to_string()));
    }

    #[test]
    fn a_stop_that_finds_no_unit_or_a_job_that_did_not_finish_is_fine() {
        let dir = tempfile::tempdir().unwrap();
        let script = script();
        script.borrow_mut().answer("GetNameOwner", Answer::Reply(vec![Value::Str(SYSTEMD.into())]));
        script.borrow_mut().answer("StopUnit", Answer::Error(NO_SUCH_UNIT));
        let cgroup = manager(dir.path(), &script);
        cgroup.stop().unwrap();
        assert_eq!(calls(&script), ["StopUnit", "ResetFailedUnit"]);
        job(&script, "StopUnit", "/job/3", "canceled");
        cgroup.stop().unwrap();
        // Any other failure of the call is an error.
        script.borrow_mut().answer("GetNameOwner", Answer::Reply(vec![Value::Str(SYSTEMD.into())]));
        script.borrow_mut().answer("StopUnit", Answer::Error("org.freedesktop.DBus.Error.AccessDenied"));
        assert!(cgroup.stop().is_err());
    }

    #[test]
    fn a_unit_in_use_is_refused_and_a_missing_or_inactive_one_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let script = script();
        script.borrow_mut().answer("GetUnit", Answer::Error(NO_SUCH_UNIT));
        let cgroup = manager(dir.path(), &script);
        assert!(!cgroup.is_active().unwrap());
        for (state, active) in [("active", true), ("activating", true), ("inactive", false), ("failed", false)] {
            let mut s = script.borrow_mut();
            s.answer("GetUnit", Answer::Reply(vec![Value::Str("/org/freedesktop/systemd1/unit/test_2escope".into())]));
            s.answers.retain(|(m, _)| *m != "Get");
            s.answer("Get", Answer::Reply(vec![Value::Variant(Box::new(Value::Str(state.into())))]));
            drop(s);
            assert_eq!(cgroup.is_active().unwrap(), active, "{state}");
        }
        script.borrow_mut().answer("GetUnit", Answer::Reply(vec![Value::Str("/unit".into())]));
        script.borrow_mut().answer("Get", Answer::Reply(vec![Value::Variant(Box::new(Value::Str("active".into())))]));
        let error = cgroup.check_unused().unwrap_err();
        assert!(error.to_string().contains("systemd unit test.scope already exists"), "{error}");
    }

    #[test]
    fn the_plan_carries_the_unit_s_own_properties() {
        let dir = tempfile::tempdir().unwrap();
        let script = script();
        let cgroup = manager(dir.path(), &script);
        let spec = oci_spec::runtime::Spec::default();
        let plan = cgroup.plan(&LinuxResources::default(), &spec).unwrap();
        let names: Vec<&str> = plan.unit.as_ref().unwrap().property_names().collect();
        assert!(names.contains(&"Delegate") && names.contains(&"DefaultDependencies"), "{names:?}");
    }

    #[test]
    fn an_empty_name_owner_is_an_error_not_any_sender() {
        assert_eq!(name_owner(&[Value::Str(":1.7".into())]).unwrap(), ":1.7");
        for reply in [vec![], vec![Value::Str(String::new())]] {
            let error = name_owner(&reply).unwrap_err();
            assert!(error.to_string().starts_with("GetNameOwner org.freedesktop.systemd1: unexpected reply"), "{error}");
        }
    }
}
