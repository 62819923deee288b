//! The few rtnetlink requests `linux.netDevices` needs: move a host interface into the
//! container's network namespace under its new name, keep its permanent global addresses,
//! and bring it up. Written here rather than with a netlink crate: four message kinds, no
//! async runtime, nothing on the hot path (see docs/architecture.md).

use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};

use nix::errno::Errno;
use nix::sys::socket::{AddressFamily, MsgFlags, SockFlag, SockProtocol, SockType};

use super::SysError;

const RTM_NEWLINK: u16 = 16;
const RTM_NEWADDR: u16 = 20;
const RTM_GETADDR: u16 = 22;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_ACK: u16 = 0x4;
const NLM_F_EXCL: u16 = 0x200;
const NLM_F_CREATE: u16 = 0x400;
const NLM_F_DUMP: u16 = 0x300;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const IFLA_IFNAME: u16 = 3;
const IFLA_NET_NS_FD: u16 = 28;
const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;
const IFA_BROADCAST: u16 = 4;
const IFA_FLAGS: u16 = 8;
const IFA_F_PERMANENT: u32 = 0x80;
const RT_SCOPE_UNIVERSE: u8 = 0;
const IFF_UP: u32 = 0x1;
const HEADER: usize = 16;

/// An address to carry over with a device: family, prefix length and the address bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    family: u8,
    prefix: u8,
    local: Vec<u8>,
    peer: Vec<u8>,
    broadcast: Vec<u8>,
}

impl std::fmt::Display for Address {
    /// `192.0.2.1/24`, `2001:db8::1/64`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let bytes = if self.local.is_empty() { &self.peer } else { &self.local };
        let ip = match bytes.len() {
            4 => std::net::IpAddr::from(<[u8; 4]>::try_from(bytes.as_slice()).unwrap_or_default()),
            16 => std::net::IpAddr::from(<[u8; 16]>::try_from(bytes.as_slice()).unwrap_or_default()),
            _ => return write!(f, "{bytes:?}/{}", self.prefix),
        };
        write!(f, "{ip}/{}", self.prefix)
    }
}

/// A route netlink socket, in the network namespace it was opened in.
pub struct Netlink {
    socket: OwnedFd,
    sequence: u32,
}

fn align(length: usize) -> usize {
    (length + 3) & !3
}

/// A request being built: header, fixed part, then attributes.
struct Message(Vec<u8>);

impl Message {
    fn new(kind: u16, flags: u16, fixed: &[u8]) -> Message {
        let mut bytes = vec![0; HEADER];
        bytes[4..6].copy_from_slice(&kind.to_ne_bytes());
        bytes[6..8].copy_from_slice(&flags.to_ne_bytes());
        bytes.extend_from_slice(fixed);
        bytes.resize(align(bytes.len()), 0);
        Message(bytes)
    }

    fn attribute(mut self, kind: u16, data: &[u8]) -> Message {
        let length = 4 + data.len();
        self.0.extend_from_slice(&(length as u16).to_ne_bytes());
        self.0.extend_from_slice(&kind.to_ne_bytes());
        self.0.extend_from_slice(data);
        self.0.resize(align(self.0.len()), 0);
        self
    }
}

/// `struct ifinfomsg` for interface `index`, changing the flags in `change` to `flags`.
fn link_header(index: i32, flags: u32, change: u32) -> Vec<u8> {
    let mut fixed = vec![0u8; 16];
    fixed[4..8].copy_from_slice(&index.to_ne_bytes());
    fixed[8..12].copy_from_slice(&flags.to_ne_bytes());
    fixed[12..16].copy_from_slice(&change.to_ne_bytes());
    fixed
}

/// The NUL-terminated name, as IFLA_IFNAME carries it.
fn name_bytes(name: &str) -> Vec<u8> {
    let mut bytes = name.as_bytes().to_vec();
    bytes.push(0);
    bytes
}

/// Each message in a receive buffer: (type, payload after the header).
fn messages(buffer: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    let mut at = 0;
    std::iter::from_fn(move || {
        let header = buffer.get(at..at + HEADER)?;
        let length = u32::from_ne_bytes(header[0..4].try_into().ok()?) as usize;
        let kind = u16::from_ne_bytes(header[4..6].try_into().ok()?);
        let payload = buffer.get(at + HEADER..at + length.max(HEADER))?;
        at += align(length.max(HEADER));
        Some((kind, payload))
    })
}

/// The (negative errno, or 0 for an acknowledgement) code of an NLMSG_ERROR message.
fn error_code(kind: u16, payload: &[u8]) -> Option<i32> {
    (kind == NLMSG_ERROR).then(|| payload.get(..4)?.try_into().ok().map(i32::from_ne_bytes)).flatten()
}

/// The attributes after a fixed part: (type, data).
fn attributes(data: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    let mut at = 0;
    std::iter::from_fn(move || {
        let header = data.get(at..at + 4)?;
        let length = u16::from_ne_bytes([header[0], header[1]]) as usize;
        let kind = u16::from_ne_bytes([header[2], header[3]]) & 0x3fff;
        let value = data.get(at + 4..at + length.max(4))?;
        at += align(length.max(4));
        Some((kind, value))
    })
}

