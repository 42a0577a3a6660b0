"""Dockerfile builds: parsing, variable substitution, .dockerignore, context, cache, executor.

Dependencies point down: `dockerfile`, `substitution`, `dockerignore` and `cache`
are pure (no I/O beyond what they are handed); `context` reads the build context;
`executor` drives stages and steps through the build service (image store, layer store,
container service). Nothing here prints: progress leaves as lines through a callback.
"""
