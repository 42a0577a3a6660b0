"""Networking as Docker users meet it: the default bridge, published ports, user-defined
networks with names, `network` commands, and nothing left behind.

Real servers (busybox httpd) in real namespaces; only loopback, the host's own
address and the namespaces these tests create are ever contacted.
"""
from __future__ import annotations

import ipaddress
import json
import os
import socket
import subprocess
import time
import urllib.request

import pytest

from api_service import ALSO_DOCKER
from leaks import assert_store_reset_leaves_nothing
from pallet.network import model
from polling import wait_for

HTTPD = "mkdir -p /www && echo {text} > /www/index.html && exec httpd -f -p 80 -h /www"


def _key(p) -> str:
    return model.store_key(str(p.runroot))


def _kernel_objects(p) -> dict:
    key = _key(p)
    links = subprocess.run(["ip", "-br", "link"], capture_output=True, text=True).stdout.split()
    prefix = model.bridge_name(key, 0)[:-1]
    tables = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True).stdout
    nsdir = p.runroot / "network" / "netns"
    netns = os.listdir(nsdir) if nsdir.is_dir() else []
    return {"bridges": [w for w in links if w.startswith(prefix)],
            "tables": [t for t in tables.split() if t == model.table_name(key)],
            "netns": netns,
            "sandboxes": os.listdir(p.runroot / "network" / "endpoints")
            if (p.runroot / "network" / "endpoints").exists() else []}


@pytest.fixture(autouse=True)
def no_leaks(pallet):
    """Every test ends with no bridge, veth, namespace, nft table or endpoint of its store left."""
    if os.geteuid() != 0:
        pytest.fail("networking tests need root")
    yield
    pallet = getattr(pallet, "native", pallet)  # the store's own view, whichever CLI the test drove
    ids = pallet("ps", "-aq", "--no-trunc").lines
    if ids:
        pallet("rm", "-f", *ids)
    pallet("network", "prune", "-f")
    left = {k: v for k, v in _kernel_objects(pallet).items() if v and k != "bridges" and k != "tables"}
    assert not left, f"left behind: {left}"  # the default bridge stays, as docker0 does

    def no_veths():  # destroyed with their namespaces, by the kernel, in the background
        links = subprocess.run(["ip", "-br", "link"], capture_output=True, text=True).stdout.split()
        return not [w for w in links if w.startswith("pv") and any(w[2:12] == i[:10] for i in ids)]
    assert wait_for(no_veths, 5), "veths left behind"
    assert_store_reset_leaves_nothing(pallet, ids)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(host: str, port: int, timeout: float = 10.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"http://{host}:{port}/", timeout=2) as r:
                return r.read().decode().strip()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def host_address() -> str:
    out = subprocess.run(["ip", "-4", "-o", "route", "get", "1.1.1.1"], capture_output=True, text=True).stdout
    return out.split(" src ")[1].split()[0]


def inspect(pallet, ref) -> dict:
    return json.loads(pallet.ok("inspect", ref).out)[0]


@ALSO_DOCKER
def test_run_defaults_to_the_bridge_network_with_address_route_and_hosts(pallet, busybox):
    r = pallet.ok("run", "--rm", "--hostname", "box", "--add-host", "db:10.1.2.3", "busybox", "sh", "-c",
                  "ip -4 -o addr show eth0; ip route; cat /etc/hosts /etc/hostname")
    addr = r.out.split(" inet ")[1].split()[0].split("/")[0]
    assert "default via" in r.out and f"{addr}\tbox" in r.out and "10.1.2.3\tdb" in r.out
    bridge = json.loads(pallet.ok("network", "inspect", "bridge").out)[0]
    assert bridge["Driver"] == "bridge" and bridge["IPAM"]["Config"][0]["Subnet"]