/// The permanent, global addresses of interface `index` in an RTM_GETADDR answer.
fn permanent_addresses(buffer: &[u8], index: i32) -> Vec<Address> {
    let mut found = Vec::new();
    for (kind, payload) in messages(buffer) {
        if kind != RTM_NEWADDR || payload.len() < 8 {
            continue;
        }
        let (family, prefix, short_flags, scope) = (payload[0], payload[1], payload[2] as u32, payload[3]);
        let address_index = i32::from_ne_bytes([payload[4], payload[5], payload[6], payload[7]]);
        if address_index != index || scope != RT_SCOPE_UNIVERSE {
            continue;
        }
        let (mut flags, mut local, mut peer, mut broadcast) = (short_flags, Vec::new(), Vec::new(), Vec::new());
        for (attribute, value) in attributes(&payload[8..]) {
            match attribute {
                IFA_FLAGS if value.len() == 4 => flags = u32::from_ne_bytes([value[0], value[1], value[2], value[3]]),
                IFA_LOCAL => local = value.to_vec(),
                IFA_ADDRESS => peer = value.to_vec(),
                IFA_BROADCAST => broadcast = value.to_vec(),
                _ => {}
            }
        }
        if flags & IFA_F_PERMANENT != 0 && !(local.is_empty() && peer.is_empty()) {
            found.push(Address { family, prefix, local, peer, broadcast });
        }
    }
    found
}

impl Netlink {
    /// A route netlink socket in the caller's network namespace.
    pub fn open() -> Result<Netlink, SysError> {
        let socket = nix::sys::socket::socket(AddressFamily::Netlink, SockType::Raw, SockFlag::SOCK_CLOEXEC, SockProtocol::NetlinkRoute)
            .map_err(|errno| SysError::new("socket", "NETLINK_ROUTE", errno))?;
        Ok(Netlink { socket, sequence: 0 })
    }

    fn send(&mut self, mut message: Message) -> Result<u32, Errno> {
        self.sequence += 1;
        let length = message.0.len() as u32;
        message.0[0..4].copy_from_slice(&length.to_ne_bytes());
        message.0[8..12].copy_from_slice(&self.sequence.to_ne_bytes());
        nix::sys::socket::send(self.socket.as_raw_fd(), &message.0, MsgFlags::empty())?;
        Ok(self.sequence)
    }

    /// Send a request with NLM_F_ACK and wait for its acknowledgement.
    fn request(&mut self, message: Message) -> Result<(), Errno> {
        self.send(message)?;
        let mut buffer = vec![0u8; 8192];
        loop {
            let received = nix::sys::socket::recv(self.socket.as_raw_fd(), &mut buffer, MsgFlags::empty())?;
            for (kind, payload) in messages(&buffer[..received]) {
                if let Some(code) = error_code(kind, payload) {
                    return if code == 0 { Ok(()) } else { Err(Errno::from_raw(-code)) };
                }
            }
        }
    }

    /// Collect a dump until NLMSG_DONE.
    fn dump(&mut self, message: Message) -> Result<Vec<u8>, Errno> {
        self.send(message)?;
        let mut all = Vec::new();
        let mut buffer = vec![0u8; 32768];
        loop {
            let received = nix::sys::socket::recv(self.socket.as_raw_fd(), &mut buffer, MsgFlags::empty())?;
            let chunk = &buffer[..received];
            for (kind, payload) in messages(chunk) {
                if kind == NLMSG_DONE {
                    all.extend_from_slice(chunk);
                    return Ok(all);
                }
                if let Some(code) = error_code(kind, payload) {
                    return Err(Errno::from_raw(-code));
                }
            }
            all.extend_from_slice(chunk);
        }
    }

    /// Bring interface `index` up or down.
    pub fn set_up(&mut self, index: i32, name: &str, up: bool) -> Result<(), SysError> {
        let message = Message::new(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, &link_header(index, if up { IFF_UP } else { 0 }, IFF_UP));
        self.request(message).map_err(|errno| SysError::new(if up { "set link up" } else { "set link down" }, name, errno))
    }

    /// Move interface `index` into the network namespace `namespace`, named `new_name` there
    /// (one request: the rename and the move happen together).
    pub fn move_to(&mut self, index: i32, name: &str, new_name: &str, namespace: BorrowedFd) -> Result<(), SysError> {
        let message = Message::new(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, &link_header(index, 0, 0))
            .attribute(IFLA_IFNAME, &name_bytes(new_name))
            .attribute(IFLA_NET_NS_FD, &(namespace.as_raw_fd() as u32).to_ne_bytes());
        self.request(message)
            .map_err(|errno| SysError::new("move network device", format!("{name} into the container's network namespace as {new_name}"), errno))
    }

    /// Rename interface `index` to `new_name` (a `%d` pattern lets the kernel pick the number).
    pub fn rename(&mut self, index: i32, name: &str, new_name: &str) -> Result<(), SysError> {
        let message = Message::new(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, &link_header(index, 0, 0)).attribute(IFLA_IFNAME, &name_bytes(new_name));
        self.request(message).map_err(|errno| SysError::new("rename network device", format!("{name} to {new_name}"), errno))
    }

