"""The network between the server and its user: bytes on the wire cost time."""

from __future__ import annotations

from dataclasses import dataclass

from harness.config import env_number

DEFAULT_BANDWIDTH_MBIT = 10.0


@dataclass(frozen=True)
class Network:
    """A link of fixed bandwidth; transfer time is bytes * 8 / bits-per-second."""

    bandwidth_mbit: float = DEFAULT_BANDWIDTH_MBIT

    def transfer_seconds(self, nbytes: int) -> float:
        return nbytes * 8 / (self.bandwidth_mbit * 1_000_000)

    @classmethod
    def from_env(cls) -> Network:
        return cls(env_number("KATA_BANDWIDTH_MBIT", DEFAULT_BANDWIDTH_MBIT, "Mbit/s", allow_zero=False))
