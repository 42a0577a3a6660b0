"""Validation of one Compose file against the Compose Specification's JSON schema.

Owns the schema (`compose-spec.json`, shipped as package data, from
compose-spec/compose-spec `schema/compose-spec.json`, Apache-2.0) and the wording
of its errors: one line naming the file and the path of the offending value as the
issue asks (`services.web.ports[0]`), in compose-go's words where it has them
(`additional properties 'foo' not allowed`). Validation runs on each file after
interpolation and before merging, as compose-go does.

`jsonschema` costs ~50 ms to import and compile: a tree already found valid is
remembered by the digest of its JSON in `cache_dir` (a file per digest), so a
command repeated on an unchanged project skips it.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ..errors import InvalidArgument

SCHEMA_PATH = Path(__file__).with_name("compose-spec.json")
_validator = None


def _compiled():
    global _validator
    if _validator is None:
        import jsonschema
        schema = json.loads(SCHEMA_PATH.read_text())
        _validator = jsonschema.Draft7Validator(schema)
    return _validator


def tree_digest(tree) -> str:
    data = json.dumps(tree, sort_keys=True, default=str).encode()
    return hashlib.sha256(data + SCHEMA_PATH.name.encode()).hexdigest()


def validate(tree, filename: str, cache_dir: Path | None = None) -> None:
    """InvalidArgument (one line) when `tree`, read from `filename`, breaks the schema."""
    marker = None
    if cache_dir is not None:
        marker = cache_dir / tree_digest(tree)
        if marker.exists():
            return
    from jsonschema.exceptions import best_match
    error = best_match(_compiled().iter_errors(tree))
    if error is not None:
        raise InvalidArgument(f"validating {filename}: {describe(error)}")
    if marker is not None:
        try:
            cache_dir.mkdir(parents=True, exist_ok=True)
            marker.touch()
        except OSError:
            pass  # only a cache


def path_text(parts) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def describe(error) -> str:
    where = path_text(error.absolute_path) or "(root)"
    v = error.validator
    if v == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        import re
        patterns = list(error.schema.get("patternProperties", {}))
        extra = [k for k in extra if not any(re.search(p, k) for p in patterns)] or extra
        return f"{where} additional properties {', '.join(repr(k) for k in extra)} not allowed"
    if v == "type":
        kinds = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        return f"{where} must be a {' or '.join(kinds)}"
    if v == "required":
        missing = [k for k in error.validator_value if k not in error.instance]
        return f"{where} missing property {missing[0]!r}" if missing else f"{where} {error.message}"
    if v == "enum":
        return f"{where} must be one of {', '.join(json.dumps(x) for x in error.validator_value)}"
    if v == "oneOf":
        return f"{where} {_short(error.instance)} is not valid: must be one of the forms the specification allows"
    return f"{where} {error.message}"


def _short(value) -> str:
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."
