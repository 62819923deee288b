//! A minimal, blocking D-Bus client: enough to drive systemd's manager for the systemd cgroup
//! driver. One Unix socket, SASL `EXTERNAL` authentication, method calls with a deadline,
//! and signals kept aside while a reply is awaited. No threads and no event loop, so the
//! runtime can still fork after using it.
//!
//! Why our own and not a crate: `zbus` runs an executor thread per connection and pulls an
//! async stack into a binary whose hot path never speaks D-Bus; the `dbus` crate needs
//! libdbus, which a static skiff cannot link without loading it (and libsystemd's
//! dependencies) on every start. See docs/architecture.md for the figures.

pub mod wire;

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

pub use wire::{Message, MessageKind, Type, Value};

/// Where the system bus listens when `DBUS_SYSTEM_BUS_ADDRESS` is not set.
pub const SYSTEM_BUS: &str = "unix:path=/run/dbus/system_bus_socket";

/// systemd's own socket, which root may use without the bus daemon.
pub const SYSTEMD_PRIVATE: &str = "unix:path=/run/systemd/private";

/// How long a method call may take before it is given up.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// Errors of the D-Bus client.
#[derive(Debug, thiserror::Error)]
pub enum DbusError {
    /// No address of the bus could be connected to.
    #[error("connect to D-Bus at {address}")]
    Connect {
        /// The address tried (the last one, when there were several).
        address: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Neither `DBUS_SESSION_BUS_ADDRESS` nor `$XDG_RUNTIME_DIR/bus`.
    #[error("no user bus: DBUS_SESSION_BUS_ADDRESS is not set and $XDG_RUNTIME_DIR/bus does not exist (a user session with dbus-user-session provides it)")]
    NoSessionBus,
    /// An address this client cannot use.
    #[error("D-Bus address {0:?}: only unix:path= and unix:abstract= are supported")]
    Address(String),
    /// The server refused our credentials.
    #[error("D-Bus authentication at {address}: {reply}")]
    Auth {
        /// The address.
        address: String,
        /// The server's answer.
        reply: String,
    },
    /// Reading or writing the socket failed.
    #[error("{op} D-Bus socket")]
    Io {
        /// `read from` or `write to`.
        op: &'static str,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The peer sent something that is not D-Bus.
    #[error(transparent)]
    Wire(#[from] wire::WireError),
    /// The method call failed on the other side.
    #[error("{method}: {name}: {message}")]
    Remote {
        /// The method called.
        method: String,
        /// The D-Bus error name (`org.freedesktop.systemd1.NoSuchUnit`).
        name: String,
        /// Its message.
        message: String,
    },
    /// No answer in time.
    #[error("{what}: no answer from D-Bus within {} s", seconds.as_secs())]
    Timeout {
        /// What was waited for.
        what: String,
        /// How long.
        seconds: Duration,
    },
    /// A reply of an unexpected shape.
    #[error("{method}: unexpected reply {signature:?}")]
    Reply {
        /// The method called.
        method: String,
        /// The body's signature.
        signature: String,
    },
}

impl DbusError {
    /// The D-Bus error name of a failed call.
    pub fn remote_name(&self) -> Option<&str> {
        match self {
            DbusError::Remote { name, .. } => Some(name),
            _ => None,
        }
    }
}

/// A connection to a bus (or to systemd directly).
#[derive(Debug)]
pub struct Connection {
    stream: BufReader<UnixStream>,
    serial: u32,
    /// Signals that arrived while a reply was awaited.
    signals: VecDeque<Message>,
    /// Whether there is a bus daemon (then matches must be added for signals to arrive).
    bus: bool,
}

impl Connection {
    /// The system bus: `DBUS_SYSTEM_BUS_ADDRESS`, else the standard socket; for root, systemd's
    /// private socket when the bus cannot be reached (runc does the same).
    pub fn system() -> Result<Connection, DbusError> {
        let address = std::env::var("DBUS_SYSTEM_BUS_ADDRESS").unwrap_or_else(|_| SYSTEM_BUS.to_string());
        match Connection::open(&address, true) {
            Ok(connection) => Ok(connection),
            Err(error) if nix::unistd::geteuid().is_root() => Connection::open(SYSTEMD_PRIVATE, false).map_err(|_| error),
            Err(error) => Err(error),
        }
    }

    /// The user's session bus, where their systemd instance answers: `DBUS_SESSION_BUS_ADDRESS`,
    /// else `$XDG_RUNTIME_DIR/bus` (what dbus-user-session provides), as runc finds it.
    pub fn session() -> Result<Connection, DbusError> {
        let address = match std::env::var("DBUS_SESSION_BUS_ADDRESS") {
            Ok(address) if !address.is_empty() => address,
            _ => match std::env::var("XDG_RUNTIME_DIR") {
                Ok(dir) if std::path::Path::new(&dir).join("bus").exists() => format!("unix:path={dir}/bus"),
                _ => return Err(DbusError::NoSessionBus),
            },
        };
        Connection::open(&address, true)
    }

    /// Connect to `address` (`;`-separated alternatives), authenticate as our uid, and say
    /// Hello when `bus` (a bus daemon; systemd's private socket has none).
    pub fn open(address: &str, bus: bool) -> Result<Connection, DbusError> {
        let mut last = None;
        for candidate in address.split(';').filter(|a| !a.is_empty()) {
            match connect(candidate) {
                Ok(stream) => {
                    stream.set_write_timeout(Some(CALL_TIMEOUT)).map_err(|source| DbusError::Io { op: "set timeout on", source })?;
                    let mut connection = Connection { stream: BufReader::new(stream), serial: 0, signals: VecDeque::new(), bus };
                    connection.authenticate(candidate)?;
                    if bus {
                        connection.call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "Hello", vec![])?;
                    }
                    return Ok(connection);
                }
                Err(error) => last = Some(error),
            }
        }
        Err(last.unwrap_or_else(|| DbusError::Address(address.to_string())))
    }

    fn authenticate(&mut self, address: &str) -> Result<(), DbusError> {
        let uid = nix::unistd::geteuid().as_raw().to_string();
        let hex: String = uid.bytes().map(|b| format!("{b:02x}")).collect();
        // In a user namespace our uid is not the one the server sees (rootless podman runs
        // us as its namespace's root): then let the server take the socket's credentials.
        let in_user_namespace = crate::rootless::in_user_namespace();
        let mut reply = if in_user_namespace {
            self.send_raw(b"\0AUTH EXTERNAL\r\n")?;
            match self.read_line()? {
                line if line.starts_with("DATA") => {
                    self.send_raw(b"DATA\r\n")?;
                    self.read_line()?
                }
                line => line,
            }
        } else {
            self.send_raw(format!("\0AUTH EXTERNAL {hex}\r\n").as_bytes())?;
            self.read_line()?
        };
        reply.truncate(reply.trim_end().len());
        if !reply.starts_with("OK ") {
            return Err(DbusError::Auth { address: address.to_string(), reply: reply.trim_end().to_string() });
        }
        self.send_raw(b"BEGIN\r\n")
    }

    fn read_line(&mut self) -> Result<String, DbusError> {
        self.set_deadline(Instant::now() + CALL_TIMEOUT)?;
        let mut line = String::new();
        // The server's lines are short; a bound keeps a hostile peer from growing this.
        (&mut self.stream).take(4096).read_line(&mut line).map_err(|source| DbusError::Io { op: "read from", source })?;
        Ok(line)
    }

    fn send_raw(&mut self, bytes: &[u8]) -> Result<(), DbusError> {
        self.stream.get_mut().write_all(bytes).map_err(|source| DbusError::Io { op: "write to", source })
    }

    fn set_deadline(&mut self, deadline: Instant) -> Result<(), DbusError> {
        // A zero timeout means "none" to the socket: keep at least a millisecond.
        let left = deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(1));
        self.stream.get_ref().set_read_timeout(Some(left)).map_err(|source| DbusError::Io { op: "set timeout on", source })
    }

    /// Send a message; returns its serial.
    pub fn send(&mut self, message: &Message) -> Result<u32, DbusError> {
        self.serial = self.serial.wrapping_add(1).max(1);
        let bytes = message.encode(self.serial)?;
        self.send_raw(&bytes)?;
        Ok(self.serial)
    }

    /// Read the next message, waiting until `deadline`.
    fn receive(&mut self, deadline: Instant, what: &str) -> Result<Message, DbusError> {
        self.set_deadline(deadline)?;
        let timeout = |error: std::io::Error| {
            if matches!(error.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) {
                DbusError::Timeout { what: what.to_string(), seconds: CALL_TIMEOUT }
            } else {
                DbusError::Io { op: "read from", source: error }
            }
        };
        let mut fixed = [0u8; wire::FIXED_HEADER];
        self.stream.read_exact(&mut fixed).map_err(timeout)?;
        let length = Message::length_from_header(&fixed)?;
        let mut bytes = fixed.to_vec();
        bytes.resize(length, 0);
        self.stream.read_exact(&mut bytes[wire::FIXED_HEADER..]).map_err(timeout)?;
        Ok(Message::decode(&bytes)?)
    }

    /// Call a method and return the reply's body; an error reply becomes [`DbusError::Remote`].
    pub fn call(&mut self, destination: &str, path: &str, interface: &str, member: &str, body: Vec<Value>) -> Result<Vec<Value>, DbusError> {
        let serial = self.send(&Message::call(destination, path, interface, member, body))?;
        let deadline = Instant::now() + CALL_TIMEOUT;
        loop {
            let message = self.receive(deadline, member)?;
            match message.kind {
                MessageKind::Signal => self.signals.push_back(message),
                MessageKind::Return if message.reply_serial == Some(serial) => return Ok(message.body),
                MessageKind::Error if message.reply_serial == Some(serial) => {
                    return Err(DbusError::Remote {
                        method: member.to_string(),
                        name: message.error_name.clone().unwrap_or_default(),
                        message: message.first_str().unwrap_or_default().to_string(),
                    });
                }
                // Replies to calls we no longer wait for, and calls to us: ignored.
                _ => {}
            }
        }
    }

    /// Whether a bus daemon is in between (not systemd's private socket).
    pub fn has_daemon(&self) -> bool {
        self.bus
    }

    /// Ask the bus daemon to route signals matching `rule` to us (a no-op on a direct
    /// connection, where systemd sends every signal).
    pub fn add_match(&mut self, rule: &str) -> Result<(), DbusError> {
        if !self.bus {
            return Ok(());
        }
        self.call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "AddMatch", vec![Value::Str(rule.to_string())])?;
        Ok(())
    }

