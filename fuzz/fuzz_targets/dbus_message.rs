//! A D-Bus message as it arrives from the bus socket (src/dbus/mod.rs reads the fixed header,
//! takes the length it announces, then decodes the whole message). Whatever decodes must
//! encode again, and decode to the same message: the client never holds what it could not send.

#![no_main]

use libfuzzer_sys::fuzz_target;
use skiff::dbus::Message;
use skiff::dbus::wire::FIXED_HEADER;

fuzz_target!(|data: &[u8]| {
    // The reader's path: the header's length first (refused above the maximum), then decode.
    if let Some(fixed) = data.get(..FIXED_HEADER).and_then(|b| <&[u8; FIXED_HEADER]>::try_from(b).ok()) {
        let _ = Message::length_from_header(fixed);
    }
    let Ok(message) = Message::decode(data) else { return };
    let Ok(bytes) = message.encode(message.serial) else { return };
    let again = Message::decode(&bytes).expect("an encoded message decodes");
    assert_eq!(again, message);
});