@ALSO_DOCKER
def test_two_httpd_from_one_image_published_on_two_host_ports(pallet, busybox):
    p1, p2 = free_port(), free_port()
    pallet.ok("run", "-d", "--name", "web1", "-p", f"{p1}:80", "busybox", "sh", "-c", HTTPD.format(text="one"))
    pallet.ok("run", "-d", "--name", "web2", "-p", f"{p2}:80/tcp", "busybox", "sh", "-c", HTTPD.format(text="two"))
    assert fetch("127.0.0.1", p1) == "one" and fetch("127.0.0.1", p2) == "two"
    assert fetch(host_address(), p1) == "one"
    ps = pallet.ok("ps", "--format", "{{.Names}} {{.Ports}}").lines
    assert f"web1 0.0.0.0:{p1}->80/tcp" in ps and f"web2 0.0.0.0:{p2}->80/tcp" in ps
    assert pallet.ok("port", "web1").out == f"80/tcp -> 0.0.0.0:{p1}\n"
    assert pallet.ok("port", "web2", "80").out == f"0.0.0.0:{p2}\n"
    assert inspect(pallet, "web1")["NetworkSettings"]["Ports"] == {"80/tcp": [{"HostIp": "0.0.0.0",
                                                                                "HostPort": str(p1)}]}
    # another container reaches web1 through the host's address
    r = pallet.ok("run", "--rm", "busybox", "wget", "-qO-", f"http://{host_address()}:{p1}/")
    assert r.out.strip() == "one"
    pallet.ok("stop", "-t", "1", "web1")
    with pytest.raises(OSError):
        fetch("127.0.0.1", p1, timeout=0)
    assert inspect(pallet, "web1")["NetworkSettings"]["Ports"] == {}
    pallet.ok("run", "-d", "--name", "web3", "-p", f"{p1}:80", "busybox", "sh", "-c", HTTPD.format(text="three"))
    assert fetch("127.0.0.1", p1) == "three"  # the port was released on stop


@ALSO_DOCKER
def test_random_host_ports_for_p_and_P_and_host_ip(pallet, busybox):
    pallet.ok("run", "-d", "--name", "rand", "-p", "80", "--expose", "81", "-P", "-p", "127.0.0.1::82",
              "busybox", "sh", "-c", HTTPD.format(text="rand"))
    ports = inspect(pallet, "rand")["NetworkSettings"]["Ports"]
    assert set(ports) == {"80/tcp", "81/tcp", "82/tcp"} and ports["82/tcp"][0]["HostIp"] == "127.0.0.1"
    assert fetch("127.0.0.1", int(ports["80/tcp"][0]["HostPort"])) == "rand"
    assert pallet.ok("port", "rand", "82/tcp").out.startswith("127.0.0.1:")


@ALSO_DOCKER
def test_host_port_in_use_is_refused_and_nothing_is_left(pallet, busybox):
    port = free_port()
    with socket.socket() as s:
        s.bind(("0.0.0.0", port))
        s.listen()
        r = pallet("run", "-d", "--name", "busy", "-p", f"{port}:80", "busybox", "sleep", "100")
        assert r.code == 125 and "address already in use" in r.err and str(port) in r.err
    assert _kernel_objects(pallet)["sandboxes"] == []
    pallet.ok("run", "-d", "--name", "holder", "-p", f"{port}:80", "busybox", "sleep", "100")
    r = pallet("run", "-d", "--name", "second", "-p", f"{port}:80", "busybox", "sleep", "100")
    assert r.code == 125 and f"Bind for 0.0.0.0:{port} failed: port is already allocated" in r.err
    assert len(_kernel_objects(pallet)["sandboxes"]) == 1


@pytest.mark.parametrize("spec,message", [("70000:80", "invalid hostPort: 70000"),
                                          ("abc:80", "invalid hostPort: abc"),
                                          ("80:99999", "invalid containerPort: 99999")])
def test_bad_publish_spec_is_a_usage_error(pallet, busybox, spec, message):
    r = pallet("run", "--rm", "-p", spec, "busybox", "true")
    assert r.code == 125 and message in r.err
    assert pallet.ok("ps", "-aq").out == ""


