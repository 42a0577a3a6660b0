"""pallet.record: the part of dataclasses pallet uses, with the same behaviour."""
from __future__ import annotations

import pytest

from pallet.record import FrozenInstanceError, dataclass, field, replace


@dataclass
class Point:
    x: int
    y: int = 0
    tags: list = field(default_factory=list)
    note: str = field(default="", repr=False)


@dataclass(frozen=True)
class Digest:
    algorithm: str
    hex: str


@dataclass
class Point3(Point):
    z: int = 0


def test_fields_by_position_keyword_and_default():
    p = Point(1, y=2)
    assert (p.x, p.y, p.tags, p.note) == (1, 2, [], "")
    assert Point(1).tags is not Point(1).tags  # a factory per instance


def test_wrong_arguments_are_type_errors_as_in_dataclasses():
    with pytest.raises(TypeError, match="missing"):
        Point()
    with pytest.raises(TypeError, match="unexpected keyword"):
        Point(1, w=3)
    with pytest.raises(TypeError, match="multiple values"):
        Point(1, x=2)
    with pytest.raises(TypeError, match="positional"):
        Point(1, 2, [], "", 5)


def test_eq_repr_and_replace():
    assert Point(1, 2) == Point(1, 2) != Point(1, 3)
    assert repr(Point(1, 2)) == "Point(x=1, y=2, tags=[])"
    assert replace(Point(1, 2), y=5) == Point(1, 5)


def test_frozen_records_refuse_assignment_and_hash_by_value():
    d = Digest("sha256", "ab")
    with pytest.raises(FrozenInstanceError):
        d.hex = "cd"
    assert hash(d) == hash(Digest("sha256", "ab"))


def test_subclass_fields_follow_the_base_fields():
    assert list(Point3.__dataclass_fields__) == ["x", "y", "tags", "note", "z"]
    assert Point3(1, 2, z=3).z == 3
