#!/usr/bin/env bash
# Installs everything pallet needs on Debian 12: system packages (apt) and a venv with pallet.
# Idempotent and quick when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
APT_PACKAGES=(
  runc                        # the OCI runtime every container runs under
  conmon                      # per-container monitor: stdio, logs, exit code after the CLI exits
  busybox-static              # the base image for tests and the demo (no Docker Hub here)
  skopeo umoci                # outside tools the tests check pallet's formats against
  docker-registry             # a real OCI distribution registry for the registry tests
  iproute2 iptables nftables  # networking: namespaces, bridges, veths (ip), NAT and ports (nft)
  aardvark-dns                # name resolution on user-defined networks (podman's resolver)
  openssl procps              # tests: certificates for the TLS registry, pgrep
  git                         # build: ADD of a git repository (git://, https://....git, git@)
  tini                        # --init: a tiny init as PID 1 (Docker ships the same tool)
  tar gzip
  python3 python3-venv        # Debian's CPython: built with PGO and LTO, it starts and runs
                              # pallet ~5% faster than a plain source build (pyenv's)
)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then echo "install.sh: run as root to apt-get install ${missing[*]}" >&2; exit 1; fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
PY=${PYTHON:-/usr/bin/python3}
# a venv made by another interpreter (an earlier default) is made again
if [[ ! -x .venv/bin/python ]] \
   || [[ $(.venv/bin/python -c 'import os, sys; print(os.path.realpath(sys._base_executable))' 2>/dev/null) \
         != "$(readlink -f "$(command -v "$PY")")" ]]; then
  rm -rf .venv
  "$PY" -m venv .venv
fi
if ! .venv/bin/python -c 'import pallet, pytest, hypothesis' 2>/dev/null \
   || [[ pyproject.toml -nt .venv/.installed ]]; then
  .venv/bin/pip install -q --disable-pip-version-check -e '.[test]'
  touch .venv/.installed
fi
# docker-compose 1.29 (the Python one) for the API service's compose test, in a venv of
# its own: it pins docker 6, requests 2.31 and urllib3 < 2, older than pallet's test
# clients; PyYAML 5.4.1 has no wheel for this Python and builds only with Cython < 3.
if [[ ! -e .venv-compose/.installed ]]; then
  rm -rf .venv-compose
  "$PY" -m venv .venv-compose
  CPIP=(.venv-compose/bin/pip install -q --disable-pip-version-check)
  "${CPIP[@]}" 'cython<3' wheel setuptools
  "${CPIP[@]}" --no-build-isolation pyyaml==5.4.1
  "${CPIP[@]}" docker-compose==1.29.2 docker==6.1.3 requests==2.31.0 'urllib3<2'
  touch .venv-compose/.installed
fi
# Start-up time is a feature: compile bytecode now, since some environments set
# PYTHONDONTWRITEBYTECODE and would otherwise recompile pallet on every command.
PYTHONDONTWRITEBYTECODE= .venv/bin/python -m compileall -q src >/dev/null
# The `pallet` command: pip's generated script, but with `python -S`. site's .pth
# processing (setuptools' distutils shim, the editable-install hook) costs every command
# ~4 ms; the two paths it would add are listed here instead, after the standard library
# (every stdlib import would otherwise look in them first), and the script's own
# directory (.venv/bin) is dropped from the path.
SITE=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
cat > .venv/bin/pallet <<EOF
#!$PWD/.venv/bin/python3 -S
import sys
sys.path[:] = sys.path[1:] + ["$PWD/src", "$SITE"]
from pallet.cli.main import main
main()
EOF
chmod 755 .venv/bin/pallet
