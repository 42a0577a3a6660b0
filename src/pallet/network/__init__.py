"""pallet's container networking: bridges, IPAM, published ports, name resolution.

Built on the kernel's own tools, one exec each: iproute2 (`ip -batch`) for
namespaces, bridges and veths, nftables (`nft -f`, one table per store, applied
atomically) for NAT, published ports (DNAT in the kernel) and isolation, and
aardvark-dns (podman's resolver) for names on user-defined networks.

    model.py      network documents (Docker's `network inspect` shape), naming, subnets
    state.py      the store's network files, endpoint files, the network lock
    ports.py      host-port choice and checks
    sandbox.py    a container's namespace, endpoints and ports: create / teardown / connect
    plan.py       pure: endpoint setup/teardown as `ip` batches, the store's nft ruleset
    kernel.py     the executors: ip, nft, iptables, sysctl
    dns.py        aardvark-dns config and process

Invariants: an endpoint file is written before any kernel object exists and
removed only after teardown, so whatever a crash leaves is described by a file
that teardown (idempotent) can undo. Kernel objects exist only while a
container is attached: the last endpoint of a network takes its bridge with it,
the last endpoint of a store takes the store's nft table.
"""
