"""The classic builder's text for build events: what `--progress=classic` and the Engine API's
build stream show, from the same events BuildKit's display is drawn from."""
from __future__ import annotations

import io

from pallet.build import events as ev


def test_classic_text_of_a_step_that_ran_and_one_that_was_cached():
    image = "sha256:" + "ab" * 32
    shown = [ev.classic_text(e) for e in (
        ev.Step(6, "[2/3] RUN make", 2, 5, "RUN make"), ev.Miss(6, "src/main.c changed"),
        ev.Running(6, "c" * 64), ev.Output(6, b"cc main.c\n"), ev.ContainerRemoved(6, "c" * 64),
        ev.StepDone(6, image, 0.3), ev.Step(None, "", 3, 5, "ENV A=1"), ev.Cached(None, image),
        ev.StepDone(None, image), ev.Internal(1, "[internal] load .dockerignore"))]
    assert shown == ["Step 2/5 : RUN make\n", " ---> Cache miss: src/main.c changed\n",
                     f" ---> Running in {'c' * 12}\n", b"cc main.c\n",
                     f"Removing intermediate container {'c' * 12}\n", " ---> abababababab\n",
                     "Step 3/5 : ENV A=1\n", " ---> Using cache\n", " ---> abababababab\n", None]


def test_classic_sink_feeds_a_line_and_stream_consumer():
    lines, stream = [], io.BytesIO()
    sink = ev.classic_sink(lines.append, stream)
    for event in (ev.Step(4, "[1/2] FROM x", 1, 2, "FROM x"), ev.BaseImage(4, None),
                  ev.Output(5, b"hello\n"), ev.Internal(7, "exporting to image")):
        sink(event)
    assert lines == ["Step 1/2 : FROM x", " ---> scratch"] and stream.getvalue() == b"hello\n"