@ALSO_DOCKER
def test_user_defined_network_resolves_names_and_aliases_and_isolates(pallet, busybox):
    pallet.ok("network", "create", "front")
    pallet.ok("network", "create", "back")
    pallet.ok("run", "-d", "--name", "web", "--network", "front", "--network-alias", "www",
              "busybox", "sh", "-c", HTTPD.format(text="named"))
    pallet.ok("run", "-d", "--name", "other", "--network", "back", "busybox", "sh", "-c",
              HTTPD.format(text="other"))
    script = "for i in 1 2 3 4 5 6 7 8 9 10; do wget -qO- http://$0/ && exit 0; sleep 0.2; done; exit 1"
    assert pallet.ok("run", "--rm", "--network", "front", "busybox", "sh", "-c", script, "web").out.strip() == "named"
    assert pallet.ok("run", "--rm", "--network", "front", "busybox", "sh", "-c", script, "www").out.strip() == "named"
    # Docker's resolver also answers NAME.NETWORK, for names and aliases
    for name in ("web.front", "www.front"):
        assert pallet.ok("run", "--rm", "--network", "front", "busybox", "sh", "-c", script,
                         name).out.strip() == "named"
    other_ip = inspect(pallet, "other")["NetworkSettings"]["Networks"]["back"]["IPAddress"]
    r = pallet("run", "--rm", "--network", "front", "busybox", "wget", "-T", "1", "-qO-", f"http://{other_ip}/")
    assert r.code != 0  # a different network: no route through pallet's bridges
    r = pallet("run", "--rm", "--network", "front", "busybox", "nslookup", "other")
    assert "10." not in r.out.split("Name:")[-1] if "Name:" in r.out else True


@ALSO_DOCKER
def test_network_commands_and_their_errors(pallet, busybox):
    nid = pallet.ok("network", "create", "--subnet", "10.99.7.0/24", "--label", "team=a", "n1").out.strip()
    assert len(nid) == 64
    r = pallet("network", "create", "--subnet", "10.99.7.128/25", "n2")
    assert r.code == 1 and "Pool overlaps with other one on this address space" in r.err
    assert pallet("network", "create", "n1").code == 1
    ls = pallet.ok("network", "ls").lines
    assert ls[0].split() == ["NETWORK", "ID", "NAME", "DRIVER", "SCOPE"]
    assert [line.split()[1] for line in ls[1:]] == ["bridge", "host", "n1", "none"]
    assert pallet.ok("network", "ls", "-q", "--filter", "label=team=a").out.strip() == nid[:12]
    r = pallet("run", "--rm", "--network", "nosuch", "busybox", "true")
    assert r.code == 125 and "network nosuch not found" in r.err
    r = pallet("run", "--rm", "--network", "n1", "--ip", "10.98.0.5", "busybox", "true")
    assert r.code == 125 and "does not belong to any of this network's subnets" in r.err
    assert pallet.ok("ps", "-aq").out == ""
    pallet.ok("run", "-d", "--name", "fixed", "--network", "n1", "--ip", "10.99.7.50", "busybox", "sleep", "100")
    doc = json.loads(pallet.ok("network", "inspect", "n1").out)[0]
    assert [c["IPv4Address"] for c in doc["Containers"].values()] == ["10.99.7.50/24"]
    r = pallet("network", "rm", "n1")
    assert r.code == 1 and "has active endpoints" in r.err
    assert "pre-defined network" in pallet("network", "rm", "bridge").err
    pallet.ok("rm", "-f", "fixed")
    assert pallet.ok("network", "prune", "-f").out == "Deleted Networks:\nn1\n\n"
    assert pallet("network", "inspect", "n1").code == 1


@ALSO_DOCKER
def test_network_prune_keeps_what_its_filters_leave_out(pallet):
    for name, label in (("keep", "tier=db"), ("old", "tier=web"), ("bare", None)):
        pallet.ok("network", "create", *(["--label", label] if label else []), name)
    r = pallet("network", "prune", "-f", "--filter", "colour=red")
    assert r.code == 1 and "invalid filter 'colour'" in r.err
    assert pallet.ok("network", "prune", "-f", "--filter", "label=tier=web").out == "Deleted Networks:\nold\n\n"
    assert pallet.ok("network", "prune", "-f", "--filter", "label!=tier=db").out == "Deleted Networks:\nbare\n\n"
    r = pallet("network", "create", "--subnet", "10.97.1.0/24", "--subnet", "10.97.2.0/24", "two")
    assert r.code == 1 and "multiple subnets are not supported yet" in r.err
    assert [line.split()[1] for line in pallet.ok("network", "ls").lines[1:]] == ["bridge", "host", "keep", "none"]


