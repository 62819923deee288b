#!/bin/sh
# The tests that need neither root nor busybox, run as an unprivileged user (nobody): the
# library's unit tests but those named as_root_* (they load BPF, write cgroups or chown; the
# root pass of `cargo test` runs them), and bad_input's config and id cases. A test that
# starts to need root fails here instead of hiding behind make test's root.
#
# usage: sh integration/unprivileged-tests.sh   (as root; cargo test --no-run builds the binaries)
set -eu
user=${UNPRIVILEGED_USER:-nobody}
command -v runuser >/dev/null || { echo "unprivileged-tests.sh: FAIL: runuser is missing (util-linux)" >&2; exit 1; }
id "$user" >/dev/null 2>&1 || { echo "unprivileged-tests.sh: FAIL: no user $user to run the tests as" >&2; exit 1; }
binaries=$(${CARGO:-cargo} test --locked --lib --test bad_input --no-run --message-format=json | jq -r 'select(.profile.test) | "\(.target.name) \(.executable)"')
lib=$(echo "$binaries" | awk '$1 == "skiff" { print $2 }')
bad_input=$(echo "$binaries" | awk '$1 == "bad_input" { print $2 }')
[ -x "$lib" ] && [ -x "$bad_input" ] || { echo "unprivileged-tests.sh: FAIL: test binaries not found ($binaries)" >&2; exit 1; }
cd /tmp
echo "unprivileged-tests.sh: the library's unit tests as $user (but as_root_*)"
runuser -u "$user" -- "$lib" --skip as_root_
echo "unprivileged-tests.sh: bad_input's config and id cases as $user"
runuser -u "$user" -- "$bad_input" --exact malformed_and_truncated_config config_type_errors_name_the_field_path missing_rootfs_and_empty_args bad_container_ids
