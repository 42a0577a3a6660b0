"""Volumes: the local volume driver (pallet.volume.local).

A volume is a directory `<root>/volumes/<name>/_data` plus a row in the
`volumes` table; containers bind-mount `_data`. Which containers use a volume
is read from the container records (pallet.services.volumes), never stored
twice. Kept empty of imports so `import pallet.volume.x` stays cheap.
"""
