"""Docker's legacy container links as environment variables (moby's daemon/links).

Owns `link_env(name, ip, ports, child_env)`: for `--link db:alias` on the default
bridge, the variables the parent container gets, in moby's order:

    ALIAS_PORT=tcp://172.17.0.2:80             the lowest exposed port (tcp first on a tie)
    ALIAS_PORT_80_TCP_START=..., _ADDR, _PROTO, _PORT_START, _END, _PORT_END
                                               a run of three or more consecutive ports
    ALIAS_PORT_80_TCP=tcp://172.17.0.2:80      and _ADDR, _PORT, _PROTO, for every port
    ALIAS_NAME=/parent/alias
    ALIAS_ENV_X=...                            the child's Env, but HOME and PATH

ALIAS is the alias upper-cased with `-` as `_`. Pure: no I/O.
"""
from __future__ import annotations


def _port(spec: str) -> tuple[int, str]:
    number, _, proto = spec.partition("/")
    return int(number), (proto or "tcp").lower()


def _next_contiguous(ports: list[tuple[int, str]], value: int, index: int) -> int:
    if index + 1 == len(ports):
        return index
    for i in range(index + 1, len(ports)):
        if ports[i][0] > value + 1:
            return i - 1
        value += 1
    return len(ports) - 1


def link_env(name: str, ip: str, exposed: list[str], child_env: list[str]) -> list[str]:
    alias = name.rsplit("/", 1)[-1].upper().replace("-", "_")
    ports = sorted((_port(p) for p in exposed), key=lambda p: (p[0], p[1] != "tcp"))
    env = []
    if ports:
        number, proto = ports[0]
        env.append(f"{alias}_PORT={proto}://{ip}:{number}")
    i = 0
    while i < len(ports):
        (number, proto), j = ports[i], _next_contiguous(ports, ports[i][0], i)
        if j > i + 1:
            key, (end, end_proto) = f"{alias}_PORT_{number}_{proto.upper()}", ports[j]
            env += [f"{key}_START={proto}://{ip}:{number}", f"{key}_ADDR={ip}", f"{key}_PROTO={proto}",
                    f"{key}_PORT_START={number}"]
            end_key = f"{alias}_PORT_{number}_{end_proto.upper()}"  # moby names the end by its proto
            env += [f"{end_key}_END={end_proto}://{ip}:{end}", f"{end_key}_PORT_END={end}"]
            i = j + 1
            continue
        i += 1
    for number, proto in ports:
        key = f"{alias}_PORT_{number}_{proto.upper()}"
        env += [f"{key}={proto}://{ip}:{number}", f"{key}_ADDR={ip}", f"{key}_PORT={number}",
                f"{key}_PROTO={proto}"]
    env.append(f"{alias}_NAME={name}")
    for item in child_env:
        key, eq, value = item.partition("=")
        if eq and key not in ("HOME", "PATH"):
            env.append(f"{alias}_ENV_{key}={value}")
    return env