    /// Wait for a signal that `wanted` accepts, until `timeout`; other signals are dropped.
    pub fn wait_for_signal(&mut self, timeout: Duration, what: &str, mut wanted: impl FnMut(&Message) -> bool) -> Result<Message, DbusError> {
        while let Some(signal) = self.signals.pop_front() {
            if wanted(&signal) {
                return Ok(signal);
            }
        }
        let deadline = Instant::now() + timeout;
        loop {
            let message = self.receive(deadline, what).map_err(|error| match error {
                DbusError::Timeout { what, .. } => DbusError::Timeout { what, seconds: timeout },
                other => other,
            })?;
            if message.kind == MessageKind::Signal && wanted(&message) {
                return Ok(message);
            }
        }
    }
}

/// Connect to one address of the form `unix:path=...` or `unix:abstract=...`.
fn connect(address: &str) -> Result<UnixStream, DbusError> {
    let invalid = || DbusError::Address(address.to_string());
    let rest = address.strip_prefix("unix:").ok_or_else(invalid)?;
    for pair in rest.split(',') {
        let (key, value) = pair.split_once('=').ok_or_else(invalid)?;
        let value = unescape(value).ok_or_else(invalid)?;
        let connected = match key {
            "path" => UnixStream::connect(&value),
            "abstract" => {
                use std::os::linux::net::SocketAddrExt;
                std::os::unix::net::SocketAddr::from_abstract_name(value.as_bytes()).and_then(|a| UnixStream::connect_addr(&a))
            }
            _ => continue,
        };
        return connected.map_err(|source| DbusError::Connect { address: address.to_string(), source });
    }
    Err(invalid())
}

