//! This binary's own identity: the GNU build id the linker wrote into it (a hash of the
//! linked output, libseccomp's static library included), read from the program headers the
//! kernel mapped, so no file is opened, and a run from a sealed copy reads the same id.

/// `NT_GNU_BUILD_ID`.
const NT_GNU_BUILD_ID: u32 = 3;

/// The build id as lowercase hex, or `None` when the binary carries none (then nothing
/// keyed on it may be reused).
pub fn own_build_id() -> Option<String> {
    // SAFETY: getauxval only reads the auxiliary vector the kernel gave this process.
    let (phdr, count) = unsafe { (libc::getauxval(libc::AT_PHDR), libc::getauxval(libc::AT_PHNUM)) };
    if phdr == 0 || count == 0 {
        return None;
    }
    // SAFETY: AT_PHDR and AT_PHNUM describe the main program's headers, mapped for the life
    // of the process; Elf64_Phdr is their layout on this (64-bit) target.
    let headers = unsafe { std::slice::from_raw_parts(phdr as *const libc::Elf64_Phdr, count as usize) };
    // The load bias: where PT_PHDR is, against where the headers say it is (0 unless PIE).
    let bias = headers.iter().find(|h| h.p_type == libc::PT_PHDR).map(|h| phdr.wrapping_sub(h.p_vaddr))?;
    headers.iter().filter(|h| h.p_type == libc::PT_NOTE).find_map(|note| {
        // SAFETY: a PT_NOTE segment lies inside a loaded segment of the program, mapped
        // readable for the life of the process, p_filesz bytes from its address.
        let bytes = unsafe { std::slice::from_raw_parts(bias.wrapping_add(note.p_vaddr) as *const u8, note.p_filesz as usize) };
        find_build_id(bytes)
    })
}

/// The descriptor of the first `GNU` build-id note in `notes`, as hex.
fn find_build_id(mut notes: &[u8]) -> Option<String> {
    let word = |bytes: &[u8], at: usize| -> Option<u32> { Some(u32::from_ne_bytes(bytes.get(at..at + 4)?.try_into().ok()?)) };
    let align4 = |n: usize| (n + 3) & !3;
    while notes.len() >= 12 {
        let (name_size, desc_size, kind) = (word(notes, 0)? as usize, word(notes, 4)? as usize, word(notes, 8)?);
        let name = notes.get(12..12 + name_size)?;
        let desc_start = 12 + align4(name_size);
        let desc = notes.get(desc_start..desc_start + desc_size)?;
        if kind == NT_GNU_BUILD_ID && name == b"GNU\0" && !desc.is_empty() {
            return Some(desc.iter().map(|b| format!("{b:02x}")).collect());
        }
        notes = notes.get(desc_start + align4(desc_size)..)?;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(name: &[u8], kind: u32, desc: &[u8]) -> Vec<u8> {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&(name.len() as u32).to_ne_bytes());
        bytes.extend_from_slice(&(desc.len() as u32).to_ne_bytes());
        bytes.extend_from_slice(&kind.to_ne_bytes());
        bytes.extend_from_slice(name);
        bytes.resize(bytes.len().next_multiple_of(4), 0);
        bytes.extend_from_slice(desc);
        bytes.resize(bytes.len().next_multiple_of(4), 0);
        bytes
    }

    #[test]
    fn the_build_id_note_is_found_after_others() {
        let mut notes = note(b"GNU\0", 1, &[0, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0]);
        notes.extend(note(b"GNU\0", NT_GNU_BUILD_ID, &[0xc4, 0x9f, 0x25]));
        assert_eq!(find_build_id(&notes).as_deref(), Some("c49f25"));
        assert_eq!(find_build_id(&note(b"Go\0\0", NT_GNU_BUILD_ID, &[1])), None, "another owner's note");
        assert_eq!(find_build_id(&notes[..notes.len() - 4]), None, "a torn note");
    }

    #[test]
    fn this_test_binary_has_one() {
        // Debian's gcc driver asks every link for a build id; so does the release build.
        let id = own_build_id().expect("the test binary carries a GNU build id");
        assert!(id.len() >= 16 && id.chars().all(|c| c.is_ascii_hexdigit()), "{id}");
    }
}