    /// The permanent, global addresses of interface `index`.
    pub fn addresses(&mut self, index: i32, name: &str) -> Result<Vec<Address>, SysError> {
        let message = Message::new(RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, &[0u8; 8]);
        let answer = self.dump(message).map_err(|errno| SysError::new("list addresses", name, errno))?;
        Ok(permanent_addresses(&answer, index))
    }

    /// Add `address` to interface `index`.
    pub fn add_address(&mut self, index: i32, name: &str, address: &Address) -> Result<(), SysError> {
        let mut fixed = vec![address.family, address.prefix, IFA_F_PERMANENT as u8, RT_SCOPE_UNIVERSE];
        fixed.extend_from_slice(&index.to_ne_bytes());
        let mut message = Message::new(RTM_NEWADDR, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, &fixed);
        if !address.local.is_empty() {
            message = message.attribute(IFA_LOCAL, &address.local);
        }
        if !address.peer.is_empty() {
            message = message.attribute(IFA_ADDRESS, &address.peer);
        }
        if !address.broadcast.is_empty() {
            message = message.attribute(IFA_BROADCAST, &address.broadcast);
        }
        self.request(message).map_err(|errno| SysError::new("add address", format!("{address} to {name}"), errno))
    }
}

/// Bring the loopback interface of the caller's network namespace up (in a new namespace
/// it is always index 1, `LOOPBACK_IFINDEX`, and down).
pub fn bring_loopback_up() -> Result<(), SysError> {
    const LOOPBACK_INDEX: i32 = 1;
    Netlink::open()?.set_up(LOOPBACK_INDEX, "lo", true)
}

/// The index of interface `name` in the caller's network namespace.
pub fn interface_index(name: &str) -> Result<i32, SysError> {
    let c_name = std::ffi::CString::new(name).map_err(|_| SysError::refused("find network device", name, "the name contains a NUL byte"))?;
    // SAFETY: a NUL-terminated string.
    match unsafe { libc::if_nametoindex(c_name.as_ptr()) } {
        0 => Err(SysError::new("find network device", name, Errno::last())),
        index => Ok(index as i32),
    }
}

/// Whether `name` is a name the kernel takes for an interface (runc's rule: 1 to 15 bytes,
/// not `.` or `..`, no `/`, `:` or white space).
pub fn is_valid_interface_name(name: &str) -> bool {
    !name.is_empty() && name.len() < 16 && name != "." && name != ".." && !name.chars().any(|c| c == '/' || c == ':' || c.is_whitespace())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_laid_out_as_the_kernel_reads_them() {
        let message = Message::new(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, &link_header(7, 0, 0)).attribute(IFLA_IFNAME, &name_bytes("eth1"));
        let bytes = &message.0;
        assert_eq!(bytes.len(), 16 + 16 + 12, "header, ifinfomsg, and a 9-byte attribute padded to 12");
        assert_eq!(u16::from_ne_bytes([bytes[4], bytes[5]]), RTM_NEWLINK);
        assert_eq!(i32::from_ne_bytes(bytes[20..24].try_into().unwrap()), 7);
        assert_eq!(u16::from_ne_bytes([bytes[32], bytes[33]]), 9);
        assert_eq!(&bytes[36..41], b"eth1\0");
    }

    #[test]
    fn only_permanent_global_addresses_of_the_device_are_kept() {
        let address = |index: i32, scope: u8, flags: u8, ip: [u8; 4]| {
            let mut fixed = vec![2u8, 24, flags, scope];
            fixed.extend_from_slice(&index.to_ne_bytes());
            let mut message = Message::new(RTM_NEWADDR, 0, &fixed).attribute(IFA_LOCAL, &ip).attribute(IFA_ADDRESS, &ip);
            let length = message.0.len() as u32;
            message.0[0..4].copy_from_slice(&length.to_ne_bytes());
            message.0
        };
        let mut dump = address(3, 0, 0x80, [192, 0, 2, 1]);
        dump.extend(address(3, 253, 0x80, [192, 0, 2, 2])); // link scope
        dump.extend(address(3, 0, 0, [192, 0, 2, 3])); // not permanent (DHCP, say)
        dump.extend(address(4, 0, 0x80, [192, 0, 2, 4])); // another device
        let kept = permanent_addresses(&dump, 3);
        assert_eq!(kept, vec![Address { family: 2, prefix: 24, local: vec![192, 0, 2, 1], peer: vec![192, 0, 2, 1], broadcast: vec![] }]);
        assert_eq!(kept[0].to_string(), "192.0.2.1/24");
    }

    #[test]
    fn interface_names() {
        for good in ["eth0", "veth-x.1", "net%d", "a23456789012345"] {
            assert!(is_valid_interface_name(good), "{good}");
        }
        for bad in ["", ".", "..", "a/b", "a:b", "a b", "a234567890123456"] {
            assert!(!is_valid_interface_name(bad), "{bad}");
        }
    }
}
