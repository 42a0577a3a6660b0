#!/usr/bin/env bash
# The seeds' workflow, end to end: build an image, run two containers from it side by side,
# look at them, change one, stop and remove them, and show the image never changed.
# Run it with `./dev demo` (which installs everything first). Uses the default store
# (/var/lib/pallet) unless PALLET_ROOT/PALLET_RUNROOT say otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { say "$*"; "$@"; }

pallet rm -f myapp-1 myapp-2 >/dev/null 2>&1 || true

if ! pallet image inspect busybox:latest >/dev/null 2>&1; then
  say "examples/busybox-rootfs.sh | pallet import -c 'CMD [\"sh\"]' - busybox:latest"
  examples/busybox-rootfs.sh | pallet import -c 'CMD ["sh"]' - busybox:latest
fi

run pallet build -t myapp:1.0 examples/myapp
run pallet images myapp

# Two instances of one image, each with its own writable layer and published port.
publish1=(); publish2=()
if pallet network ls >/dev/null 2>&1; then publish1=(-p 8080:80); publish2=(-p 8081:80); fi
run pallet run -d --init --name myapp-1 "${publish1[@]}" -e APP_ENV=production myapp:1.0
run pallet run -d --init --name myapp-2 "${publish2[@]}" myapp:1.0
run pallet ps

if ((${#publish1[@]})); then
  for port in 8080 8081; do
    say "fetch http://127.0.0.1:$port/"
    python3 - "$port" <<'PY'
import sys, time, urllib.request
for _ in range(50):
    try:
        print(urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/", timeout=2).read().decode(), end="")
        break
    except OSError:
        time.sleep(0.1)
PY
  done
fi

run pallet exec myapp-1 sh -c 'echo "<h1>changed in myapp-1 only</h1>" > /var/www/index.html; echo $APP_ENV'
run pallet exec myapp-1 cat /var/www/index.html
run pallet exec myapp-2 cat /var/www/index.html
run pallet logs myapp-1
run pallet stop myapp-1 myapp-2
run pallet ps -a --filter name=myapp
run pallet rm myapp-1 myapp-2

# The image is immutable: a new container sees the original content.
run pallet run --rm myapp:1.0 cat /var/www/index.html
run pallet history myapp:1.0
