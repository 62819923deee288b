//! `skiff update --resources -`: the JSON is decoded as the CLI does (UTF-8 text, then
//! `LinuxResources`), then planned as cgroup v2 and v1 writes. The device rules of an update
//! are not applied (as with runc) but go through the same conversion and emulator as
//! create's, so they are fuzzed here too, as a spec's `linux.resources`.

#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // src/cli/update.rs: read_to_string (UTF-8 or an error), then serde_json::from_str.
    let Ok(text) = std::str::from_utf8(data) else { return };
    common::update_document(text);
});
