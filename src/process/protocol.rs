//! The order of the setup messages (see the diagram in `message.rs`), as two pure state
//! machines, one per side. Each side knows before the clone which optional steps this
//! container has (a late user namespace, an intermediate process, hooks, a seccomp
//! listener), so the sequence is exact: any other message, early, late, repeated or missing,
//! is refused with what was expected and what came. No I/O here: tested without forking.

use super::message::{ToInit, ToParent};

/// Which optional steps this container's setup has.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Steps {
    /// Init unshares its user namespace after joining others and asks for its maps
    /// (`MappingRequest` / `MappingWritten`).
    pub late_user: bool,
    /// An intermediate process forks the real init into a new pid namespace (`InitPid`).
    pub intermediate: bool,
    /// Hooks around the rootfs (`HooksPlease` / `HooksDone`).
    pub hooks: bool,
    /// A seccomp NOTIFY filter whose listener fd goes to the runtime (`SeccompListener`).
    pub listener: bool,
    /// Idmapped mounts whose source lies in the rootfs, made by the runtime when init gets to
    /// them (`IdmapPlease` / `Idmapped`, once each).
    pub late_idmaps: usize,
}

/// A message that is not the one the protocol expects now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected {expected}, received {received}")]
pub struct OutOfOrder {
    /// What the protocol allowed at this point.
    pub expected: &'static str,
    /// What came instead.
    pub received: String,
}

/// The messages init sends, in order, without their payloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FromInit {
    /// `MappingRequest`.
    MappingRequest,
    /// `InitPid`.
    InitPid,
    /// `IdmapPlease`.
    IdmapPlease,
    /// `HooksPlease`.
    HooksPlease,
    /// `SeccompListener`.
    SeccompListener,
    /// `Ready`: the last one.
    Ready,
}

impl FromInit {
    fn name(self) -> &'static str {
        match self {
            FromInit::MappingRequest => "MappingRequest",
            FromInit::InitPid => "InitPid",
            FromInit::IdmapPlease => "IdmapPlease",
            FromInit::HooksPlease => "HooksPlease",
            FromInit::SeccompListener => "SeccompListener",
            FromInit::Ready => "Ready",
        }
    }

    fn of(message: &ToParent) -> Option<FromInit> {
        match message {
            ToParent::MappingRequest => Some(FromInit::MappingRequest),
            ToParent::InitPid(_) => Some(FromInit::InitPid),
            ToParent::IdmapPlease(_) => Some(FromInit::IdmapPlease),
            ToParent::HooksPlease => Some(FromInit::HooksPlease),
            ToParent::SeccompListener => Some(FromInit::SeccompListener),
            ToParent::Ready(_) => Some(FromInit::Ready),
            ToParent::Failed(_) => None,
        }
    }
}

/// An exact sequence of steps and how far it has come: what both sides walk.
#[derive(Debug, Clone)]
struct Sequence<T> {
    steps: Vec<T>,
    next: usize,
}

impl<T: Copy + PartialEq> Sequence<T> {
    /// The steps whose flag is set, in order (a step may repeat).
    fn of(steps: impl IntoIterator<Item = (bool, T)>) -> Sequence<T> {
        Sequence { steps: steps.into_iter().filter(|(on, _)| *on).map(|(_, step)| step).collect(), next: 0 }
    }

    fn expected(&self) -> Option<T> {
        self.steps.get(self.next).copied()
    }

    /// Refuse `received` as out of order, naming what the sequence expects now.
    fn refuse(&self, received: T, name: fn(T) -> &'static str) -> OutOfOrder {
        OutOfOrder { expected: self.expected().map_or("nothing more", name), received: name(received).into() }
    }

    /// Move past `kind` if it is the next step.
    fn advance(&mut self, kind: T, name: fn(T) -> &'static str) -> Result<(), OutOfOrder> {
        if self.expected() != Some(kind) {
            return Err(self.refuse(kind, name));
        }
        self.next += 1;
        Ok(())
    }
}

/// The runtime's side: what init may send next.
#[derive(Debug, Clone)]
pub struct ParentSide {
    sequence: Sequence<FromInit>,
}