@ALSO_DOCKER
def test_connect_and_disconnect_a_running_container(pallet, busybox):
    pallet.ok("network", "create", "side")
    pallet.ok("run", "-d", "--name", "main", "busybox", "sleep", "100")
    pallet.ok("network", "connect", "--alias", "sidecar", "side", "main")
    nets = inspect(pallet, "main")["NetworkSettings"]["Networks"]
    assert set(nets) == {"bridge", "side"} and nets["side"]["IPAddress"]
    assert "eth1" in pallet.ok("exec", "main", "ip", "-o", "link").out
    pallet.ok("network", "disconnect", "side", "main")
    assert "eth1" not in pallet.ok("exec", "main", "ip", "-o", "link").out
    assert set(inspect(pallet, "main")["NetworkSettings"]["Networks"]) == {"bridge"}


def test_a_created_container_disconnected_from_its_only_network_can_be_connected_again(pallet, busybox):
    """docker-compose 1.29 disconnects each new container and connects it again with its
    aliases; dockerd leaves NetworkMode as it was, so the second connect is allowed."""
    pallet.ok("network", "create", "back")
    pallet.ok("create", "--name", "app1", "--network", "back", "busybox", "true")
    pallet.ok("network", "disconnect", "back", "app1")
    assert inspect(pallet, "app1")["HostConfig"]["NetworkMode"] == "back"
    pallet.ok("network", "connect", "--alias", "app", "back", "app1")
    assert inspect(pallet, "app1")["HostConfig"]["NetworkMode"] == "back"
    pallet.ok("rm", "app1")


def _released(p, port: int) -> bool:
    """The container's namespace, endpoint file and port rule are gone; the network's bridge
    and table stay (as docker0 stays once dockerd made it)."""
    objects = _kernel_objects(p)
    table = subprocess.run(["nft", "list", "table", "ip", model.table_name(_key(p))],
                           capture_output=True, text=True).stdout
    return not objects["netns"] and not objects["sandboxes"] and f"dport {port} " not in table


OUTSIDE_LISTENER = """
import socket
s = socket.socket(socket.AF_INET6)
s.bind(("{addr}", 8080)); s.listen(1); print("listening", flush=True)
c, peer = s.accept(); c.sendall(("from " + peer[0] + "\\n").encode()); c.close()
"""


def test_ipv6_network_is_routed_out_of_the_host_with_nat66(pallet, busybox):
    """As dockerd with IPv6 and ip6tables: forwarding on, the network's unique-local subnet
    masqueraded behind the host. "Outside" is a namespace of the test's own, reached over a
    veth with an address routed from the host, which has no route back to the container."""
    tag = os.urandom(3).hex()
    ns, host_if, ns_if = f"p6out-{tag}", f"p6h{tag}", f"p6n{tag}"
    prefix = str(ipaddress.IPv6Address(f"fd5e:{tag[:4]}:{tag[4:]}::"))  # as tools print it: "00" groups fold
    try:
        for cmd in (["netns", "add", ns], ["link", "add", host_if, "type", "veth", "peer", "name", ns_if],
                    ["link", "set", ns_if, "netns", ns], ["addr", "add", f"{prefix}1/64", "dev", host_if, "nodad"],
                    ["link", "set", host_if, "up"],
                    ["-n", ns, "addr", "add", f"{prefix}2/64", "dev", ns_if, "nodad"],
                    ["-n", ns, "link", "set", ns_if, "up"], ["-n", ns, "link", "set", "lo", "up"]):
            subprocess.run(["ip", *cmd], check=True, capture_output=True)
        listener = subprocess.Popen(["ip", "netns", "exec", ns, "python3", "-c",
                                     OUTSIDE_LISTENER.format(addr=f"{prefix}2")],
                                    stdout=subprocess.PIPE, text=True)
        assert listener.stdout.readline() == "listening\n"
        pallet.ok("network", "create", "--ipv6", "--subnet", "fd42:97::/64", "egress6")
        r = pallet.ok("run", "--rm", "--network", "egress6", "busybox", "nc", "-w", "5", f"{prefix}2", "8080")
        assert r.out == f"from {prefix}1\n"  # the host's address: NATed on the way out
        assert listener.wait(timeout=10) == 0
        assert open("/proc/sys/net/ipv6/conf/all/forwarding").read().strip() == "1"
        pallet.ok("network", "rm", "egress6")
    finally:
        subprocess.run(["ip", "link", "del", host_if], capture_output=True)
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def test_the_default_bridge_stays_after_the_last_container_as_docker0_does(pallet, busybox):
    pallet.ok("run", "--rm", "busybox", "true")
    assert _kernel_objects(pallet)["bridges"] == [model.bridge_name(_key(pallet), 0)]
    assert not _kernel_objects(pallet)["netns"]


