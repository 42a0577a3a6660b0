"""`pallet build` shows BuildKit's progress by default, as Docker has since 23: plain lines on
stderr when it is not a terminal, the live display on one, the classic text on request."""
from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time

from pallet.cli.build_progress import _excerpt

from test_build import write_context

SIMPLE = "FROM busybox\nCOPY a.txt /a.txt\nENV GREETING=hello\nRUN echo $GREETING && echo oops >&2\n"


def test_default_output_is_buildkits_plain_progress_on_stderr(pallet, busybox, tmp_path):
    ctx = write_context(tmp_path / "c", {"Dockerfile": SIMPLE, "a.txt": "a\n"})
    r = pallet.ok("build", "-t", "app:1", str(ctx))
    assert r.out == ""  # BuildKit writes its progress to stderr
    head, _, rest = r.err.partition("\n\n")
    assert head == '#0 building with "default" instance using docker driver'  # buildx names its builder
    blocks = rest.split("\n\n")
    assert blocks[0] == ("#1 [internal] load build definition from Dockerfile\n"
                         f"#1 transferring dockerfile: {len(SIMPLE)}B done\n#1 DONE 0.0s")
    assert blocks[1] == "#2 [internal] load metadata for docker.io/library/busybox:latest\n#2 DONE 0.0s"
    assert blocks[2].startswith("#3 [internal] load .dockerignore\n")
    assert blocks[3] == "#4 [1/3] FROM docker.io/library/busybox:latest\n#4 CACHED"
    # the context BuildKit sends: its files' bytes (a.txt and the Dockerfile), as go-units writes them
    assert blocks[4] == (f"#5 [internal] load build context\n#5 transferring context: {len(SIMPLE) + 2}B done\n"
                         "#5 DONE 0.0s")
    # ENV is no step of BuildKit's: COPY and RUN are 2/3 and 3/3; a miss says why
    assert re.fullmatch(r"#6 \[2/3\] COPY a.txt /a.txt\n#6 cache miss: no earlier build of this step\n"
                        r"#6 DONE \d+\.\ds", blocks[5])
    assert re.fullmatch(r"#7 \[3/3\] RUN echo \$GREETING && echo oops >&2\n#7 cache miss: .*\n"
                        r"#7 \d+\.\d{3} hello\n#7 \d+\.\d{3} oops\n#7 DONE \d+\.\ds", blocks[6])
    image_id = pallet.ok("image", "inspect", "-f", "{{.Id}}", "app:1").out.strip()
    assert blocks[7] == (f"#8 exporting to image\n#8 exporting layers done\n#8 writing image {image_id} done\n"
                         "#8 naming to docker.io/library/app:1 done\n#8 DONE 0.0s")
    again = pallet.ok("build", "--progress=plain", "-t", "app:1", str(ctx)).err
    assert "#6 [2/3] COPY a.txt /a.txt\n#6 CACHED\n\n#7 [3/3] RUN" in again
    assert "#7 CACHED\n\n" in again and "hello" not in again


MULTI = """FROM busybox AS builder
RUN echo built > /out
FROM busybox
WORKDIR /app
COPY --from=builder /out /app/out
"""


def test_multi_stage_steps_are_named_by_stage_as_buildkit_names_them(pallet, busybox, tmp_path):
    ctx = write_context(tmp_path / "c", {"Dockerfile": MULTI})
    err = pallet.ok("build", str(ctx)).err
    names = re.findall(r"^#\d+ (\[(?:builder|stage-1) [^\n]*)$", err, re.M)
    assert names == ["[builder 1/2] FROM docker.io/library/busybox:latest", "[builder 2/2] RUN echo built > /out",
                     "[stage-1 1/3] FROM docker.io/library/busybox:latest", "[stage-1 2/3] WORKDIR /app",
                     "[stage-1 3/3] COPY --from=builder /out /app/out"]


FAILING = "FROM busybox\nENV A=1\nRUN echo first && \\\n    echo second\nRUN echo out; exit 3\nRUN echo never\n"


