"""Docker's image reference grammar: parse, normalise, print the familiar form.

Owns the grammar of distribution/reference (``[domain[:port]/]path[:tag][@digest]``)
and Docker's normalisation (ParseNormalizedNamed): the default domain is
``docker.io``, ``index.docker.io`` is folded into it, and single-component
Docker Hub names gain ``library/``.

Invariants of a parsed ``Reference``: ``path`` matches the path grammar (lowercase),
``len(path) <= 255``, ``tag`` matches ``[\\w][\\w.-]{0,127}`` and ``digest`` is a
valid ``algorithm:hex`` for a supported algorithm; ``parse(str(ref)) == ref`` and
``parse(ref.familiar()) == ref``. Every parse error is an ``InvalidReference``
with Docker's wording. Also FamiliarMatch (the `reference=` filter of image lists),
with Go's path.Match. Pure: imports only ``re`` and ``pallet.errors``.
"""
from __future__ import annotations

import re
from .record import dataclass, replace

from .errors import InvalidReference, PalletError

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


# ---- FamiliarMatch: Go's path.Match on the familiar forms ----

def familiar_match(pattern: str, full: str) -> bool:
    """distribution/reference FamiliarMatch: Go's path.Match of `pattern` on the familiar
    string (``busybox:latest``), else on the familiar name (``busybox``). So ``*`` is one
    path element: it matches ``busybox`` but not ``team/app``. A malformed pattern is the
    daemon's plain error (a 500), "syntax error in pattern"."""
    return path_match(pattern, familiar(full)) or path_match(pattern, split_name(full)[0])


_ANY = object()  # `?`: one character, not '/'


def path_match(pattern: str, name: str) -> bool:
    """Go's path.Match: `*` is any run of non-'/' characters, `?` one non-'/' character,
    `[...]` / `[^...]` a class of characters and ranges (which may hold '/'), `\\c` the
    character c; the whole of `name` must match. Go's own algorithm, not a regex: after a
    star, the first place where the next fixed-length chunk fits is kept (no backtracking
    into the star), and any malformed pattern is an error, whatever the name."""
    chunks = _chunks(pattern)
    for n, (star, tokens) in enumerate(chunks):
        last = n == len(chunks) - 1
        if star and not tokens:  # a trailing star takes the rest of the element
            return "/" not in name
        rest = _match_chunk(tokens, name)
        if rest is not None and (not rest or not last):
            name = rest
            continue
        rest = _after_star(tokens, name, last) if star else None
        if rest is None:
            return False
        name = rest
    return not name


def _after_star(tokens: list, name: str, last: bool) -> str | None:
    """The rest of `name` once the star has taken 1, 2, ... characters (never a '/') and
    the chunk fits; the last chunk must also end the name."""
    for skip in range(len(name)):
        if name[skip] == "/":
            return None
        rest = _match_chunk(tokens, name[skip + 1:])
        if rest is not None and not (last and rest):
            return rest
    return None


def _match_chunk(tokens: list, text: str) -> str | None:
    """The rest of `text` after `tokens` (each matches one character), or None."""
    if len(text) < len(tokens):
        return None
    for token, char in zip(tokens, text):
        if token is _ANY:
            if char == "/":
                return None
        elif isinstance(token, tuple):
            negated, ranges = token
            if any(lo <= char <= hi for lo, hi in ranges) == negated:
                return None
        elif token != char:
            return None
    return text[len(tokens):]


def _chunks(pattern: str) -> list[tuple[bool, list]]:
    """(star before it, its tokens) for each chunk: the runs between stars, split where
    Go's scanChunk splits (a '*' inside [...] or after '\\' is no star)."""
    out = []
    while pattern:
        star = pattern.startswith("*")
        pattern = pattern.lstrip("*")
        i, in_class = 0, False
        while i < len(pattern) and (pattern[i] != "*" or in_class):
            if pattern[i] == "\\":
                i += 1
            elif pattern[i] in "[]":
                in_class = pattern[i] == "["
            i += 1
        out.append((star, _tokens(pattern[:i])))
        pattern = pattern[i:]
    return out


def _bad_pattern() -> PalletError:
    return PalletError("syntax error in pattern")  # Go's path.ErrBadPattern


def _tokens(chunk: str) -> list:
    out, i = [], 0
    while i < len(chunk):
        char = chunk[i]
        if char == "[":
            token, i = _char_class(chunk, i + 1)
            out.append(token)
            continue
        if char == "\\":
            i += 1
            if i == len(chunk):
                raise _bad_pattern()
        out.append(_ANY if char == "?" else chunk[i])
        i += 1
    return out


def _char_class(chunk: str, i: int) -> tuple[tuple, int]:
    """The class starting at chunk[i] (after its '['): ((negated, ranges), index after ']')."""
    negated = chunk.startswith("^", i)
    i += negated
    ranges: list[tuple[str, str]] = []
    while not (chunk.startswith("]", i) and ranges):  # a class is never empty
        lo, i = _class_char(chunk, i)
        hi = lo
        if chunk[i] == "-":
            hi, i = _class_char(chunk, i + 1)
        ranges.append((lo, hi))
    return (negated, tuple(ranges)), i + 1


def _class_char(chunk: str, i: int) -> tuple[str, int]:
    """Go's getEsc: one character of a class, maybe escaped; never a bare '-' or ']', and
    never the chunk's last (the class would be unclosed)."""
    if i >= len(chunk) or chunk[i] in "-]":
        raise _bad_pattern()
    if chunk[i] == "\\":
        i += 1
    if i + 1 >= len(chunk):
        raise _bad_pattern()
    return chunk[i], i + 1
