"""13 locust-scenario: the student's locustfile must load the TaskBoard API the way its users do.

The locustfile is the submission. Its users run in a users host of their own
(``harness.world.swarm``): every request they send reaches the world, which
sends it into the app and records it on its own clock. Every check below
reads that record, never what the locustfile says about itself: which
requests came, when, with which token, and how they were answered. Then the
locustfile runs for a few seconds in real Locust against ``kata serve 13``,
and the server's own log says what it answered.

What counts as a fix (the rule these checks apply). The README's scenario is
the specification: members (weight 4) browse project task lists (5) and read
single tasks (3) with a think time between 2 and 5 s; admins (weight 1) read
dashboards (3) and member lists (1) with 3 to 8 s; each user logs in once.

May freely choose: class and method names, ``self.client.headers`` or
``headers=`` per request, ``random`` or any other way to vary ids within the
seeded data, ``between`` or any wait that stays in the range, ``@task`` or
``tasks = {...}``, ``fixed_count``, helper methods, ``catch_response``.

May not:
- log in more (or less) than once per user, or send a request without its
  user's token;
- change the mix: the share of users per class and of requests per task
  (within the tolerance that random choice needs);
- leave an id in a stats name (``/tasks/17``): each endpoint is one line;
- hit one row over and over (at least ``min_distinct_tasks`` task ids);
- think less or more than the range (a request sent 0 s after the last
  answer is a machine gun, not a user);
- fail requests (404s from ids outside the data, 401s, 403s), or fail to
  run in real Locust.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from typing import Any

from harness.engine.checks import Check, CheckFailed, Grading
from harness.world.hosts import host_user
from harness.world.load import LoadRun, Sample

LOGIN = "/auth/login"
TEMPLATES = (
    (re.compile(r"^/tasks/(\d+)$"), "/tasks/{id}"),
    (re.compile(r"^/projects/(\d+)/tasks$"), "/projects/{id}/tasks"),
    (re.compile(r"^/organizations/(\d+)/dashboard$"), "/organizations/{id}/dashboard"),
    (re.compile(r"^/organizations/(\d+)/members$"), "/organizations/{id}/members"),
)
ROLES = ("member", "admin")


def endpoint(path: str) -> str:
    """The endpoint a path belongs to (``/tasks/17`` -> ``/tasks/{id}``), by the world's reading of the path."""
    for pattern, template in TEMPLATES:
        if pattern.match(path):
            return template
    return path


class Record:
    """What the world saw: each login's token and role, from the app's answers."""

    def __init__(self) -> None:
        self.roles: dict[str, str] = {}

    def __call__(self, method: str, path: str, status: int, body: bytes) -> str | None:
        if method == "POST" and path == LOGIN and status == 200:
            try:
                answer: Any = json.loads(body)
                self.roles[f"Bearer {answer['access_token']}"] = str(answer["role"])
            except (ValueError, KeyError, TypeError):
                return None
        return None


async def observed(g: Grading) -> tuple[LoadRun, Record]:
    async def run() -> tuple[LoadRun, Record]:
        record = Record()
        locustfile = g.submission / "locustfile.py"
        if not locustfile.is_file():
            raise CheckFailed(f"there is no locustfile.py in {g.submission}")
        load = await g.load(locustfile=locustfile, check=record, max_requests=int(g.budget("max_requests")))
        return load, record

    return await g.once("locustfile-run", run)


def role_of(sample: Sample, record: Record) -> str | None:
    return record.roles.get(sample.authorization or "")


def _logins(run: LoadRun) -> list[Sample]:
    return [s for s in run.samples if s.method == "POST" and s.path == LOGIN]


def _others(run: LoadRun) -> list[Sample]:
    return [s for s in run.samples if s.path != LOGIN]


async def one_login_per_user(g: Grading) -> str:
    run, record = await observed(g)
    users = run.options.users
    logins = _logins(run)
    if not run.samples:
        raise CheckFailed("your users sent no request at all in a minute of modeled time")
    if len(logins) != users:
        raise CheckFailed(
            f"{users} users logged in {len(logins)} times in {run.options.duration:g} modeled seconds (expected "
            f"{users}: the scenario's users log in once each, when they start, and keep their token)"
        )
    unknown = [s for s in _others(run) if s.authorization not in record.roles]
    if unknown:
        first = unknown[0]
        raise CheckFailed(
            f"{len(unknown)} requests carried no token from a login, e.g. {first.method} {first.path} "
            f"(Authorization: {first.authorization or 'none'}): send 'Authorization: Bearer <token>' "
            "with every request"
        )
    idle = set(record.roles) - {s.authorization for s in _others(run)}
    if idle:
        raise CheckFailed(f"{len(idle)} of the {users} users logged in and then sent nothing")
    return f"{users} users, {len(logins)} logins, every request with its user's token"


