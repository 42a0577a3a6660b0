"""The detach escape sequence on an attached terminal's input (moby/term's escapeProxy).

`EscapeProxy(keys).feed(data)` says which of the bytes a user typed go on to the
container and whether the detach sequence is now complete. Bytes that may begin the
sequence are held back; if the next byte breaks it, the held bytes go on followed by
that byte (which, as in moby, does not start a new match itself: ctrl-p ctrl-p ctrl-q
passes all three). Once complete, the bytes before the sequence in the same read are
passed, the sequence and anything after it are not, and the proxy stays detached.
A partial sequence at the end of input is dropped, as Docker's is.

Pure state machine: no terminal, no sockets, so every edge (the CLI's relay, the API's
hijacked attach with `detachKeys`) uses the same rules. Imports nothing.
"""
from __future__ import annotations


class EscapeProxy:
    def __init__(self, keys: bytes):
        self.keys = bytes(keys)
        self.matched = 0  # how many bytes of `keys` are held back
        self.detached = False

    def feed(self, data: bytes) -> tuple[bytes, bool]:
        """(bytes to pass on now, whether the sequence has been read)."""
        if self.detached:
            return b"", True
        if not self.keys:
            return data, False
        out = bytearray()
        for byte in data:
            if byte == self.keys[self.matched]:
                self.matched += 1
                if self.matched == len(self.keys):
                    self.detached = True
                    return bytes(out), True
                continue
            if self.matched:
                out += self.keys[:self.matched]
                self.matched = 0
            out.append(byte)
        return bytes(out), False


def pass_on(escape: EscapeProxy | None, data: bytes, send) -> bool:
    """Send (`send(bytes)`) what the user typed, less the detach keys when `escape` watches
    for them; True once they are read. The relays of every edge share it."""
    if escape is None:
        send(data)
        return False
    data, detached = escape.feed(data)
    if data:
        send(data)
    return detached
