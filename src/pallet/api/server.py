"""The socket side of `pallet system service`: listen, h11, a thread per request that may block.

Owns: turning a URI into a listening socket (unix: 0660, root and --group;
tcp: loopback only without TLS), refusing a peer that may not talk to the
engine, HTTP/1.1 framing through h11 (no hand-written parser), keep-alive,
chunked streams, hijacking (101 UPGRADED, then the raw socket belongs to the
handler), and the idle timeout (no connection for `timeout` seconds: exit).

Connections wait between requests in one event loop (pallet.api.loop), which
answers quick reads itself; any other request takes its connection to a
thread of its own (`Connection`) until it is answered.

Why threads and h11: a hijacked exec or attach is just the socket handed to a
relay; a long stream (logs -f, events, wait) blocks only its own thread; the
core is synchronous (subprocess, SQLite, flock), so asyncio would push every
call to a thread anyway. Each thread gets its own Engine: SQLite connections
are per thread, and every engine reads the same store, so the CLI and the API
see the same state.
"""
from __future__ import annotations

import errno
import ipaddress
import os
import socket
import stat
import sys
import threading
import time
from urllib.parse import urlsplit

import h11

from ..errors import InvalidArgument, PalletError
from .connection import Connection

POOL = 4  # idle Engines kept for reuse; past a burst, the rest (and their SQLite caches) go


class Endpoint:
    """A parsed URI: unix://PATH or tcp://HOST:PORT."""

    def __init__(self, uri: str, default_unix: str):
        self.uri = uri or f"unix://{default_unix}"
        scheme, _, rest = self.uri.partition("://")
        if scheme == "unix" and rest:
            self.kind, self.path = "unix", rest
        elif self.uri == "fd://":  # systemd socket activation, as dockerd's `-H fd://`
            self.kind = "fd"
        elif scheme == "tcp" and rest:
            parts = urlsplit(self.uri)
            try:
                port = parts.port
            except ValueError:
                port = None
            if not parts.hostname or port is None:
                raise InvalidArgument(f"invalid tcp address {self.uri!r}: want tcp://HOST:PORT")
            self.kind, self.host, self.port = "tcp", parts.hostname, port
        else:
            raise InvalidArgument(f"invalid listen address {self.uri!r}: want unix://PATH or tcp://HOST:PORT")

    def loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


def _group_id(group: str | None) -> int:
    if not group:
        return 0
    import grp
    try:
        return grp.getgrnam(group).gr_gid
    except KeyError:
        if group.isdigit():
            return int(group)
        raise InvalidArgument(f"can't create unix socket: group {group} not found") from None


def listen_unix(path: str, group: str | None) -> socket.socket:
    gid = _group_id(group)  # before anything is made
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        st = None
    if st is not None:
        if not stat.S_ISSOCK(st.st_mode):
            raise InvalidArgument(f"can't create unix socket {path}: it exists and is not a socket")
        if _answers(path):
            raise InvalidArgument(f"can't create unix socket {path}: another service is listening on it")
        os.unlink(path)  # a stale socket its server left behind
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    # bound, listening and given its owner and mode under a private name, then renamed into
    # place: a client never finds it half made, and a failure leaves nothing behind
    staging = f"{path}.{os.getpid()}.tmp"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)
    try:
        sock.bind(staging)
        sock.listen(128)
        os.chown(staging, 0, gid)
        os.chmod(staging, 0o660)
        os.rename(staging, path)
    except OSError as exc:
        sock.close()
        if os.path.lexists(staging):
            os.unlink(staging)
        raise InvalidArgument(f"can't create unix socket {path}: {exc.strerror}") from None
    finally:
        os.umask(old)
    return sock


def _answers(path: str) -> bool:
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(path)
        return True
    except OSError:
        return False
    finally:
        probe.close()