impl ParentSide {
    /// The sequence for a container with `steps` (after `Proceed` has been sent).
    pub fn new(steps: Steps) -> ParentSide {
        let idmaps = std::iter::repeat_n((true, FromInit::IdmapPlease), steps.late_idmaps);
        let sequence = Sequence::of([(steps.late_user, FromInit::MappingRequest), (steps.intermediate, FromInit::InitPid)].into_iter().chain(idmaps).chain([
            (steps.hooks, FromInit::HooksPlease),
            (steps.listener, FromInit::SeccompListener),
            (true, FromInit::Ready),
        ]));
        ParentSide { sequence }
    }

    /// The message due next, by name.
    pub fn awaiting(&self) -> &'static str {
        self.sequence.expected().map_or("nothing more", FromInit::name)
    }

    /// Check `message` against the sequence and move on. `Failed` is accepted at any point
    /// (it ends the setup): `Ok(None)`.
    pub fn accept(&mut self, message: &ToParent) -> Result<Option<FromInit>, OutOfOrder> {
        let Some(kind) = FromInit::of(message) else { return Ok(None) };
        self.sequence.advance(kind, FromInit::name)?;
        Ok(Some(kind))
    }
}

/// The messages the runtime sends, in order, without their payloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FromRuntime {
    /// `Proceed`.
    Proceed,
    /// `MappingWritten`.
    MappingWritten,
    /// `Idmapped`.
    Idmapped,
    /// `HooksDone`.
    HooksDone,
    /// `Committed`: the last one.
    Committed,
}

impl FromRuntime {
    fn name(self) -> &'static str {
        match self {
            FromRuntime::Proceed => "Proceed",
            FromRuntime::MappingWritten => "MappingWritten",
            FromRuntime::Idmapped => "Idmapped",
            FromRuntime::HooksDone => "HooksDone",
            FromRuntime::Committed => "Committed",
        }
    }

    fn of(message: &ToInit) -> FromRuntime {
        match message {
            ToInit::Proceed { .. } => FromRuntime::Proceed,
            ToInit::MappingWritten => FromRuntime::MappingWritten,
            ToInit::Idmapped => FromRuntime::Idmapped,
            ToInit::HooksDone { .. } => FromRuntime::HooksDone,
            ToInit::Committed => FromRuntime::Committed,
        }
    }
}

/// The child's side (init, or an exec'd process): what the runtime may send next.
#[derive(Debug, Clone)]
pub struct ChildSide {
    sequence: Sequence<FromRuntime>,
}

impl ChildSide {
    /// The sequence for a container with `steps` (an intermediate and a listener add no
    /// message from the runtime).
    pub fn new(steps: Steps) -> ChildSide {
        let idmaps = std::iter::repeat_n((true, FromRuntime::Idmapped), steps.late_idmaps);
        let sequence = Sequence::of(
            [(true, FromRuntime::Proceed), (steps.late_user, FromRuntime::MappingWritten)]
                .into_iter()
                .chain(idmaps)
                .chain([(steps.hooks, FromRuntime::HooksDone), (true, FromRuntime::Committed)]),
        );
        ChildSide { sequence }
    }

