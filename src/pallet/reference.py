"""Docker's image reference grammar: parse, normalise, print the familiar form.

Owns the grammar of distribution/reference (``[domain[:port]/]path[:tag][@digest]``)
and Docker's normalisation (ParseNormalizedNamed): the default domain is
``docker.io``, ``index.docker.io`` is folded into it, and single-component
Docker Hub names gain ``library/``.

Invariants of a parsed ``Reference``: ``path`` matches the path grammar (lowercase),
``len(path) <= 255``, ``tag`` matches ``[\\w][\\w.-]{0,127}`` and ``digest`` is a
valid ``algorithm:hex`` for a supported algorithm; ``parse(str(ref)) == ref`` and
``parse(ref.familiar()) == ref``. Every parse error is an ``InvalidReference``
with Docker's wording. Pure: imports only ``re`` and ``pallet.errors``.
"""
from __future__ import annotations

import re
from .record import dataclass, replace

from .errors import InvalidReference

DEFAULT_DOMAIN = "docker.io"
LEGACY_DEFAULT_DOMAIN = "index.docker.io"
OFFICIAL_REPO_PREFIX = "library/"
DEFAULT_TAG = "latest"
NAME_TOTAL_LENGTH_MAX = 255

# The grammar, piece by piece as distribution/reference spells it. re.ASCII because
# Go's \w and [[:xdigit:]] are ASCII-only.
_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_REMOTE_NAME = rf"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_HOST = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])"
_DOMAIN = rf"{_HOST}(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_NAME = rf"(?:{_DOMAIN}/)?{_REMOTE_NAME}"

# Patterns stay strings: re compiles (and caches) them on first use, not at import,
# because every CLI command imports this module.
_REFERENCE = rf"({_NAME})(?::({_TAG}))?(?:@({_DIGEST}))?"
_ANCHORED_NAME = rf"(?:({_DOMAIN})/)?({_REMOTE_NAME})"
_IDENTIFIER = r"[a-f0-9]{64}"

# go-digest's registered algorithms and their hex lengths.
_DIGEST_HEX_LENGTH = {"sha256": 64, "sha384": 96, "sha512": 128}
_DIGEST_FORMAT = r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+"


@dataclass(frozen=True)
class Reference:
    domain: str
    path: str
    tag: str | None = None
    digest: str | None = None

    @property
    def name(self) -> str:
        """Fully qualified repository name: ``docker.io/library/busybox``."""
        return f"{self.domain}/{self.path}" if self.domain else self.path

    repository = name

    @property
    def familiar_name(self) -> str:
        """Docker's FamiliarName: ``busybox``, ``user/app``, ``localhost:5000/app``."""
        if self.domain != DEFAULT_DOMAIN:
            return self.name
        path = self.path
        if path.startswith(OFFICIAL_REPO_PREFIX) and path.count("/") == 1:
            path = path[len(OFFICIAL_REPO_PREFIX):]
        return path

    def tagged(self, default: str = DEFAULT_TAG) -> Reference:
        """Docker's TagNameOnly: add ``default`` when there is neither tag nor digest."""
        if self.tag is None and self.digest is None:
            return replace(self, tag=default)
        return self

    def with_tag(self, tag: str) -> Reference:
        if not re.fullmatch(_TAG, tag, re.ASCII):
            raise InvalidReference("invalid tag format")
        return replace(self, tag=tag, digest=None)

    def _suffix(self) -> str:
        return (f":{self.tag}" if self.tag else "") + (f"@{self.digest}" if self.digest else "")

    def familiar(self) -> str:
        """The short form Docker prints: ``busybox:latest``, ``user/app@sha256:...``."""
        return self.familiar_name + self._suffix()

    def __str__(self) -> str:
        return self.name + self._suffix()


def parse(text: str) -> Reference:
    """Parse and normalise like Docker's ParseNormalizedNamed."""
    simple = _parse_simple(text)
    if simple is not None:
        return simple
    if re.fullmatch(_IDENTIFIER, text):
        raise InvalidReference(
            f"invalid repository name ({text}), cannot specify 64-byte hexadecimal strings")
    domain, remainder = _split_docker_domain(text)
    remote_name = remainder.split(":", 1)[0]
    if remote_name.lower() != remote_name:
        raise InvalidReference(
            f"invalid reference format: repository name ({remote_name}) must be lowercase")
    return _parse_canonical(f"{domain}/{remainder}")


_ALNUM_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")
_TAG_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")


def _parse_simple(text: str) -> Reference | None:
    """`parse` of the everyday shapes (``busybox``, ``myapp:1.0``, ``host:5000/a/b:tag``)
    without the grammar's regular expressions, whose module and compilation cost ~6 ms per
    CLI start; None for anything else (digests, errors, IPv6 hosts), which `parse` then
    runs through the grammar. Accepts only what the grammar accepts, with the same result."""
    if "@" in text or (len(text) == 64 and _is_hex(text)):
        return None
    domain, remainder = _split_docker_domain(text)
    path, colon, tag = remainder.partition(":")
    if ":" in tag or (colon and not _is_tag(tag)) or len(path) > NAME_TOTAL_LENGTH_MAX:
        return None
    if not _is_domain(domain) or not all(_is_path_component(c) for c in path.split("/")):
        return None
    return Reference(domain, path, tag if colon else None, None)


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdef" for c in text)