def test_kill_9_of_the_container_process_releases_everything(pallet, busybox):
    port = free_port()
    pallet.ok("run", "-d", "--name", "killed", "-p", f"{port}:80", "busybox", "sh", "-c", HTTPD.format(text="k"))
    assert fetch("127.0.0.1", port) == "k"
    os.kill(inspect(pallet, "killed")["State"]["Pid"], 9)
    deadline = time.monotonic() + 10
    while _kernel_objects(pallet)["sandboxes"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _released(pallet, port)


def test_a_crash_of_pallet_and_monitor_is_reconciled_by_network_prune(pallet, busybox):
    port = free_port()
    pallet.ok("run", "-d", "--name", "crash", "-p", f"{port}:80", "busybox", "sleep", "100")
    pid = inspect(pallet, "crash")["State"]["Pid"]
    conmon = subprocess.run(["pgrep", "-f", f"conmon.*{pallet.runroot}"], capture_output=True, text=True)
    for p in [*conmon.stdout.split(), str(pid)]:
        os.kill(int(p), 9)  # nobody is left to run the exit command
    time.sleep(0.2)
    assert _kernel_objects(pallet)["netns"]
    pallet.ok("network", "prune", "-f")
    assert _released(pallet, port)


@ALSO_DOCKER
def test_none_host_and_container_network_modes(pallet, busybox):
    assert pallet.ok("run", "--rm", "--network", "none", "busybox", "ls", "/sys/class/net").out.split() == ["lo"]
    pallet.ok("run", "-d", "--name", "base", "busybox", "sleep", "100")
    ip = inspect(pallet, "base")["NetworkSettings"]["IPAddress"]
    r = pallet.ok("run", "--rm", "--network", "container:base", "busybox", "ip", "-4", "-o", "addr")
    assert ip in r.out


def test_published_ports_work_when_dockerd_has_set_forward_policy_to_drop(pallet, busybox):
    policy = "DROP" if ":FORWARD DROP" in subprocess.run(["iptables-save", "-t", "filter"], capture_output=True,
                                                        text=True).stdout else "ACCEPT"
    subprocess.run(["iptables", "-w", "-P", "FORWARD", "DROP"], check=True)  # what dockerd does on start
    try:
        port = free_port()
        pallet.ok("run", "-d", "--name", "web", "-p", f"{port}:80", "busybox", "sh", "-c", HTTPD.format(text="fw"))
        assert fetch("127.0.0.1", port) == "fw"
        r = pallet.ok("run", "--rm", "busybox", "wget", "-qO-", f"http://{host_address()}:{port}/")
        assert r.out.strip() == "fw"
    finally:
        subprocess.run(["iptables", "-w", "-P", "FORWARD", policy], check=True)


def test_network_rm_removes_the_bridge_its_containers_left(pallet, busybox):
    pallet.ok("network", "create", "gone")
    pallet.ok("run", "--rm", "--network", "gone", "busybox", "true")
    assert len(_kernel_objects(pallet)["bridges"]) == 1  # made by the first container, kept
    pallet.ok("network", "rm", "gone")
    assert _kernel_objects(pallet)["bridges"] == []


# pallet only (not ALSO_DOCKER): `system reset` is podman's verb; docker has none
def test_system_reset_asks_first_then_removes_everything_of_the_store(pallet, busybox):
    pallet.ok("network", "create", "n1")
    pallet.ok("run", "-d", "--network", "n1", "--name", "up", "busybox", "sleep", "100")
    r = pallet("system", "reset", stdin=b"n\n")
    assert "Are you sure you want to continue? [y/N]" in r.out and r.code == 0
    assert pallet.ok("ps", "-q").lines  # answered no: nothing removed
    pallet.ok("system", "reset", "-f")
    assert not pallet.root.exists() and not pallet.runroot.exists()
    assert _kernel_objects(pallet)["bridges"] == []
    assert pallet.ok("ps", "-aq").lines == [] and pallet.ok("images", "-q").lines == []


def test_network_container_mode_shares_the_other_containers_name_hosts_and_resolver(pallet, busybox):
    pallet.ok("run", "-d", "--name", "main", "--hostname", "mainhost", "busybox", "sleep", "100")
    ip = inspect(pallet, "main")["NetworkSettings"]["IPAddress"]
    out = pallet.ok("run", "--rm", "--network", "container:main", "busybox", "sh", "-c",
                    "hostname; cat /etc/hosts; ip -o -4 addr show eth0").out
    assert out.splitlines()[0] == "mainhost"
    assert f"{ip}\tmainhost" in out and f"inet {ip}/" in out


# pallet only (not ALSO_DOCKER): asserts pallet's whole run error line; the docker CLI words run errors as 'docker: Error response from daemon: …'
def test_network_container_mode_refuses_what_belongs_to_the_other_container(pallet, busybox):
    pallet.ok("run", "-d", "--name", "main", "busybox", "sleep", "100")
    for flags, what in ((["--hostname", "x"], "hostname and the network mode"),
                        (["--dns", "1.1.1.1"], "dns and the network mode"),
                        (["--add-host", "a:1.2.3.4"], "custom host-to-IP mapping and the network mode"),
                        (["-p", "8080:80"], "port publishing and the container type network mode")):
        r = pallet("run", "--rm", "--network", "container:main", *flags, "busybox", "true")
        assert r.code == 125 and r.err.strip() == f"Error: conflicting options: {what}"
    assert pallet.ok("ps", "-aq").lines == [pallet.ok("ps", "-q").lines[0]]  # nothing half-created


def test_a_port_published_by_another_pallet_store_is_already_allocated(pallet, busybox, tmp_path,
                                                                         busybox_tar):
    from palletcli import Pallet
    other = Pallet(tmp_path / "o" / "root", tmp_path / "o" / "run")
    other.ok("import", "-c", 'CMD ["sh"]', str(busybox_tar), "busybox:latest")
    port = free_port()
    pallet.ok("run", "-d", "--name", "first", "-p", f"{port}:80", "busybox", "sleep", "100")
    r = other("run", "-d", "--name", "second", "-p", f"{port}:80", "busybox", "sleep", "100")
    assert r.code == 125 and f"Bind for 0.0.0.0:{port} failed: port is already allocated" in r.err
    # as with Docker the container stays Created, with no network set up
    assert other.ok("ps", "-a", "--format", "{{.Names}} {{.Status}}").out.strip() == "second Created"
    assert not _kernel_objects(other)["netns"] and not _kernel_objects(other)["sandboxes"]
    pallet.ok("rm", "-f", "first")
    other.ok("start", "second")
    other.ok("rm", "-f", "second")


@ALSO_DOCKER
def test_network_create_ip_range_aux_addresses_and_bridge_options(pallet, busybox):
    pallet.ok("network", "create", "--subnet", "10.99.9.0/24", "--ip-range", "10.99.9.128/28",
              "--aux-address", "router=10.99.9.129", "--ipam-driver", "default", "--ipam-opt", "o=1",
              "-o", "com.docker.network.driver.mtu=1400", "-o", "com.docker.network.bridge.enable_icc=false",
              "-o", "com.docker.network.bridge.host_binding_ipv4=127.0.0.1", "opts")
    doc = json.loads(pallet.ok("network", "inspect", "opts").out)[0]
    assert doc["IPAM"] == {"Driver": "default", "Options": {"o": "1"}, "Config": [{
        "Subnet": "10.99.9.0/24", "IPRange": "10.99.9.128/28", "AuxiliaryAddresses": {"router": "10.99.9.129"},
        "Gateway": "10.99.9.1"}]}
    pallet.ok("run", "-d", "--name", "web", "--network", "opts", "-p", "80", "busybox", "sh", "-c",
              HTTPD.format(text="hi"))
    ip = inspect(pallet, "web")["NetworkSettings"]["Networks"]["opts"]["IPAddress"]
    assert ip == "10.99.9.130"  # the range's first host, past the auxiliary address
    assert pallet.ok("port", "web").out.startswith("80/tcp -> 127.0.0.1:")  # the network's binding IP
    r = pallet("run", "--rm", "--network", "opts", "busybox", "sh", "-c",
               f"cat /sys/class/net/eth0/mtu; wget -T 2 -qO- http://{ip}/")
    assert r.out.splitlines()[0] == "1400" and r.code != 0  # enable_icc=false: no way in
    pallet.ok("rm", "-f", "web")
    pallet.ok("network", "rm", "opts")


@pytest.mark.parametrize("flags, message", [
    (["--ip-range", "10.99.8.0/28"], "every ip-range or gateway must have a corresponding subnet"),
    (["--subnet", "10.99.8.0/24", "--ip-range", "10.99.7.0/28"], "no matching subnet for range 10.99.7.0/28"),
    (["--subnet", "10.99.8.0/24", "--aux-address", "a=10.99.7.1"], "no matching subnet for aux-address 10.99.7.1"),
    (["--ipam-driver", "dhcp"], 'plugin "dhcp" not found'),
    (["-o", "com.docker.network.driver.mtu=big"], "invalid MTU: big"),
])
def test_network_create_option_errors_in_dockers_words(pallet, flags, message):
    r = pallet("network", "create", *flags, "bad")
    assert r.code == 1 and message in r.err, r.err
    assert "bad" not in pallet.ok("network", "ls", "--format", "{{.Name}}").lines


GET = 'printf "GET / HTTP/1.0\\r\\n\\r\\n" | nc -w 3 {host} 80 | tail -1'


@ALSO_DOCKER
def test_ipv6_network_is_dual_stack_between_its_containers(pallet, busybox):
    pallet.ok("network", "create", "--ipv6", "--subnet", "fd42:99::/64", "six")
    assert json.loads(pallet.ok("network", "inspect", "six").out)[0]["IPAM"]["Config"][1] == {
        "Subnet": "fd42:99::/64", "Gateway": "fd42:99::1"}
    assert "true" in pallet.ok("network", "ls", "--filter", "name=six", "--format", "{{.IPv6}}").out
    pallet.ok("run", "-d", "--name", "web", "--network", "six", "busybox", "sh", "-c", HTTPD.format(text="six"))
    ns = inspect(pallet, "web")["NetworkSettings"]
    assert (ns["GlobalIPv6Address"], ns["GlobalIPv6PrefixLen"], ns["IPv6Gateway"]) == ("fd42:99::2", 64, "fd42:99::1")
    assert ns["Networks"]["six"]["GlobalIPv6Address"] == "fd42:99::2" and ns["IPAddress"]  # IPv4 too
    script = " ; ".join([GET.format(host="fd42:99::2"), GET.format(host="web"), "ip -6 route show default",
                         "ip -6 addr show eth0 scope global", "grep fd42:99::99 /etc/hosts"])
    for _ in range(20):  # httpd may not listen yet
        r = pallet.ok("run", "--rm", "--network", "six", "--ip6", "fd42:99::99", "busybox", "sh", "-c", script)
        if r.out.startswith("six"):
            break
        time.sleep(0.2)
    lines = r.out.splitlines()
    assert lines[:2] == ["six", "six"]  # by address, and by name (an AAAA answer first)
    assert lines[2].startswith("default via fd42:99::1 dev eth0")
    assert "inet6 fd42:99::99/64" in r.out
    assert lines[-1].startswith("fd42:99::99\t")  # its /etc/hosts names its IPv6 address too
    pallet.ok("rm", "-f", "web")
    pallet.ok("network", "create", "--ipv6", "auto6")  # a unique-local /64 of its own
    config = json.loads(pallet.ok("network", "inspect", "auto6").out)[0]["IPAM"]["Config"]
    assert config[1]["Subnet"].startswith("fd") and config[1]["Subnet"].endswith("::/64")
    r = pallet("network", "create", "--subnet", "fd42:98::/64", "nov6")
    assert r.code == 1 and "needs --ipv6" in r.err
    r = pallet("run", "--rm", "--ip6", "fd42:99::5", "--network", "auto6", "busybox", "true")
    assert r.code == 125 and "does not belong to any of this network's subnets" in r.err
    pallet.ok("run", "-d", "--name", "late", "busybox", "sleep", "100")
    pallet.ok("network", "connect", "--ip6", "fd42:99::77", "six", "late")
    assert inspect(pallet, "late")["NetworkSettings"]["Networks"]["six"]["GlobalIPv6Address"] == "fd42:99::77"
    assert "inet6 fd42:99::77/64" in pallet.ok("exec", "late", "ip", "-6", "addr").out
    pallet.ok("rm", "-f", "late")
    pallet.ok("network", "rm", "six", "auto6")
