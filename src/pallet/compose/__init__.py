"""Compose: docker compose v2's model and use cases, over pallet's own services.

The model (pure; no container is touched): `files` finds and reads Compose files,
`envfile` reads `.env`/`env_file`, `interpolation` substitutes `${VAR}`, `schema`
validates against the Compose Specification's JSON schema, `merge` applies
override files, `normalize` turns short forms into the canonical long ones,
`loader` ties these into a `project.Project` (profiles, dependency graph, names,
config hashes), and `plan` describes the containers, networks and volumes a
service needs as pallet's typed requests.

The use cases (`service.ComposeService` and its helpers) drive
`engine.containers`/`images`/`builds` and the network and volume services
through their public methods only; they never import `pallet.cli`.

Layer order: compose/ sits above services/ and engine.py, below cli/.
"""