def _is_tag(tag: str) -> bool:
    """[\\w][\\w.-]{0,127}, ASCII."""
    return 0 < len(tag) <= 128 and tag[0] not in ".-" and _TAG_CHARS.issuperset(tag)


def _is_domain(domain: str) -> bool:
    """host(.host)*(:port)? with hosts [a-zA-Z0-9] or [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]."""
    host, colon, port = domain.partition(":")
    if colon and not (port.isascii() and port.isdigit()):
        return False
    return all(part and part[0] != "-" and part[-1] != "-" and _HOST_CHARS.issuperset(part)
               for part in host.split("."))


def _is_path_component(component: str) -> bool:
    """[a-z0-9]+ runs joined by one separator each: ".", "_", "__" or any run of "-"."""
    if not component or component[0] not in _ALNUM_CHARS or component[-1] not in _ALNUM_CHARS:
        return False
    run = ""
    for c in component:
        if c in _ALNUM_CHARS:
            if run and run not in (".", "_", "__") and run.strip("-"):
                return False
            run = ""
        elif c in "._-":
            run += c
        else:
            return False
    return True


def _split_docker_domain(text: str) -> tuple[str, str]:
    first, slash, rest = text.partition("/")
    # A first component is a registry only if it looks like a host: a dot, a port,
    # "localhost", or uppercase (which a path component can never contain).
    if not slash or (not any(c in first for c in ".:") and first != "localhost"
                     and first.lower() == first):
        domain, remainder = DEFAULT_DOMAIN, text
    else:
        domain, remainder = first, rest
    if domain == LEGACY_DEFAULT_DOMAIN:
        domain = DEFAULT_DOMAIN
    if domain == DEFAULT_DOMAIN and "/" not in remainder:
        remainder = OFFICIAL_REPO_PREFIX + remainder
    return domain, remainder


def _parse_canonical(text: str) -> Reference:
    """distribution/reference Parse: the grammar without normalisation."""
    match = re.fullmatch(_REFERENCE, text, re.ASCII)
    if match is None:
        if not text:
            raise InvalidReference("repository name must have at least one component")
        if re.fullmatch(_REFERENCE, text.lower(), re.ASCII):
            raise InvalidReference("repository name must be lowercase")
        raise InvalidReference("invalid reference format")
    name, tag, digest = match.groups()
    name_match = re.fullmatch(_ANCHORED_NAME, name, re.ASCII)
    domain, path = name_match.groups() if name_match else ("", name)
    # Docker limits the path, not domain + path, despite the constant's name.
    if len(path) > NAME_TOTAL_LENGTH_MAX:
        raise InvalidReference(
            f"repository name must not be more than {NAME_TOTAL_LENGTH_MAX} characters")
    if digest is not None:
        _validate_digest(digest)
    return Reference(domain or "", path, tag, digest)


def _validate_digest(digest: str) -> None:
    """go-digest's Validate, with its three messages."""
    algorithm, _, encoded = digest.partition(":")
    expected = _DIGEST_HEX_LENGTH.get(algorithm)
    if expected is None:
        if not re.fullmatch(_DIGEST_FORMAT, digest):
            raise InvalidReference("invalid checksum digest format")
        raise InvalidReference("unsupported digest algorithm")
    if len(encoded) != expected:
        raise InvalidReference("invalid checksum digest length")
    if not re.fullmatch(r"[a-f0-9]+", encoded):
        raise InvalidReference("invalid checksum digest format")


def parse_repository_tag(text: str) -> Reference:
    """A target for ``docker tag``/``import``/``commit``: a name and optional tag, never a digest."""
    ref = parse(text)
    if ref.digest is not None:
        raise InvalidReference("refusing to create a tag with a digest reference")
    return ref


def looks_like_id_prefix(text: str) -> bool:
    """True for 1-64 lowercase hex digits: something that may name an image by ID prefix."""
    return 0 < len(text) <= 64 and _is_hex(text)


def familiar(full: str) -> str:
    """docker.io/library/busybox:latest -> busybox:latest (Docker's FamiliarString)."""
    if full.startswith("docker.io/library/") and "/" not in full[len("docker.io/library/"):].split(":")[0].split("@")[0]:
        return full[len("docker.io/library/"):]
    if full.startswith("docker.io/"):
        return full[len("docker.io/"):]
    return full


def split_name(full: str) -> tuple[str, str]:
    """'repo:tag' or 'repo@digest' -> (repo, tag-or-digest), on the familiar form."""
    f = familiar(full)
    if "@" in f:
        repo, _, dig = f.partition("@")
        return repo, dig
    slash = f.rfind("/")
    colon = f.rfind(":")
    if colon > slash:
        return f[:colon], f[colon + 1:]
    return f, ""

