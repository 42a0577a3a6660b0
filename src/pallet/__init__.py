__version__ = "0.1.0"

import os as _os


def crash_point(name: str) -> None:
    """Test-only: a process whose PALLET_TEST_STOP_AT names this point stops itself (SIGSTOP)
    here, so that a test can kill -9 it at exactly this moment and check what a crash leaves.
    Here, not in a module of its own: it sits on `run --rm`'s path, where an import costs."""
    if _os.environ.get("PALLET_TEST_STOP_AT") == name:
        _os.kill(_os.getpid(), 19)  # SIGSTOP, without importing signal