async def user_mix(g: Grading) -> str:
    run, record = await observed(g)
    counted = Counter(record.roles.values())
    users = sum(counted.values()) or 1
    shares = {role: counted.get(role, 0) / users for role in ROLES}
    for role in ROLES:
        wanted = float(g.budget(f"{role}_share"))
        # Locust splits users by weight, not at random: the count is exact, give or take one user.
        if abs(counted.get(role, 0) - wanted * users) > 1:
            raise CheckFailed(
                f"{counted.get(role, 0)} of {users} logged-in users were {role}s ({shares[role]:.0%}); expected "
                f"{wanted:.0%} {role}s, give or take one user (the scenario has members and admins, 4 to 1)"
            )
    return ", ".join(f"{counted.get(r, 0)} {r}s" for r in ROLES)


async def task_mix(g: Grading) -> str:
    run, record = await observed(g)
    tolerance = float(g.budget("mix_tolerance"))
    said = []
    for role in ROLES:
        weights = {str(k): float(v) for k, v in g.budget(f"{role}_tasks").items()}
        chosen = [endpoint(s.path) for s in _others(run) if role_of(s, record) == role]
        if not chosen:
            raise CheckFailed(f"no {role} sent a request: the scenario has {role}s doing {', '.join(weights)}")
        counted = Counter(chosen)
        total = sum(weights.values())
        for name, weight in weights.items():
            share, wanted = counted.get(name, 0) / len(chosen), weight / total
            # Random choice spreads a share by about sqrt(p(1-p)/n): 3.5 of those, at least the budget's floor.
            allowed = max(tolerance, 3.5 * math.sqrt(wanted * (1 - wanted) / len(chosen)))
            if abs(share - wanted) > allowed:
                raise CheckFailed(
                    f"{share:.0%} of the {role}s' {len(chosen)} requests went to {name}; the scenario has "
                    f"{wanted:.0%}, give or take {allowed:.0%} (task weights "
                    f"{', '.join(f'{n} {w:g}' for n, w in weights.items())})"
                )
        other = sorted(set(counted) - set(weights))
        if other:
            raise CheckFailed(f"{role}s also requested {', '.join(other)}, which is not in their part of the scenario")
        said.append(f"{role}s: " + ", ".join(f"{n} {counted[n] / len(chosen):.0%}" for n in weights))
    return "; ".join(said)


async def grouped_names(g: Grading) -> str:
    run, _ = await observed(g)
    names: dict[str, set[str]] = {}
    for sample in run.samples:
        names.setdefault(endpoint(sample.path), set()).add(sample.name)
    for template, used in sorted(names.items()):
        for name in sorted(used):
            if re.search(r"/\d+(/|$)", name):
                raise CheckFailed(
                    f"the stats line {name!r} has an id in it: expected one line for all requests to {template}"
                )
        if len(used) > 1:
            raise CheckFailed(
                f"requests to {template} are split over {len(used)} stats lines ({', '.join(sorted(used))}); "
                "expected one"
            )
    return f"{len(names)} stats lines, one per endpoint"


async def varied_data(g: Grading) -> str:
    run, _ = await observed(g)
    tasks = {m.group(1) for s in run.samples if (m := TEMPLATES[0][0].match(s.path))}
    projects = {m.group(1) for s in run.samples if (m := TEMPLATES[1][0].match(s.path))}
    wanted = int(g.budget("min_distinct_tasks"))
    by_user: dict[str, set[str]] = {}
    for sample in run.samples:
        if (m := TEMPLATES[0][0].match(sample.path)) is not None:
            by_user.setdefault(sample.authorization or "", set()).add(m.group(1))
    readers = list(by_user.values())
    stuck = [ids for ids in readers if len(ids) == 1]
    if readers and len(stuck) * 2 > len(readers):
        raise CheckFailed(
            f"{len(stuck)} of the {len(readers)} users who read tasks read only one task id each, again and again: "
            "expected each user's ids to vary within the data"
        )
    if len(tasks) < wanted:
        raise CheckFailed(
            f"the members asked for {len(tasks)} distinct task ids ({', '.join(sorted(tasks, key=int)[:5])}); "
            f"expected at least {wanted} distinct ids within the data (real members read different tasks)"
        )
    if len(projects) < 2:
        raise CheckFailed(
            f"every project list was for project {', '.join(projects) or '(none)'}: expected at least 2 projects"
        )
    return f"{len(tasks)} distinct tasks, {len(projects)} distinct projects"


