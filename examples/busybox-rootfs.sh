#!/usr/bin/env bash
# Writes a busybox root filesystem tar to stdout (or to $1), made from Debian's busybox-static.
# This is pallet's base image for tests and the demo, since Docker Hub is not reachable here:
#   examples/busybox-rootfs.sh | pallet import - busybox:latest
# The tar is reproducible: sorted entries, fixed mtimes, numeric root ownership.
set -euo pipefail
BUSYBOX=${BUSYBOX:-/bin/busybox}
[[ -x $BUSYBOX ]] || { echo "busybox-static is not installed ($BUSYBOX missing): apt-get install busybox-static" >&2; exit 1; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
chmod 755 "$dir"
mkdir -p "$dir"/{bin,sbin,usr/bin,usr/sbin,etc,root,tmp,var/www,dev,proc,sys,home}
chmod 1777 "$dir/tmp"
cp "$BUSYBOX" "$dir/bin/busybox"
for applet in $("$BUSYBOX" --list-full); do
  [[ -e "$dir/$applet" ]] && continue
  # a relative link, so the tree is correct wherever it is unpacked
  depth=$(tr -cd / <<<"$applet" | wc -c)
  up=$(printf '../%.0s' $(seq 1 "$depth"))
  ln -s "${up}bin/busybox" "$dir/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n' > "$dir/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$dir/etc/group"
out=${1:--}
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$dir" -cf "$out" .
