//! The seam between the systemd manager and D-Bus: the four things the manager asks of a bus.
//! The real one is [`crate::dbus::Connection`]; the unit tests' is a recording fake that
//! answers from a script, so that the manager's decisions (the retry on UnitExists, a unit
//! that is another's, a stop that finds no unit, the `JobRemoved` sender check) are tested
//! without systemd.

use std::time::Duration;

use crate::dbus::{Connection, DbusError, Message, Value};

/// What the systemd manager needs of a bus connection.
pub trait SystemdBus {
    /// Call a method and return its reply's body.
    fn call(&mut self, destination: &str, path: &str, interface: &str, member: &str, body: Vec<Value>) -> Result<Vec<Value>, DbusError>;
    /// Ask the bus daemon for signals matching `rule` (nothing on a private socket).
    fn add_match(&mut self, rule: &str) -> Result<(), DbusError>;
    /// Whether a bus daemon is on the other end (not systemd's private socket).
    fn has_daemon(&self) -> bool;
    /// Wait for a signal `wanted` accepts, until `timeout`; others are dropped.
    fn wait_for_signal(&mut self, timeout: Duration, what: &str, wanted: &dyn Fn(&Message) -> bool) -> Result<Message, DbusError>;
}

impl SystemdBus for Connection {
    fn call(&mut self, destination: &str, path: &str, interface: &str, member: &str, body: Vec<Value>) -> Result<Vec<Value>, DbusError> {
        Connection::call(self, destination, path, interface, member, body)
    }

    fn add_match(&mut self, rule: &str) -> Result<(), DbusError> {
        Connection::add_match(self, rule)
    }

    fn has_daemon(&self) -> bool {
        Connection::has_daemon(self)
    }

    fn wait_for_signal(&mut self, timeout: Duration, what: &str, wanted: &dyn Fn(&Message) -> bool) -> Result<Message, DbusError> {
        Connection::wait_for_signal(self, timeout, what, wanted)
    }
}

#[cfg(test)]
pub(crate) mod fake {
    use std::cell::RefCell;
    use std::collections::VecDeque;
    use std::rc::Rc;

    use super::*;
    use crate::dbus::MessageKind;

    /// One scripted answer to a call of `member`.
    pub enum Answer {
        /// A reply with this body.
        Reply(Vec<Value>),
        /// An error reply with this D-Bus error name.
        Error(&'static str),
    }

    /// What the fake was asked and what it will answer; shared by every connection made from it.
    #[derive(Default)]
    pub struct Script {
        /// The answers per method, in order; a method without one gets an empty reply.
        pub answers: Vec<(&'static str, VecDeque<Answer>)>,
        /// Signals on the bus, in the order they arrive.
        pub signals: VecDeque<Message>,
        /// The members called, in order.
        pub calls: Vec<String>,
        /// Whether a bus daemon is there (GetNameOwner is asked only then).
        pub daemon: bool,
        /// The reply of a method whose scripted answers ran out (else an empty one).
        pub defaults: Vec<(&'static str, Vec<Value>)>,
    }

    impl Script {
        /// Answer the next call of `member` with `answer`.
        pub fn answer(&mut self, member: &'static str, answer: Answer) {
            match self.answers.iter_mut().find(|(m, _)| *m == member) {
                Some((_, queue)) => queue.push_back(answer),
                None => self.answers.push((member, VecDeque::from([answer]))),
            }
        }

        /// A `JobRemoved` signal for `job` with `result`, from `sender`.
        pub fn job_removed(&mut self, job: &str, result: &str, sender: Option<&str>) {
            let mut signal = Message::call(
                "",
                "/org/freedesktop/systemd1",
                "org.freedesktop.systemd1.Manager",
                "JobRemoved",
                vec![Value::U32(1), Value::Str(job.into()), Value::Str("unit".into()), Value::Str(result.into())],
            );
            signal.kind = MessageKind::Signal;
            signal.destination = None;
            signal.sender = sender.map(str::to_string);
            self.signals.push_back(signal);
        }
    }

    /// A connection answering from a shared script.
    pub struct FakeBus(pub Rc<RefCell<Script>>);

    impl SystemdBus for FakeBus {
        fn call(&mut self, _: &str, _: &str, _: &str, member: &str, _: Vec<Value>) -> Result<Vec<Value>, DbusError> {
            let mut script = self.0.borrow_mut();
            script.calls.push(member.to_string());
            let answer = script.answers.iter_mut().find(|(m, _)| *m == member).and_then(|(_, queue)| queue.pop_front());
            match answer {
                Some(Answer::Reply(body)) => Ok(body),
                Some(Answer::Error(name)) => Err(DbusError::Remote { method: member.to_string(), name: name.to_string(), message: "scripted".into() }),
                None => Ok(script.defaults.iter().find(|(m, _)| *m == member).map(|(_, body)| body.clone()).unwrap_or_default()),
            }
        }

        fn add_match(&mut self, _: &str) -> Result<(), DbusError> {
            Ok(())
        }

        fn has_daemon(&self) -> bool {
            self.0.borrow().daemon
        }

        fn wait_for_signal(&mut self, timeout: Duration, what: &str, wanted: &dyn Fn(&Message) -> bool) -> Result<Message, DbusError> {
            let mut script = self.0.borrow_mut();
            while let Some(signal) = script.signals.pop_front() {
                if wanted(&signal) {
                    return Ok(signal);
                }
            }
            Err(DbusError::Timeout { what: what.to_string(), seconds: timeout })
        }
    }
}