async def think_time(g: Grading) -> str:
    run, record = await observed(g)
    if run.truncated and max(s.end for s in run.samples) < run.options.duration / 2:
        raise CheckFailed(
            f"the run stopped after {len(run.samples)} requests in {max(s.end for s in run.samples):.1f} modeled "
            "seconds (at most a few thousand in a minute are expected): your users never pause"
        )
    by_user: dict[str, list[Sample]] = {}
    for sample in _others(run):
        by_user.setdefault(sample.authorization or "", []).append(sample)
    said = []
    for role in ROLES:
        low, high = (float(x) for x in g.budget(f"{role}_think_s"))
        gaps = []
        for token, samples in by_user.items():
            if record.roles.get(token) != role:
                continue
            for before, after in zip(samples, samples[1:], strict=False):
                gaps.append(after.time - before.end)
        if not gaps:
            raise CheckFailed(f"no {role} sent two requests in {run.options.duration:g} modeled seconds")
        too_short = [gap for gap in gaps if gap < low - 0.01]
        too_long = [gap for gap in gaps if gap > high + 0.01]
        if too_short or too_long:
            worst = min(gaps) if too_short else max(gaps)
            raise CheckFailed(
                f"{len(too_short) + len(too_long)} of the {role}s' {len(gaps)} pauses between an answer and the next "
                f"request were outside the expected {low:g}-{high:g} s (one was {worst:.2f} s)"
            )
        said.append(f"{role}s {min(gaps):.2f}-{max(gaps):.2f} s")
    return "think times: " + ", ".join(said)


async def no_failures(g: Grading) -> str:
    run, _ = await observed(g)
    failed = [s for s in run.samples if s.failure]
    if failed:
        causes = Counter(f"{s.method} {s.path}: {s.failure}" for s in failed)
        worst = ", ".join(f"{what} x{n}" for what, n in causes.most_common(3))
        raise CheckFailed(f"{len(failed)} of {len(run.samples)} requests failed ({worst}): check ids and tokens")
    return f"{len(run.samples)} requests, none failed"


async def real_locust(g: Grading) -> str:
    from harness.frontends import locust_real

    locustfile = g.submission / "locustfile.py"
    users, seconds = int(g.budget("locust_users")), float(g.budget("locust_seconds"))
    with locust_real.served(g.exercise, g.submission.parent, g.exercise.spec.profile.scale) as server:
        try:
            result = locust_real.run_locust(locustfile, server.url, users, users, seconds, user=host_user())
        except Exception as error:
            raise CheckFailed(f"real Locust could not run locustfile.py: {error}") from None
        answered = server.answered()
    if not answered:
        raise CheckFailed(
            f"in {seconds:g} s of real Locust, kata serve 13 answered no request (Locust exited "
            f"with {result.exit_code})"
        )
    bad = [(m, p, s) for m, p, s in answered if s >= 400]
    if bad:
        method, path, status = bad[0]
        raise CheckFailed(
            f"in real Locust, {len(bad)} of {len(answered)} requests failed at the server, e.g. {method} {path} "
            f"-> {status}"
        )
    # The same scenario as in the kata's run: one login per user, and think time between requests (each user
    # logs in, then sends at most one request per pause of the shortest think time, plus the first).
    logins = sum(1 for m, p, _ in answered if m == "POST" and p == LOGIN)
    shortest = min(float(g.budget(f"{role}_think_s")[0]) for role in ROLES)
    most = users * (2 + int(seconds / shortest))
    if logins > users or len(answered) > most:
        raise CheckFailed(
            f"in real Locust, {users} users sent {len(answered)} requests in {seconds:g} s, {logins} of them logins "
            f"(expected at most {users} logins and {most} requests, with the scenario's think time): the file "
            "does not run the same scenario in real Locust as in the kata's runner"
        )
    return f"real Locust ran it for {seconds:g} s: the server answered {len(answered)} requests, all 2xx/3xx"


CHECKS = [
    Check("one_login_per_user", "each user logs in once and sends its token with every request", one_login_per_user),
    Check("user_mix", "members and admins in the scenario's proportion (4:1)", user_mix),
    Check("task_mix", "each class's requests spread over its tasks by the task weights", task_mix),
    Check("grouped_names", "one stats line per endpoint, no ids in names (name=)", grouped_names),
    Check("varied_data", "ids vary within the seeded data", varied_data),
    Check("think_time", "pauses between an answer and the next request within each class's range", think_time),
    Check("no_failures", "no request fails (ids within the data, a token with each request)", no_failures, guard=True),
    Check(
        "real_locust",
        "the locustfile runs the same scenario in real Locust against kata serve 13 (logins, pace, no failures)",
        real_locust,
    ),
]
