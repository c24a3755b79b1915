"""A selector that wraps the real one: the base of the world's and the app host's event loops.

Both loops change only what an idle wait means (the world moves its virtual
clock, the app host tells the world it is idle); everything else goes to the
real selector.
"""

from __future__ import annotations

import selectors


class WrappedSelector(selectors.BaseSelector):
    def __init__(self, real: selectors.BaseSelector) -> None:
        self._real = real

    def register(self, fileobj, events, data=None):  # type: ignore[no-untyped-def]
        return self._real.register(fileobj, events, data)

    def unregister(self, fileobj):  # type: ignore[no-untyped-def]
        return self._real.unregister(fileobj)

    def modify(self, fileobj, events, data=None):  # type: ignore[no-untyped-def]
        return self._real.modify(fileobj, events, data)

    def get_key(self, fileobj):  # type: ignore[no-untyped-def]
        return self._real.get_key(fileobj)

    def get_map(self):  # type: ignore[no-untyped-def]
        return self._real.get_map()

    def close(self) -> None:
        self._real.close()

    def select(self, timeout: float | None = None):  # type: ignore[no-untyped-def]
        return self._real.select(timeout)
