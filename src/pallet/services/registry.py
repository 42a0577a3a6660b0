"""Docker's registry use cases: pull, push, login, logout, manifest inspect.

Each is "copy between the store and a registry" driven through
pallet.registry; output leaves as events on a `progress` object the edge
supplies (`line`, `layer`, `advance`; the CLI's is pallet.cli.pull_progress), never as prints. A pull holds the store's
in-flight lock for its whole length and makes the image visible in one
`ImageStore.commit`; RepoDigests are recorded on pull and push, and the
top-level manifest bytes are kept in the content store (a GC root through the
repo_digests table).
"""
from __future__ import annotations

from dataclasses import dataclass

from .. import digest as dg
from .. import reference
from ..errors import InvalidArgument, NotFound
from ..oci import image as oci
from ..opts.platform import parse_platform


@dataclass
class Pulled:
    name: str        # what was pulled, fully qualified (docker.io/library/busybox:latest)
    image_id: str
    digest: str      # the top-level manifest (or index) digest
    updated: bool    # False: "Image is up to date"


def server_domain(server: str | None) -> str:
    """`login`'s SERVER argument -> a registry domain (docker.io when absent)."""
    if not server:
        return "docker.io"
    host = server.split("://", 1)[-1].split("/", 1)[0]
    return "docker.io" if host in ("index.docker.io", "registry-1.docker.io", "docker.io") else host


