#!/bin/sh
# make install into a temporary DESTDIR, then check what it put there: the binary and the wasm
# handler beside it (read-only, they run, skiff finds the handler), a man page per command that man -l renders, and the completions (bash's
# loaded in bash and asked to complete a subcommand); then make uninstall must remove
# exactly that, leaving only empty directories. Then an install in place under a temporary
# PREFIX: the binaries immutable, a container run, a reinstall and an uninstall.
# usage: install-test.sh REPO
set -eu
repo=$1
fail() { echo "install-test: FAIL: $*" >&2; exit 1; }
for tool in man bash find chattr lsattr; do command -v "$tool" >/dev/null || fail "$tool is missing (man-db, bash, findutils, e2fsprogs)"; done
dest=$(mktemp -d /tmp/skiff-install.XXXXXX)
trap 'rm -rf "$dest"' EXIT
make -s -C "$repo" install DESTDIR="$dest" PREFIX=/usr >/dev/null
p=$dest/usr
[ -x "$p/bin/skiff" ] || fail "no executable $p/bin/skiff"
[ "$(stat -c %a "$p/bin/skiff")" = 555 ] || fail "the binary is not installed read-only (0555): $(stat -c %a "$p/bin/skiff")"
"$p/bin/skiff" --version | grep -q '^skiff version' || fail "the installed binary does not run"
[ -x "$p/bin/skiff-wasm" ] || fail "no executable $p/bin/skiff-wasm (the wasm handler)"
[ "$(stat -c %a "$p/bin/skiff-wasm")" = 555 ] || fail "the wasm handler is not installed read-only (0555): $(stat -c %a "$p/bin/skiff-wasm")"
"$p/bin/skiff-wasm" --version | grep -q '^skiff-wasm .*wasmtime' || fail "the installed wasm handler does not run"
PATH=/usr/bin:/bin "$p/bin/skiff" doctor 2>&1 | grep -q "^ok  *wasm .*$p/bin/skiff-wasm" || fail "the installed skiff does not find its handler beside itself: $(PATH=/usr/bin:/bin "$p/bin/skiff" doctor 2>&1 | grep wasm)"
commands="create start run state kill delete list pause resume ps update events exec spec features doctor checkpoint restore"
for page in skiff $(for c in $commands; do echo "skiff-$c"; done); do
    file=$p/share/man/man8/$page.8
    [ -f "$file" ] || fail "no man page $page(8)"
    out=$(MANWIDTH=80 man -l "$file" 2>&1) || fail "man -l $file: $out"
    echo "$out" | grep -q "^NAME" || fail "$page(8) renders without a NAME section"
    echo "$out" | grep -q "$page" || fail "$page(8) does not name itself"
done
MANWIDTH=200 man -l "$p/share/man/man8/skiff-create.8" 2>/dev/null | grep -q -- "--bundle" || fail "skiff-create(8) does not describe --bundle"
MANWIDTH=200 man -l "$p/share/man/man8/skiff.8" 2>/dev/null | grep -q "config.json" || fail "skiff(8) does not describe the bundle"
[ -f "$p/share/zsh/vendor-completions/_skiff" ] || fail "no zsh completion"
[ -f "$p/share/fish/vendor_completions.d/skiff.fish" ] || fail "no fish completion"
bash_completion=$p/share/bash-completion/completions/skiff
[ -f "$bash_completion" ] || fail "no bash completion"
completed=$(bash -c ". '$bash_completion'; COMP_WORDS=(skiff cre); COMP_CWORD=1; COMP_LINE='skiff cre'; COMP_POINT=9; _skiff skiff cre skiff; printf '%s\n' \"\${COMPREPLY[@]}\"")
[ "$completed" = create ] || fail "bash completes 'skiff cre' to '$completed', not 'create'"
# A staged install leaves the attribute to the package: the tree stays removable.
lsattr "$p/bin/skiff" | cut -d' ' -f1 | grep -q i && fail "a staged install (DESTDIR) made $p/bin/skiff immutable"
make -s -C "$repo" uninstall DESTDIR="$dest" PREFIX=/usr >/dev/null
left=$(find "$dest" -type f -o -type l)
[ -z "$left" ] || fail "make uninstall left: $left"

# An install in place (no DESTDIR; here under a temporary PREFIX): the binaries immutable, so a
# container starts without a re-exec of skiff from a read-only mount; a second make install
# replaces them (an upgrade), and make uninstall removes them.
prefix=$(mktemp -d /tmp/skiff-prefix.XXXXXX)
trap 'chattr -i "$prefix/bin/skiff" "$prefix/bin/skiff-wasm" 2>/dev/null || true; rm -rf "$dest" "$prefix"' EXIT
make -s -C "$repo" install PREFIX="$prefix" >/dev/null
for f in skiff skiff-wasm; do
    lsattr "$prefix/bin/$f" | cut -d' ' -f1 | grep -q i || fail "make install did not make $prefix/bin/$f immutable: $(lsattr "$prefix/bin/$f")"
    (echo x >> "$prefix/bin/$f") 2>/dev/null && fail "root could write the installed $f"
done
bundle=$prefix/bundle
sh "$repo/integration/mk-bundle.sh" "$prefix/bin/skiff" "$bundle" true > /dev/null
out=$("$prefix/bin/skiff" --debug --root "$prefix/state" run --bundle "$bundle" install-test 2>&1) || fail "the installed skiff cannot run a container: $out"
echo "$out" | grep -q "binary is immutable" || fail "the installed skiff did not see its binary immutable: $out"
make -s -C "$repo" install PREFIX="$prefix" >/dev/null || fail "a second make install (an upgrade) failed"
lsattr "$prefix/bin/skiff" | cut -d' ' -f1 | grep -q i || fail "after a second make install, skiff is not immutable"
make -s -C "$repo" uninstall PREFIX="$prefix" >/dev/null || fail "make uninstall of the immutable binaries failed"
rm -rf "$bundle" "$prefix/state"
left=$(find "$prefix" -type f -o -type l)
[ -z "$left" ] || fail "make uninstall (in place) left: $left"
echo "install-test: make install and uninstall: binary and wasm handler, $(echo $commands | wc -w) + 1 man pages, bash/zsh/fish completions; in place: immutable binaries, a container without re-exec, reinstall, uninstall: ok"
