#!/bin/sh
# The .deb made by make deb: its contents, then dpkg-installed into a temporary root (dpkg
# --root, its own database), the installed skiff used to run a busybox container and a
# WebAssembly module (with the wasm handler packaged beside it), the binaries immutable
# (postinst), the package installed again over itself (prerm, then postinst), and the
# package removed: nothing of it may be left.
# usage: deb-test.sh REPO DEB_DIR
set -eu
repo=$1; debs=$2
fail() { echo "deb-test: FAIL: $*" >&2; exit 1; }
command -v dpkg >/dev/null || fail "dpkg is missing"
deb=$(ls "$debs"/skiff_*_amd64.deb 2>/dev/null | tail -n 1)
[ -n "$deb" ] || fail "no skiff_*_amd64.deb in $debs (make deb)"
contents=$(dpkg-deb -c "$deb")
for path in ./usr/bin/skiff ./usr/bin/skiff-wasm ./usr/share/man/man8/skiff.8.gz ./usr/share/man/man8/skiff-run.8.gz \
    ./usr/share/bash-completion/completions/skiff ./usr/share/zsh/vendor-completions/_skiff \
    ./usr/share/fish/vendor_completions.d/skiff.fish ./usr/share/doc/skiff/examples/podman-containers.conf \
    ./usr/share/doc/skiff/examples/containerd-config.toml ./usr/share/doc/skiff/examples/docker-daemon.json \
    ./usr/share/doc/skiff/examples/runtimeclass.yaml ./usr/share/doc/skiff/kubernetes.md; do
    echo "$contents" | grep -q " $path\$" || fail "$path is not in the package: $contents"
done
echo "$contents" | grep -q '^-r-xr-xr-x .* ./usr/bin/skiff$' || fail "the binary is not packaged read-only (0555)"
echo "$contents" | grep -q '^-r-xr-xr-x .* ./usr/bin/skiff-wasm$' || fail "the wasm handler is not packaged read-only (0555)"
for tool in chattr lsattr ldd busybox; do command -v "$tool" >/dev/null || fail "$tool is missing (e2fsprogs, libc-bin, busybox-static)"; done
root=$(mktemp -d /tmp/skiff-deb.XXXXXX)
trap 'chattr -i "$root/usr/bin/skiff" "$root/usr/bin/skiff-wasm" 2>/dev/null || true; rm -rf "$root"' EXIT
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$root/var/lib/dpkg/triggers"
touch "$root/var/lib/dpkg/status"
# dpkg runs the maintainer scripts chrooted into the root: a shell there (busybox), /dev/null, and chattr
# with the libraries it loads (outside /usr, which must be empty after the removal).
mkdir -p "$root/bin" "$root/dev" && mknod -m 666 "$root/dev/null" c 1 3
cp "$(command -v busybox)" "$root/bin/busybox" && ln -s busybox "$root/bin/sh"
cp "$(command -v chattr)" "$root/bin/chattr"
for lib in $(ldd "$(command -v chattr)" | grep -o '/[^ ]*'); do
    mkdir -p "$root$(dirname "$lib")" && cp "$lib" "$root$lib"
done
immutable() { lsattr "$1" 2>/dev/null | cut -d' ' -f1 | grep -q i; }
dpkg --root="$root" --log=/dev/null -i "$deb" > "$root/install.log" 2>&1 || fail "dpkg -i: $(cat "$root/install.log")"
dpkg --root="$root" -s skiff | grep -q '^Status: install ok installed' || fail "dpkg does not list skiff as installed"
skiff=$root/usr/bin/skiff
# postinst made both binaries immutable: containers start without a re-exec of skiff.
for f in skiff skiff-wasm; do immutable "$root/usr/bin/$f" || fail "postinst did not make /usr/bin/$f immutable: $(lsattr "$root/usr/bin/$f") $(cat "$root/install.log")"; done
sh "$repo/integration/mk-bundle.sh" "$skiff" "$root/bundle" sh -c 'echo container-ran' > /dev/null
out=$("$skiff" --root "$root/state" run --bundle "$root/bundle" deb-test 2>"$root/debug.log") || fail "the installed skiff cannot run a container: $out $(cat "$root/debug.log")"
[ "$out" = container-ran ] || fail "the container said '$out'"
"$skiff" --debug --root "$root/state" run --bundle "$root/bundle" deb-test-debug >/dev/null 2>"$root/debug.log" || fail "the installed skiff cannot run a container with --debug: $(cat "$root/debug.log")"
grep -q "binary is immutable" "$root/debug.log" || fail "the installed skiff did not see its binary immutable: $(cat "$root/debug.log")"
# The same package again: prerm clears the attribute, dpkg replaces the files, postinst sets it.
dpkg --root="$root" --log=/dev/null -i "$deb" > "$root/install.log" 2>&1 || fail "dpkg -i over the installed package (an upgrade): $(cat "$root/install.log")"
immutable "$skiff" || fail "after the reinstall, /usr/bin/skiff is not immutable"
# A WebAssembly module (text, which the compat variant accepts), by the handler the package put
# beside skiff.
cp "$repo/integration/wasm/hello.wat" "$root/bundle/rootfs/hello.wat"
jq '.process.args = ["/hello.wat"] | .annotations = {"module.wasm.image/variant": "compat"}' "$root/bundle/config.json" > "$root/config.json" &&
    mv "$root/config.json" "$root/bundle/config.json" || fail "jq could not edit the bundle's config"
out=$(PATH=/usr/bin:/bin "$skiff" --root "$root/state" run --bundle "$root/bundle" deb-wasm 2>&1) || fail "the installed skiff cannot run a wasm module: $out"
[ "$out" = "hello from wasm" ] || fail "the module said '$out'"
dpkg --root="$root" --log=/dev/null -r skiff > "$root/remove.log" 2>&1 || fail "dpkg -r: $(cat "$root/remove.log")"
left=$(find "$root/usr" -type f -o -type l 2>/dev/null || true)
[ -z "$left" ] || fail "dpkg -r left: $left"
echo "deb-test: $(basename "$deb"): contents, dpkg install into a temporary root, immutable binaries, a container and a module run, reinstall, removal: ok"
