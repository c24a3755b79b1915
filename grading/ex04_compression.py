"""04 compression: gzip when the client accepts it, and only then; same answer."""

from __future__ import annotations

from typing import Any

from harness.engine.checks import Check, CheckFailed, Grading, compare_with_reference, profile_request
from harness.world.measure import RequestMetrics
from harness.world.seed import Dataset

ORG_IDS = (1, 2, 3, 4)
MISSING_ORG = 999
CORRECTNESS_SCALE = "10x8"
GZIP = {"Accept-Encoding": "gzip"}
IDENTITY = {"Accept-Encoding": "identity"}


def reference(data: Dataset, path: str) -> tuple[int, Any]:
    parts = path.strip("/").split("/")
    org = data.organizations.get(int(parts[1]))
    if org is None:
        return 404, None
    if len(parts) == 2:
        return 200, {
            "id": org["id"],
            "name": org["name"],
            "city": org["city"],
            "member_count": org["member_count"],
        }
    projects = {p["id"]: p["name"] for p in data.projects_of(org["id"])}
    return 200, [
        {
            "id": t["id"],
            "project": projects[t["project_id"]],
            "title": t["title"],
            "status": t["status"],
            "assignee": data.assignee_name(t),
            "due_date": t["due_date"].isoformat(),
            "description": t["description"],
        }
        for t in data.tasks
        if t["project_id"] in projects
    ]


async def correct(g: Grading) -> str:
    paths = [
        f"/organizations/{org_id}{suffix}" for org_id in (*ORG_IDS, MISSING_ORG) for suffix in ("", "/tasks/export")
    ]
    for headers in (GZIP, IDENTITY):
        await compare_with_reference(g, CORRECTNESS_SCALE, paths, reference, headers=headers)
    return "exports and organization summaries match the reference, decoded, with and without gzip"


async def _export(g: Grading, headers: dict[str, str]) -> RequestMetrics:
    async def measure() -> RequestMetrics:
        _, path, _ = profile_request(g.exercise)
        async with g.serve() as client:
            exchange = await client.get(path, headers=headers)
            if exchange.response.status_code != 200:
                raise CheckFailed(f"GET {path} returned HTTP {exchange.response.status_code}")
            return exchange.metrics

    return await g.once(("export", tuple(headers.items())), measure)


async def gzip_when_accepted(g: Grading) -> str:
    ratio_budget = g.budget("max_compressed_ratio")
    plain, packed = await _export(g, IDENTITY), await _export(g, GZIP)
    ratio = packed.response_bytes / plain.response_bytes
    encoding = packed.headers.get("content-encoding", "none")
    facts = (
        f"{packed.response_bytes:,} bytes on the wire with Accept-Encoding: gzip vs {plain.response_bytes:,} "
        f"uncompressed ({ratio:.0%}, budget {ratio_budget:.0%}); modeled transfer {packed.transfer_ms:g} ms "
        f"vs {plain.transfer_ms:g} ms"
    )
    if encoding != "gzip" or ratio > ratio_budget or packed.transfer_ms > plain.transfer_ms * ratio_budget:
        _, path, _ = profile_request(g.exercise)
        raise CheckFailed(f"{facts}; the response to GET {path} has Content-Encoding: {encoding}")
    return facts


async def identity_when_not_accepted(g: Grading) -> str:
    plain = await _export(g, IDENTITY)
    encoding = plain.headers.get("content-encoding")
    if encoding:
        raise CheckFailed(
            f"the request said Accept-Encoding: identity but the response has Content-Encoding: {encoding}: "
            "a client that cannot decode it gets garbage"
        )
    return f"without gzip accepted the body goes uncompressed ({plain.response_bytes:,} bytes)"


async def small_not_compressed(g: Grading) -> str:
    path, min_size = g.budget("small_path"), g.budget("min_compressed_size")
    async with g.serve() as client:
        exchange = await client.get(path, headers=GZIP)
    size = int(exchange.response.headers.get("content-length", exchange.metrics.response_bytes))
    encoding = exchange.metrics.headers.get("content-encoding")
    if encoding:
        raise CheckFailed(
            f"GET {path} ({size} bytes on the wire) was compressed: bodies under {min_size} bytes gain "
            "nothing from gzip"
        )
    return f"GET {path} ({size} bytes) left uncompressed"


CHECKS = [
    Check(
        "correct",
        "decoded bodies equal the reference, with and without gzip, on public and hidden data",
        correct,
        guard=True,
    ),
    Check(
        "gzip_when_accepted",
        "with gzip accepted, at most the budgeted share of bytes and transfer time",
        gzip_when_accepted,
    ),
    Check(
        "identity_when_not_accepted",
        "no compression when the client does not accept it",
        identity_when_not_accepted,
        guard=True,
    ),
    Check("small_not_compressed", "small responses are not compressed", small_not_compressed, guard=True),
]
