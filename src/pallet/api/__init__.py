"""The Docker Engine API edge: `pallet system service`.

A thin edge like pallet.cli: decode an HTTP request, call one service method of
pallet.engine.Engine, render Docker's JSON. It must not import pallet.cli and
adds no behaviour of its own.

    server.py     sockets (unix 0660 root:group, loopback TCP), a thread per
                  connection, h11 framing, hijacking, the idle timeout
    wire.py       Request/Response values, query and body decoding, stdcopy frames
    router.py     version prefixes, the route table, errors -> status (one place)
    containers.py, images.py, execs.py, system.py, networks.py, volumes.py,
    swarm.py      the endpoints, one module per noun
    create_body.py  Config/HostConfig/NetworkingConfig -> CreateRequest
"""