def test_failed_step_ends_with_buildkits_summary_and_the_dockerfile_lines(pallet, busybox, tmp_path):
    ctx = write_context(tmp_path / "c", {"Dockerfile": FAILING})
    r = pallet("build", "-t", "bad", str(ctx))
    assert r.code == 1 and r.out == ""  # BuildKit: exit 1, whatever the step's code
    tail = r.err[r.err.index("#6 [3/4] RUN echo out; exit 3"):]
    assert re.fullmatch(r"""#6 \[3/4\] RUN echo out; exit 3
#6 cache miss: no earlier build of this step
#6 (\d+\.\d{3}) out
#6 ERROR: process "/bin/sh -c echo out; exit 3" did not complete successfully: exit code: 3
------
 > \[3/4\] RUN echo out; exit 3:
\1 out
------
Dockerfile:5
--------------------
   3 \|     RUN echo first && \\
   4 \|         echo second
   5 \| >>> RUN echo out; exit 3
   6 \|     RUN echo never
   7 \|     
--------------------
ERROR: failed to solve: process "/bin/sh -c echo out; exit 3" did not complete successfully: exit code: 3
""", tail), tail
    assert pallet("image", "inspect", "bad").code == 1


def test_dockerfile_excerpt_pads_as_buildkit_does():
    text = "FROM a\nRUN x && \\\n  y\nRUN z\n"
    assert _excerpt(("Dockerfile", text), (2, 3)) == [
        "Dockerfile:2", "-" * 20, "   1 |     FROM a", "   2 | >>> RUN x && \\", "   3 | >>>   y",
        "   4 |     RUN z", "-" * 20]


def test_progress_modes_and_their_errors(pallet, busybox, tmp_path):
    ctx = write_context(tmp_path / "c", {"Dockerfile": "FROM busybox\nRUN echo hi\n"})
    r = pallet("build", "--progress=tty", str(ctx))  # buildx's words: stderr is no terminal here
    assert (r.code, r.err) == (1, "Error: failed to get console: provided file is not a console\n")
    r = pallet("build", "--progress=fancy", str(ctx))
    assert r.code == 1 and 'invalid progress mode "fancy"' in r.err
    r = pallet.ok("build", "--progress=classic", str(ctx))
    assert r.lines[0] == "Step 1/2 : FROM busybox" and "hi" in r.lines and r.err == ""
    r = pallet.ok("build", "--progress=quiet", str(ctx))
    assert re.fullmatch(r"sha256:[0-9a-f]{64}\n", r.out) and r.err == ""


def test_live_display_on_a_terminal_collapses_into_buildkits_summary(pallet, busybox, tmp_path):
    ctx = write_context(tmp_path / "c", {"Dockerfile": "FROM busybox\nRUN echo hi\n"})
    master, slave = pty.openpty()
    cmd = [sys.executable, "-m", "pallet.cli.main", "--root", str(pallet.root),
           "--runroot", str(pallet.runroot), "build", str(ctx)]  # --progress=auto
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave)
    os.close(slave)
    seen = b""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if select.select([master], [], [], 0.2)[0]:
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            seen += data
        elif proc.poll() is not None:
            break
    assert proc.wait(timeout=10) == 0
    os.close(master)
    text = seen.decode()
    assert "\x1b[" in text  # redrawn in place
    final = text.rsplit("[+] Building", 1)[1]
    lines = [re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", line).rstrip() for line in final.splitlines()]
    assert re.fullmatch(r" \d+\.\ds \(6/6\) FINISHED +docker:default", lines[0])
    assert re.fullmatch(r" => \[internal\] load build definition from Dockerfile +0\.0s", lines[1])
    assert any(re.fullmatch(r" => CACHED \[1/2\] FROM docker.io/library/busybox:latest +\d+\.\ds", l)
               for l in lines)
    assert any(re.fullmatch(r" => \[2/2\] RUN echo hi +\d+\.\ds", l) for l in lines)
    assert " => exporting to image" in "\n".join(lines)


def test_build_service_still_serves_the_classic_lines_and_stream_form(pallet, busybox, tmp_path):
    import io
    from pallet.services.build_types import BuildSource
    ctx = write_context(tmp_path / "c", {"Dockerfile": "FROM busybox\nRUN echo from-run\n"})
    lines, stream = [], io.BytesIO()
    result = pallet.engine.builds.build(BuildSource(str(ctx)), lines.append, stream)
    assert lines[0] == "Step 1/2 : FROM busybox" and lines[-1] == f" ---> {result.image_id[7:19]}"
    assert stream.getvalue() == b"from-run\n"
