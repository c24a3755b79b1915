"""The network between the server and its user: bytes on the wire cost time."""

from __future__ import annotations

import os
from dataclasses import dataclass

DEFAULT_BANDWIDTH_MBIT = 10.0


@dataclass(frozen=True)
class Network:
    """A link of fixed bandwidth; transfer time is bytes * 8 / bits-per-second."""

    bandwidth_mbit: float = DEFAULT_BANDWIDTH_MBIT

    def transfer_seconds(self, nbytes: int) -> float:
        return nbytes * 8 / (self.bandwidth_mbit * 1_000_000)

    @classmethod
    def from_env(cls) -> Network:
        raw = os.environ.get("KATA_BANDWIDTH_MBIT")
        if not raw:
            return cls()
        try:
            value = float(raw)
        except ValueError:
            raise ValueError(f"KATA_BANDWIDTH_MBIT must be a number of Mbit/s, got {raw!r}") from None
        if value <= 0:
            raise ValueError(f"KATA_BANDWIDTH_MBIT must be positive, got {raw!r}")
        return cls(value)
