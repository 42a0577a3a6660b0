"""The OCI distribution client: transport, auth, pull, push, progress.

    client.py    one Session per registry host; the ONE seam where httpx and ssl
                 exceptions become pallet errors; TLS policy (system CAs, certs.d)
    auth.py      WWW-Authenticate challenges, Basic and Bearer tokens (cached per
                 scope), the ~/.docker/config.json credential store and helpers
    pull.py      manifest negotiation, platform choice, verified parallel layer pull
    push.py      layer upload (streamed PATCH, HEAD skip, cross-repo mount), manifest PUT
    progress.py  Docker-like per-layer progress: live bars on a tty, plain lines otherwise

Imports httpx; only the registry verbs import this package, so other CLI verbs
never pay for it. Must not import pallet.cli.
"""