/// Undo the `%XX` escapes of a D-Bus address value.
fn unescape(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        assert_eq!(unescape("/run/user/1000/bus").as_deref(), Some("/run/user/1000/bus"));
        assert_eq!(unescape("/tmp/a%2cb").as_deref(), Some("/tmp/a,b"));
        assert!(unescape("%zz").is_none());
        assert!(matches!(connect("tcp:host=localhost"), Err(DbusError::Address(_))));
        assert!(matches!(connect("unix:path=/nonexistent/skiff-bus"), Err(DbusError::Connect { .. })));
    }

    /// A fake bus on a socketpair: checks the client's authentication and Hello, then
    /// answers a call with a signal first (kept aside) and the reply.
    #[test]
    fn call_keeps_signals_aside_and_matches_the_reply() {
        let (client, server) = UnixStream::pair().unwrap();
        let peer = std::thread::spawn(move || {
            let mut server = BufReader::new(server);
            let mut line = Vec::new();
            server.read_until(b'\n', &mut line).unwrap();
            assert!(line.starts_with(b"\0AUTH EXTERNAL "), "{line:?}");
            server.get_mut().write_all(b"OK 0123456789abcdef\r\n").unwrap();
            line.clear();
            server.read_until(b'\n', &mut line).unwrap();
            assert_eq!(line, b"BEGIN\r\n");
            let mut fixed = [0u8; wire::FIXED_HEADER];
            server.read_exact(&mut fixed).unwrap();
            let mut bytes = fixed.to_vec();
            bytes.resize(Message::length_from_header(&fixed).unwrap(), 0);
            server.read_exact(&mut bytes[wire::FIXED_HEADER..]).unwrap();
            let call = Message::decode(&bytes).unwrap();
            assert_eq!(call.member.as_deref(), Some("StartTransientUnit"));
            let mut signal = Message::call(
                "x",
                "/org/freedesktop/systemd1",
                "org.freedesktop.systemd1.Manager",
                "JobRemoved",
                vec![Value::U32(9), Value::ObjectPath("/org/freedesktop/systemd1/job/9".into()), Value::Str("a.scope".into()), Value::Str("done".into())],
            );
            signal.kind = MessageKind::Signal;
            signal.destination = None;
            server.get_mut().write_all(&signal.encode(100).unwrap()).unwrap();
            let mut reply = Message::call("x", "/", "i.f", "M", vec![Value::ObjectPath("/org/freedesktop/systemd1/job/9".into())]);
            reply.kind = MessageKind::Return;
            reply.path = None;
            reply.interface = None;
            reply.member = None;
            reply.reply_serial = Some(call.serial);
            server.get_mut().write_all(&reply.encode(101).unwrap()).unwrap();
        });
        let mut connection = Connection { stream: BufReader::new(client), serial: 0, signals: VecDeque::new(), bus: false };
        connection.authenticate("test").unwrap();
        let body =
            connection.call("org.freedesktop.systemd1", "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager", "StartTransientUnit", vec![]).unwrap();
        assert_eq!(body, vec![Value::ObjectPath("/org/freedesktop/systemd1/job/9".into())]);
        let signal = connection.wait_for_signal(Duration::from_millis(10), "JobRemoved", |m| m.member.as_deref() == Some("JobRemoved")).unwrap();
        assert_eq!(signal.body[3], Value::Str("done".into()));
        peer.join().unwrap();
        assert!(matches!(
            connection.wait_for_signal(Duration::from_millis(10), "JobRemoved", |_| true),
            Err(DbusError::Timeout { .. }) | Err(DbusError::Io { .. })
        ));
    }
}