class RegistryService:
    """Pull and push over the store pieces an image is written and read with."""

    def __init__(self, db, content, layers, image_store, locks, events):
        self.events = events
        self.db, self.content, self.layers = db, content, layers
        self.image_store, self.locks = image_store, locks

    def session(self, domain: str, credentials=None):
        """A session to `domain`: with `credentials` (username, password) when the caller
        brings them (the API's X-Registry-Auth), else what Docker's config.json holds for it."""
        from ..registry.auth import CredentialStore, Credentials
        from ..registry.client import Session
        return Session(domain, Credentials(*credentials) if credentials else CredentialStore().get(domain))

    # ---------- pull ----------
    def pull(self, name: str, progress, platform: str | None = None, all_tags: bool = False,
             credentials=None) -> list[Pulled]:
        plat = parse_platform(platform)
        ref = reference.parse(name)
        if all_tags and (ref.tag or ref.digest):
            raise InvalidArgument("tag can't be used with --all-tags/-a")
        with self.session(ref.domain, credentials) as session:
            refs = [ref.tagged()]
            if all_tags:
                refs = [ref.with_tag(t) for t in self._tags(session, ref.path)]
            return [self._pull_one(session, r, plat, progress) for r in refs]

    def _tags(self, session, path: str) -> list[str]:
        from ..registry.pull import pull_scope
        resp = session.send("GET", f"/v2/{path}/tags/list", pull_scope(path))
        tags = (resp.json() or {}).get("tags") or []
        if not tags:
            raise NotFound(f"no tags found for {path}")
        return sorted(tags)

    def _pull_one(self, session, ref, plat, progress) -> Pulled:
        from ..registry import pull
        with self.locks.in_flight():
            top, image = pull.resolve(session, ref.path, ref.digest or ref.tag, plat)
            progress.line(f"{ref.digest or ref.tag}: Pulling from {ref.path}")
            cfg_desc, _layers = oci.read_manifest(image.doc)
            config_bytes = pull.fetch_blob_bytes(session, ref.path, cfg_desc, pull.MAX_CONFIG, "image config")
            config = oci.decode(config_bytes, "image config")
            oci.validate_config(config)
            jobs = self._plan(pull, image.doc, config, progress)
            image_id = dg.sha256_bytes(config_bytes)
            tag = str(ref) if ref.digest is None else None
            before = self.db.tag(tag) if tag else None
            existed = self.db.image(image_id) is not None
            staged = pull.LayerFetcher(session, ref.path, self.layers, progress).fetch_all(jobs)
            try:
                self.content.put_bytes(top.data)
                result = self.image_store.commit(config_bytes, staged, [tag] if tag else [],
                                                [(f"{ref.name}@{top.digest}", top.digest)])
            finally:
                for s in staged.values():
                    s.release()
            self._remember_blobs(ref.name, image.doc, config)
        progress.line(f"Digest: {top.digest}")
        updated = result.new or not existed or (tag is not None and before != image_id)
        shown = ref.familiar()
        progress.line(f"Status: {'Downloaded newer image' if updated else 'Image is up to date'} for {shown}")
        self.events().record("image", "pull", shown, {"name": shown})
        return Pulled(str(ref), image_id, top.digest, updated)

    # ---------- build cache sources (`build --cache-from`) ----------
    def remote_config(self, name: str) -> tuple[dict, list[tuple[dict, str]]]:
        """An image's config and its (layer descriptor, diff_id) pairs, read from its registry
        without storing anything: what BuildKit reads first of a `--cache-from` image."""
        from ..registry import pull
        ref = reference.parse(name)
        with self.session(ref.domain) as session:
            _top, image = pull.resolve(session, ref.path, ref.digest or ref.tagged().tag, None)
            cfg_desc, _layers = oci.read_manifest(image.doc)
            config = oci.decode(pull.fetch_blob_bytes(session, ref.path, cfg_desc, pull.MAX_CONFIG,
                                                      "image config"), "image config")
            oci.validate_config(config)
            return config, pull.plan_layers(image.doc, config)

    def fetch_layers(self, name: str, jobs: list[tuple[dict, str]], progress) -> dict:
        """Stage the layers `jobs` names ({diff_id: StagedLayer}), for a step the build takes
        from a cache source: only the layers a cached step needs are fetched, as BuildKit's."""
        from ..registry import pull
        ref = reference.parse(name)
        with self.session(ref.domain) as session:
            return pull.LayerFetcher(session, ref.path, self.layers, progress).fetch_all(jobs)

    def _plan(self, pull, manifest: dict, config: dict, progress) -> list:
        todo, seen = [], set()
        pairs = pull.plan_layers(manifest, config)
        self.image_store.check_depth(len(pairs))  # before any layer is fetched
        for (desc, diff_id), chain in zip(pairs, dg.chain_ids([d for _, d in pairs])):
            sid = pull.short(desc["digest"])
            if self.layers.has(chain):
                progress.layer(sid, "Already exists")
            elif diff_id not in seen:
                seen.add(diff_id)
                progress.layer(sid, "Pulling fs layer")
                todo.append((desc, diff_id))
        return todo

    def _remember_blobs(self, repository: str, manifest: dict, config: dict) -> None:
        _cfg, layers = oci.read_manifest(manifest)
        gzip_types = {oci.OCI_LAYER_GZIP, oci.DOCKER_LAYER_GZIP, None}
        with self.db.transaction():
            for desc, diff_id in zip(layers, oci.diff_ids(config)):
                if desc.get("mediaType") in gzip_types:
                    self.db.add_registry_blob(desc["digest"], diff_id, desc.get("size", 0), repository)

    # ---------- push ----------
    def push(self, name: str, progress, all_tags: bool = False,
             credentials=None) -> list[tuple[str, str, int]]:
        """Returns (tag, manifest digest, manifest size) per pushed tag."""
        ref = reference.parse(name)
        if ref.digest:
            raise InvalidArgument("cannot push a digest reference")
        if all_tags and ref.tag:
            raise InvalidArgument("tag can't be used with --all-tags/-a")
        db = self.db
        if all_tags:
            tags = [t for t, _ in db.all_tags() if t.rsplit(":", 1)[0] == ref.name]
        else:
            tags = [str(ref.tagged())] if db.tag(str(ref.tagged())) else []
        if not tags:
            raise NotFound(f"An image does not exist locally with the tag: {ref.familiar_name}")
        progress.line(f"The push refers to repository [{ref.name}]")
        out = []
        with self.session(ref.domain, credentials) as session, self.locks.in_flight():
            for full in tags:
                out.append(self._push_one(session, ref, full, progress))
        return out

    def _push_one(self, session, ref, full: str, progress) -> tuple[str, str, int]:
        from ..registry import push
        image_id = self.db.tag(full)
        config_bytes = self.image_store.config_bytes(image_id)
        diff_ids = oci.diff_ids(oci.decode(config_bytes, "image config"))
        up = push.Uploader(session, ref.path)
        pairs = list(zip(diff_ids, dg.chain_ids(diff_ids)))
        pushed = push.LayerPusher(self.db, self.layers, up, ref.domain, progress).push_all(pairs[::-1])
        config_digest = dg.sha256_bytes(config_bytes)
        if not up.exists(config_digest):
            up.put_bytes(config_bytes, config_digest)
        manifest = push.build_manifest(config_bytes, [pushed[d] for d in diff_ids])
        tag = full.rsplit(":", 1)[1]
        digest = push.put_manifest(session, ref.path, tag, manifest)
        self.content.put_bytes(manifest)
        with self.db.transaction():
            self.db.add_repo_digest(f"{ref.name}@{digest}", image_id, digest)
            for layer in pushed.values():
                self.db.add_registry_blob(layer.digest, layer.diff_id, layer.size, ref.name)
        progress.line(f"{tag}: digest: {digest} size: {len(manifest)}")
        self.events().record("image", "push", reference.familiar(full), {"name": reference.familiar(full)})
        return tag, digest, len(manifest)

    # ---------- search ----------
    def search(self, term: str, limit: int | None = None, filters: dict | None = None) -> list[dict]:
        """`docker search TERM`: Docker's search records from the registries' catalogs
        (pallet.services.registry_search says which registries and what matches)."""
        from ..registry.catalog import repositories
        from . import registry_search as rs
        if not term:
            raise InvalidArgument("term cannot be empty")
        limit = rs.check_limit(limit)
        keep = rs.result_filter(filters or {})
        domain, text = rs.split_term(term)
        domains = [domain] if domain else rs.configured_registries()
        if not domains:
            raise rs.no_index(term, limit)
        found = []
        for d in domains:
            with self.session(d) as session:
                found += [rs.record(d, name) for name in repositories(session) if text in name]
        return [r for r in found if keep(r)][:limit]

    # ---------- login / logout / manifest ----------
    def login(self, server: str | None, username: str, password: str) -> str:
        """Check the credentials against the registry, then store them; returns where."""
        from ..registry.auth import Credentials, CredentialStore, parse_challenge
        from ..errors import Denied
        from ..registry.client import Session
        domain = server_domain(server)
        creds = Credentials(username, password)
        with Session(domain, creds) as session:
            resp = session.ping()
            if resp.status_code == 401:
                scheme, params = parse_challenge(resp.headers.get("www-authenticate", ""))
                if scheme == "bearer":
                    session.authorizer.header(session, [])
                else:
                    try:
                        session.send("GET", "/v2/", [])
                    except Denied as exc:
                        raise Denied(f"login attempt to {session.base}/v2/ failed with status: "
                                     "401 Unauthorized") from exc
        return CredentialStore().store(domain, creds)

    def logout(self, server: str | None) -> tuple[str, bool]:
        from ..registry.auth import CredentialStore, server_key
        domain = server_domain(server)
        return server_key(domain), CredentialStore().erase(domain)

    def distribution(self, name: str, credentials=None) -> dict:
        """`GET /distribution/{name}/json`: the registry's top-level descriptor for `name`
        and the platforms it offers (an index's entries; a single manifest's config)."""
        from ..registry import pull
        ref = reference.parse(name).tagged()
        with self.session(ref.domain, credentials) as session:
            top = pull.fetch_manifest(session, ref.path, ref.digest or ref.tag)
            doc = top.doc
            if top.is_index:
                platforms = [m["platform"] for m in doc.get("manifests") or [] if m.get("platform")]
            else:
                cfg_desc, _ = oci.read_manifest(doc)
                config = oci.decode(pull.fetch_blob_bytes(session, ref.path, cfg_desc, pull.MAX_CONFIG,
                                                          "image config"), "image config")
                platforms = [{k: config[k] for k in ("architecture", "os", "os.version", "variant")
                              if config.get(k)}]
        return {"Descriptor": {"mediaType": top.media_type, "digest": top.digest, "size": len(top.data)},
                "Platforms": platforms}

    def manifest(self, name: str) -> str:
        from ..registry.pull import fetch_manifest, pretty
        ref = reference.parse(name).tagged()
        with self.session(ref.domain) as session:
            return pretty(fetch_manifest(session, ref.path, ref.digest or ref.tag).data)