def listen_tcp(ep: Endpoint, tls) -> socket.socket:
    if not ep.loopback() and tls is None:
        raise InvalidArgument(f"refusing to listen on {ep.host}:{ep.port} without TLS: a non-loopback "
                              "address needs --tlsverify --tlscacert --tlscert --tlskey")
    family = socket.AF_INET6 if ":" in ep.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((ep.host, ep.port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise InvalidArgument(f"listen tcp {ep.host}:{ep.port}: bind: address already in use") from None
        raise InvalidArgument(f"listen tcp {ep.host}:{ep.port}: {exc.strerror}") from None
    sock.listen(128)
    return sock


class Service:
    """Accepts connections until idle for `timeout` seconds (0: forever)."""

    def __init__(self, paths, listener: socket.socket, timeout: float, tls=None, unix_path: str | None = None):
        from .router import Router
        self.paths, self.listener, self.timeout, self.tls = paths, listener, timeout, tls
        self.unix_path = unix_path
        self.router = Router(self)
        self.active = 0
        self.last_activity = time.monotonic()
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.local = threading.local()
        self.pool: list = []
        self.loop = None  # pallet.api.loop.Loop, while it serves
        self.trimmed = True
        from .containers import Handoffs
        from .execs import Execs
        self.handoffs = Handoffs()
        self.execs = Execs()

    def engine(self):
        """This thread's Engine, leased from a pool until `release_engine` (each holds an SQLite
        connection and its caches: one per thread at a time, reused rather than remade)."""
        eng = getattr(self.local, "engine", None)
        if eng is None:
            with self.lock:
                eng = self.pool.pop() if self.pool else None
            if eng is None:
                from ..engine import Engine
                eng = Engine(self.paths)
            self.local.engine = eng
        return eng

    def release_engine(self) -> None:
        eng = getattr(self.local, "engine", None)
        if eng is not None:
            self.local.engine = None
            with self.lock:
                if len(self.pool) < POOL:
                    self.pool.append(eng)
                    return
            db = eng.__dict__.get("db")
            if db is not None:
                db.conn.close()

    def serve(self) -> None:
        if self.tls is None:
            from .loop import Loop
            self.loop = Loop(self)
            try:
                self.loop.run()
            finally:
                self.close()
            return
        self.listener.settimeout(0.25)
        try:
            while not self.stopping.is_set():
                try:
                    conn, _addr = self.listener.accept()
                except socket.timeout:
                    if self.idle_expired():
                        return
                    self.trim_when_idle()
                    continue
                except OSError as exc:
                    if exc.errno in (errno.EINTR, errno.ECONNABORTED):
                        continue
                    raise
                self.touch(+1)
                threading.Thread(target=self.connection_thread, args=(conn,), daemon=True).start()
        finally:
            self.close()

    def close(self) -> None:
        self.listener.close()
        if self.unix_path:
            try:
                os.unlink(self.unix_path)
            except OSError:
                pass

    def idle_expired(self) -> bool:
        with self.lock:
            return bool(self.timeout) and self.active == 0 and \
                time.monotonic() - self.last_activity >= self.timeout

    def touch(self, delta: int) -> None:
        with self.lock:
            self.active += delta
            self.last_activity = time.monotonic()
            self.trimmed = False

    def trim_when_idle(self) -> None:
        """Once idle for a second, give the heap's free pages back to the system (a burst of
        requests on many threads leaves glibc's per-thread arenas holding them)."""
        with self.lock:
            if self.trimmed or self.active or time.monotonic() - self.last_activity < 1:
                return
            self.trimmed = True
        import gc
        gc.collect()
        try:
            import ctypes
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):
            pass

    def connection_thread(self, conn: socket.socket, h=None, first=None, refuse=None) -> None:
        """A connection's own thread: from `first` (a request the loop read), or from its
        first request, until it is answered (then the loop has the connection again) or
        the connection ends."""
        handed_back = False
        try:
            if self.tls is not None:
                conn = self.tls.wrap_socket(conn, server_side=True)
            c = Connection(self, conn, h)
            if refuse is not None:
                c._refuse(refuse)
                return
            handed_back = c.run(first)
        except (OSError, h11.ProtocolError):
            pass  # a client that went away; nothing of ours is half made
        except Exception:  # noqa: BLE001 - a failure mid-stream: this connection ends, the service goes on
            import traceback
            traceback.print_exc(file=sys.stderr)
        finally:
            self.release_engine()
            if not handed_back:
                try:
                    conn.close()
                except OSError:
                    pass
                self.touch(-1)


def _few_malloc_arenas() -> None:
    """glibc gives each thread that allocates its own heap arena (up to 8 per CPU), and a
    burst of connections leaves each holding freed memory; two are plenty here."""
    try:
        import ctypes
        ctypes.CDLL("libc.so.6").mallopt(-8, 2)  # M_ARENA_MAX
    except (OSError, AttributeError):
        pass


def inherited_socket() -> socket.socket:
    """The listening socket systemd passed (LISTEN_FDS, from fd 3): it stays systemd's, so
    it is neither made nor removed here, and the next connection starts the service again."""
    if os.environ.get("LISTEN_PID") != str(os.getpid()) or int(os.environ.get("LISTEN_FDS") or 0) < 1:
        raise InvalidArgument("fd:// needs a socket passed by systemd (LISTEN_FDS); none was")
    return socket.socket(fileno=3)


def tls_context(cacert: str | None, cert: str | None, key: str | None):
    """dockerd's --tlsverify: our certificate, and clients must show one signed by `cacert`."""
    import ssl
    if not (cacert and cert and key):
        raise InvalidArgument("--tlsverify needs --tlscacert, --tlscert and --tlskey")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        ctx.load_cert_chain(cert, key)
        ctx.load_verify_locations(cacert)
    except (OSError, ssl.SSLError) as exc:
        raise InvalidArgument(f"could not load TLS files: {exc}") from None
    ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


def serve(paths, uri: str | None, timeout: float, group: str | None = None, tls=None) -> int:
    """`pallet system service`: listen on `uri` and serve until idle."""
    import gc
    import signal
    gc.set_threshold(700, 10, 10)  # a long-lived process: the CLI's one-shot setting would hoard cycles
    _few_malloc_arenas()
    stopping = threading.Event()  # SIGTERM from the moment the socket can exist: it is removed
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    default = str(paths.runroot / "pallet.sock")
    ep = Endpoint(uri or "", default)
    if ep.kind == "fd":
        svc = Service(paths, inherited_socket(), timeout)
    elif ep.kind == "unix":
        svc = Service(paths, listen_unix(ep.path, group), timeout, unix_path=ep.path)
    else:
        svc = Service(paths, listen_tcp(ep, tls), timeout, tls=tls)
    svc.stopping = stopping
    try:
        svc.serve()
    except KeyboardInterrupt:
        svc.close()
    return 0


_ = PalletError