    /// Check that `message` is `step`, the one the child now waits for, and that `step` is
    /// the next in the sequence.
    pub fn accept(&mut self, step: FromRuntime, message: &ToInit) -> Result<(), OutOfOrder> {
        let kind = FromRuntime::of(message);
        if kind != step {
            return Err(self.sequence.refuse(kind, FromRuntime::name));
        }
        self.sequence.advance(kind, FromRuntime::name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::message::WireError;

    fn all_steps() -> Vec<Steps> {
        (0..32u8)
            .map(|bits| Steps {
                late_user: bits & 1 != 0,
                intermediate: bits & 2 != 0,
                hooks: bits & 4 != 0,
                listener: bits & 8 != 0,
                late_idmaps: if bits & 16 != 0 { 2 } else { 0 },
            })
            .collect()
    }

    fn parent_messages(steps: Steps) -> Vec<ToParent> {
        let mut messages = Vec::new();
        if steps.late_user {
            messages.push(ToParent::MappingRequest);
        }
        if steps.intermediate {
            messages.push(ToParent::InitPid(42));
        }
        for index in 0..steps.late_idmaps {
            messages.push(ToParent::IdmapPlease(index));
        }
        if steps.hooks {
            messages.push(ToParent::HooksPlease);
        }
        if steps.listener {
            messages.push(ToParent::SeccompListener);
        }
        messages.push(ToParent::Ready(Vec::new()));
        messages
    }

    #[test]
    fn every_legal_order_is_accepted_on_both_sides() {
        for steps in all_steps() {
            let mut parent = ParentSide::new(steps);
            for message in parent_messages(steps) {
                assert!(parent.accept(&message).is_ok(), "{steps:?}: {message:?}");
            }
            let mut child = ChildSide::new(steps);
            child.accept(FromRuntime::Proceed, &ToInit::Proceed { bind_sources: Vec::new(), seccomp: None }).unwrap();
            if steps.late_user {
                child.accept(FromRuntime::MappingWritten, &ToInit::MappingWritten).unwrap();
            }
            for _ in 0..steps.late_idmaps {
                child.accept(FromRuntime::Idmapped, &ToInit::Idmapped).unwrap();
            }
            if steps.hooks {
                child.accept(FromRuntime::HooksDone, &ToInit::HooksDone { pid: 7 }).unwrap();
            }
            child.accept(FromRuntime::Committed, &ToInit::Committed).unwrap();
        }
    }

    #[test]
    fn every_out_of_order_message_is_refused_with_what_was_expected() {
        let candidates = [
            ToParent::MappingRequest,
            ToParent::InitPid(1),
            ToParent::IdmapPlease(0),
            ToParent::HooksPlease,
            ToParent::SeccompListener,
            ToParent::Ready(Vec::new()),
        ];
        for steps in all_steps() {
            let legal = parent_messages(steps);
            // At each point of the sequence, every message but the expected one is refused.
            for at in 0..legal.len() {
                for candidate in &candidates {
                    let mut parent = ParentSide::new(steps);
                    legal[..at].iter().for_each(|m| {
                        parent.accept(m).unwrap();
                    });
                    let expected = FromInit::of(&legal[at]).unwrap();
                    let result = parent.accept(candidate);
                    if FromInit::of(candidate) == Some(expected) {
                        assert!(result.is_ok());
                    } else {
                        assert_eq!(
                            result,
                            Err(OutOfOrder { expected: expected.name(), received: FromInit::of(candidate).unwrap().name().into() }),
                            "{steps:?} at {at}"
                        );
                    }
                }
            }
            // Nothing after Ready; a failure is accepted anywhere.
            let mut parent = ParentSide::new(steps);
            legal.iter().for_each(|m| {
                parent.accept(m).unwrap();
            });
            assert_eq!(parent.accept(&ToParent::HooksPlease).unwrap_err().expected, "nothing more");
            let failed = ToParent::Failed(WireError { errno: Some(1), chain: vec!["x".into()] });
            assert_eq!(ParentSide::new(steps).accept(&failed), Ok(None));
        }
    }

    #[test]
    fn the_child_refuses_a_skipped_or_repeated_step() {
        let steps = Steps { late_user: true, hooks: true, ..Steps::default() };
        let mut child = ChildSide::new(steps);
        child.accept(FromRuntime::Proceed, &ToInit::Proceed { bind_sources: Vec::new(), seccomp: None }).unwrap();
        // The maps must come before the hooks.
        let error = child.clone().accept(FromRuntime::HooksDone, &ToInit::HooksDone { pid: 1 }).unwrap_err();
        assert_eq!(error, OutOfOrder { expected: "MappingWritten", received: "HooksDone".into() });
        // What the child waits for must be what came.
        let error = child.clone().accept(FromRuntime::MappingWritten, &ToInit::Committed).unwrap_err();
        assert_eq!(error, OutOfOrder { expected: "MappingWritten", received: "Committed".into() });
        child.accept(FromRuntime::MappingWritten, &ToInit::MappingWritten).unwrap();
        assert!(child.accept(FromRuntime::Proceed, &ToInit::Proceed { bind_sources: Vec::new(), seccomp: None }).is_err(), "Proceed twice");
        // Without hooks there is no HooksDone at all.
        let mut plain = ChildSide::new(Steps::default());
        plain.accept(FromRuntime::Proceed, &ToInit::Proceed { bind_sources: Vec::new(), seccomp: None }).unwrap();
        assert_eq!(plain.accept(FromRuntime::HooksDone, &ToInit::HooksDone { pid: 1 }).unwrap_err().expected, "Committed");
    }
}
