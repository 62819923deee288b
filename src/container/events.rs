//! `events`: statistics once (`--stats`) or as a stream, with OOM notices, in runc's shape.

use crate::cgroups::Manager;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::cgroups::stats::Stats;
use crate::state::StateStore;

use super::{ContainerError, LIVE, Loaded, Status, derive_status};

/// One event as runc prints it.
#[derive(Debug, Serialize)]
pub struct Event {
    /// `stats` or `oom`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Container id.
    pub id: String,
    /// The statistics, for `stats`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<Stats>,
}

/// One `stats` event for container `id`.
pub fn events_stats(store: &StateStore, id: &str) -> Result<Event, ContainerError> {
    let container = Loaded::load(store, id)?;
    container.require(LIVE, "container not running")?;
    Ok(Event { kind: "stats", id: container.id.to_string(), data: Some(container.cgroup()?.stats()?) })
}

/// Stream events until the container stops: stats every `interval`, an `oom` event whenever
/// the kernel's OOM-kill count of the cgroup grows (checked every 100 ms).
pub fn watch_events(store: &StateStore, id: &str, interval: Duration, mut emit: impl FnMut(&Event)) -> Result<(), ContainerError> {
    let container = Loaded::load(store, id)?;
    let (id, state) = (&container.id, &container.state);
    let dir = store.container_dir(id);
    let cgroup = container.cgroup()?;
    let tick = Duration::from_millis(100).min(interval);
    let mut ooms = cgroup.oom_kills();
    let mut next_stats = Instant::now();
    while derive_status(state, &dir) != Status::Stopped {
        let now_ooms = cgroup.oom_kills();
        if now_ooms > ooms {
            ooms = now_ooms;
            emit(&Event { kind: "oom", id: id.to_string(), data: None });
        }
        if Instant::now() >= next_stats {
            emit(&Event { kind: "stats", id: id.to_string(), data: Some(cgroup.stats()?) });
            next_stats += interval;
        }
        std::thread::sleep(tick);
    }
    Ok(())
}
