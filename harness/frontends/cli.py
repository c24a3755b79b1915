"""The `kata` command: list, check, watch, hint, reset, profile, serve, load, report, grade, compare."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markdown import Markdown
from rich.markup import escape
from rich.table import Table

from harness import catalog
from harness.catalog import Exercise, KataError, SubmissionError
from harness.engine import checks
from harness.engine.isolation import DEFAULT_WALL_SECONDS, Limits
from harness.frontends import state, waterfall
from harness.words import n_queries

app = typer.Typer(
    help="FastAPI Performance Kata: make slow endpoints fast, and prove it with measurements.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(highlight=False, soft_wrap=True)
errors = Console(stderr=True, highlight=False, soft_wrap=True)

PathOption = Annotated[
    Path, typer.Option("--path", "-p", help="Submission tree holding NN_slug/app.py (default: exercises).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of tables.")]


@contextlib.contextmanager
def _stdout_to_stderr(active: bool) -> Iterator[None]:
    """While a submission runs, its prints (fd 1) go to stderr, so --json output stays one clean object."""
    if not active:
        yield
        return
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


@contextlib.contextmanager
def _stopped_after(seconds: float) -> Iterator[None]:
    """The real-time limit of a command that runs the student's app in this process (kata profile): an app
    that never returns (a loop at import) ends the command with one sentence, as kata check does."""

    def stop() -> None:
        errors.print(
            f"[red]error:[/red] stopped after {seconds:g} s of real time: look for an endless loop or a "
            "call that blocks forever in your app (kata check says where)"
        )
        os._exit(1)

    timer = threading.Timer(seconds, stop)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def _fail(message: str) -> typer.Exit:
    errors.print(f"[red]error:[/red] {message}")
    return typer.Exit(2)


def _work_file(exercise: Exercise, path: Path) -> Path:
    """The student's file for the exercise (usually app.py), which must exist."""
    work_file = exercise.submitted_file(path)
    if not work_file.is_file():
        raise KataError(f"there is no {exercise.name}/{exercise.work_file} under {catalog.resolve_target(path)}")
    return work_file


@app.command("list")
def list_exercises(path: PathOption = Path("exercises")) -> None:
    """The exercises and the state of your last check of each."""
    table = Table(title="FastAPI Performance Kata", title_justify="left")
    for column in ("#", "exercise", "lecture", "state"):
        table.add_column(column)
    colors = {"passed": "green", "failed": "red", "changed": "yellow", "not checked": "dim"}
    passed = 0
    try:
        for exercise in catalog.exercises():
            status = state.check_status(exercise, exercise.submitted_file(path).resolve())
            passed += status == "passed"
            table.add_row(
                exercise.number,
                f"{exercise.slug}\n[dim]{exercise.title}[/dim]",
                ", ".join(exercise.spec.lecture),
                f"[{colors[status]}]{status}[/]",
            )
    except KataError as error:
        raise _fail(str(error)) from None
    console.print(table)
    console.print(f"[bold]{passed}/{len(catalog.exercises())} passed[/bold]")
    console.print("[dim]Next: kata check NN · kata watch NN · kata hint NN · kata profile NN · kata serve NN[/dim]")


TimeLimitOption = Annotated[
    float, typer.Option(help="Real seconds one exercise's grading may take before it is stopped.")
]


@app.command()
def check(
    exercise_key: Annotated[str, typer.Argument(metavar="NN", help="01, 1 or the slug")],
    path: PathOption = Path("exercises"),
    as_json: JsonOption = False,
    seed: Annotated[int | None, typer.Option(help="Hidden seed for the correctness data.")] = None,
    time_limit: TimeLimitOption = DEFAULT_WALL_SECONDS,
) -> None:
    """Grade one exercise: correctness first, then the measured budgets (points as `kata grade` gives them)."""
    from harness.engine import isolation, results

    try:
        exercise = catalog.find(exercise_key)
        app_file = _work_file(exercise, path)
        tree = catalog.resolve_target(path)
    except KataError as error:
        raise _fail(str(error)) from None
    limits = isolation.Limits(wall_seconds=time_limit)
    if not as_json:
        console.print(f"[dim]checking {exercise.name} (stopped after {time_limit:g} s of real time)…[/dim]")
    outcome = isolation.grade_supervised(exercise, tree, _seed(seed), limits)
    graded = results.Graded(exercise, outcome.report)
    if state.is_students_tree(tree):
        state.record_check(exercise, app_file, outcome.report.passed)
    if as_json:
        print(json.dumps(_check_json(graded), indent=2))
        if outcome.output.strip():
            errors.print(outcome.output, markup=False, highlight=False, end="")
    else:
        _print_output(outcome.output, app_file)
        _print_report(graded, app_file)
    raise typer.Exit(0 if outcome.report.passed else 1)


def _check_json(graded) -> dict:  # type: ignore[no-untyped-def]
    """The report, with the points each check earns (`counted`: false for a pass that earns nothing)."""
    data = graded.report.to_dict()
    for check, entry in zip(data["checks"], graded.scored(), strict=True):
        check.update(
            points=entry["score"],
            max_points=entry["max_score"],
            counted=not check["passed"] or entry["score"] == entry["max_score"],
        )
    return {**data, "score": graded.score, "max_score": graded.max_score}


def _print_output(output: str, app_file: Path) -> None:
    """What the submission printed while it was graded (the end of it), so print() debugging works."""
    lines = output.rstrip().splitlines()
    if not lines:
        return
    console.print(f"[dim]── what {app_file.name} printed ({len(lines)} lines; the last 30) ──[/dim]")
    console.print("\n".join(lines[-30:]), markup=False, highlight=False)
    console.print("[dim]──[/dim]")


@app.command()
def watch(
    exercise_key: Annotated[str, typer.Argument(metavar="NN", help="01, 1 or the slug")],
    path: PathOption = Path("exercises"),
    runs: Annotated[int | None, typer.Option(hidden=True, help="Stop after this many checks (tests).")] = None,
) -> None:
    """Check now, then again each time you save; after a pass, n moves on to the next exercise (q stops)."""
    from harness.frontends.workspace import watch as run_watch

    try:
        exercise = catalog.find(exercise_key)
        _work_file(exercise, path)
        run_watch(exercise, path, console, runs=runs, keys=sys.stdin)
    except KataError as error:
        raise _fail(str(error)) from None
    except KeyboardInterrupt:
        console.print("[dim]stopped watching[/dim]")


@app.command()
def reset(
    exercise_key: Annotated[str, typer.Argument(metavar="NN", help="01, 1 or the slug")],
    path: PathOption = Path("exercises"),
    revision: Annotated[
        str | None, typer.Option("--from", help="Take the file at this git revision instead of the pristine starter.")
    ] = None,
) -> None:
    """Put the pristine starter back (whatever you committed); your version is saved in .kata/backups/ first."""
    from harness.frontends.workspace import reset as run_reset

    try:
        exercise = catalog.find(exercise_key)
        done = run_reset(exercise, path, revision)
    except KataError as error:
        raise _fail(str(error)) from None
    what = "the pristine starter" if revision is None else f"the version at {revision}"
    if not done.changed:
        console.print(f"{done.work_file} is already {what}: nothing to do.")
    elif done.backup is None:
        console.print(f"Restored {what} in {done.work_file} (there was no file).")
    else:
        console.print(f"Restored {what} in {done.work_file}. Your version is saved as {done.backup}.")


def _print_report(graded, app_file: Path) -> None:  # type: ignore[no-untyped-def]
    report = graded.report
    console.print(f"[bold]{report.exercise}[/bold]  [dim]{app_file}[/dim]")
    # A grid, so a long message wraps under itself, between words, at any terminal width.
    results = Table.grid(padding=(0, 1))
    results.add_column(no_wrap=True)
    results.add_column(justify="right", no_wrap=True)
    results.add_column(ratio=1)
    if report.error:  # nothing could be graded: one sentence, not one per check
        results.add_row(" [red]✗ FAIL[/red]", "", report.error)
    else:
        for result, entry in zip(report.checks, graded.scored(), strict=True):
            if not result.passed:
                mark = "[red]✗ FAIL[/red]"
            elif entry["score"] < entry["max_score"]:
                mark = "[yellow]✓ pass[/yellow]"  # passes, but counts for nothing (see the note in the output)
            else:
                mark = "[green]✓ pass[/green]"
            points = f"{entry['score']:g}/{entry['max_score']:g}"
            results.add_row(f" {mark}", points, f"[bold]{result.name}[/bold]: {escape(entry['output'])}")
    console.print(results)
    m = report.metrics
    if m:
        console.print(
            f"  [dim]measured: {n_queries(m['queries'])} · db {m['db_ms']:g} ms · "
            f"external {m['external_ms']:g} ms · transfer {m['transfer_ms']:g} ms · total {m['total_ms']:g} ms · "
            f"{m['response_bytes']:,} bytes[/dim]",
            soft_wrap=False,
        )
    colour = "green" if report.passed else "red"
    console.print(f"  [bold {colour}]score {graded.score:g}/{graded.max_score:g}[/]")
    if report.passed:
        compare = " Compare with solutions/ and its NOTES.md." if catalog.SOLUTIONS_DIR.is_dir() else ""
        console.print(f"[green bold]All checks pass.[/green bold]{compare}")
    elif report.error:
        console.print(f"[dim]Fix that first, then `kata check {report.exercise[:2]}` again.[/dim]")
    else:
        console.print(
            f"[dim]Stuck? `kata hint {report.exercise[:2]}` · see where time goes: "
            f"`kata profile {report.exercise[:2]}`[/dim]"
        )


@app.command()
def hint(exercise_key: Annotated[str, typer.Argument(metavar="NN", help="01, 1 or the slug")]) -> None:
    """Show the next hint for an exercise (one more each time)."""
    try:
        exercise = catalog.find(exercise_key)
        number, total, text = state.next_hint(exercise)
    except KataError as error:
        raise _fail(str(error)) from None
    console.print(f"[bold]{exercise.name}[/bold] hint {number} of {total}")
    console.print(Markdown(text), soft_wrap=False)
    if number == total:
        console.print("[dim]That was the last hint.[/dim]")


@app.command()
def profile(
    exercise_key: Annotated[str, typer.Argument(metavar="NN", help="01, 1 or the slug")],
    path: PathOption = Path("exercises"),
    scale: Annotated[str | None, typer.Option(help="Data scale: 5x4, 10x8, 20x10 or 50x20.")] = None,
    as_json: JsonOption = False,
    svg: Annotated[Path | None, typer.Option(help="Also save the picture as an SVG file.")] = None,
    fail: Annotated[
        list[str] | None, typer.Option(help="Make this service answer 500 (analytics, weather, billing).")
    ] = None,
    hang: Annotated[list[str] | None, typer.Option(help="Make this service never answer.")] = None,
    cold: Annotated[bool, typer.Option(help="Measure the first request, without the exercise's warm-up.")] = False,
    time_limit: TimeLimitOption = DEFAULT_WALL_SECONDS,
) -> None:
    """Measure one request: queries by fingerprint (with plans), time split, and a waterfall."""
    from harness.frontends.profiling import profile as run_profile
    from harness.world.seed import parse_scale
    from harness.world.services import Services

    try:
        exercise = catalog.find(exercise_key)
        if scale is not None:
            parse_scale(scale)
        _work_file(exercise, path)
        both = set(fail or []) & set(hang or [])
        if both:
            raise KataError(f"a service either fails or hangs, not both: {', '.join(sorted(both))}")
        faults = {name: "fail" for name in fail or []} | {name: "hang" for name in hang or []}
        known = [service.name for service in Services(0).all]
        for name in faults:
            if name not in known:
                raise KataError(f"there is no service {name!r}; the services are {', '.join(known)}")
        with _stdout_to_stderr(as_json), _stopped_after(time_limit):
            result = run_profile(exercise, exercise.app_file(path), scale, faults=faults, cold=cold)
    except SubmissionError as error:  # the student's file, not the command, is wrong
        errors.print(f"[red]error:[/red] {error}")
        raise typer.Exit(1) from None
    except (KataError, ValueError) as error:
        raise _fail(str(error)) from None
    if as_json:
        print(json.dumps(result.to_dict(), indent=2))
        return
    out = Console(record=svg is not None, highlight=False)
    _print_profile(out, result)
    if svg is not None:
        out.save_svg(str(svg), title=f"kata profile {exercise.number}")
        console.print(f"[dim]saved {svg}[/dim]")


def _plan_step(step: str) -> str:
    """SCAN (every row) in red, SEARCH (an index) in green."""
    return f"[red]{step}[/red]" if step.startswith("SCAN") else f"[green]{step}[/green]"


def _print_profile(out: Console, result) -> None:  # type: ignore[no-untyped-def]
    m = result.metrics
    status = result.status if result.status is not None else "[red]no response[/red]"
    broken = [f"[red]{name} {fault}s[/red]" for name, fault in (result.faults or {}).items()]
    faults = "  " + ", ".join(broken) if broken else ""
    out.print(
        f"[bold]{result.exercise.name}[/bold]  {result.method} {result.path} → {status}  "
        f"scale {result.scale}{faults}  [dim]{result.app_file}[/dim]"
    )
    if result.warm_up:
        out.print(f"[dim]measured after {result.warm_up} identical request(s) (warm); --cold for the first[/dim]")
    groups = m.fingerprints()
    with_plans = any("plan" in group for group in groups)
    table = Table(title="Queries by fingerprint", title_justify="left")
    table.add_column("count", justify="right")
    table.add_column("rows", justify="right")
    table.add_column("query")
    table.add_column("call site")
    if with_plans:
        table.add_column("plan")
    for group in groups:
        style = "red" if group["count"] > 1 else ""
        count = f"[{style}]{group['count']}[/]" if style else str(group["count"])
        row = [count, str(group["rows"]), group["sql"], group["call_site"]]
        if with_plans:
            row.append("\n".join(_plan_step(step) for step in group.get("plan", [])))
        table.add_row(*row)
    out.print(table)
    cache = f" · cache [yellow]{m.cache_ms:,g} ms[/] ({len(m.cache_ops)} ops)" if m.cache_ops else ""
    out.print(
        f"[bold]{n_queries(len(m.queries))}[/bold] ({m.rows_read:,} rows read) · db [cyan]{m.db_ms:,g} ms[/]{cache}"
        " · external "
        f"[magenta]{m.external_ms:,g} ms[/] · transfer [green]{m.transfer_ms:,g} ms[/] "
        f"({m.response_bytes:,} bytes) · total [bold]{m.total_ms:,g} ms[/bold] (modeled)"
    )
    baseline = result.baseline()
    if baseline and not result.faults:
        out.print(
            f"[dim]before (the pristine starter, recorded in exercise.toml): {n_queries(baseline.get('queries', 0))} · "
            f"db {baseline.get('db_ms', 0):,g} ms · total {baseline.get('total_ms', 0):,g} ms[/dim]"
        )
    if result.hung:
        out.print(f"[red]{result.hung}: a call without a timeout waits forever[/red]")
    if m.error:
        out.print(f"[red]the app raised {m.error}[/red]")
    out.print(waterfall.render(m, out.width))


@app.command()
def serve(
    exercise_key: Annotated[str, typer.Argument(metavar="NN", help="01, 1 or the slug")],
    path: PathOption = Path("exercises"),
    scale: Annotated[str | None, typer.Option(help="Data scale: 5x4, 10x8, 20x10 or 50x20.")] = None,
    host: str = "127.0.0.1",
    port: int = 8000,
) -> None:
    """Run the app with uvicorn; latencies are real, so curl and browsers feel them."""
    from harness.engine.checks import profile_request, profile_scale
    from harness.frontends.serving import serve as run_server

    try:
        exercise = catalog.find(exercise_key)
        _work_file(exercise, path)
        app_file = exercise.app_file(path)
        scale = scale or profile_scale(exercise)
        _, example, _ = profile_request(exercise)

        def announce() -> None:
            console.print(
                f"[bold]{exercise.name}[/bold] listening on http://{host}:{port}{example}  "
                f"(scale {scale}; Ctrl+C stops)"
            )

        asyncio.run(run_server(app_file, scale, host, port, console, exercise.spec.world, announce))
    except SubmissionError as error:
        errors.print(f"[red]error:[/red] {error}")
        raise typer.Exit(1) from None
    except (KataError, ValueError) as error:
        raise _fail(str(error)) from None
    except KeyboardInterrupt:  # a second Ctrl+C while shutting down
        pass
    console.print("[dim]stopped[/dim]")


@app.command()
def load(
    exercise_key: Annotated[str, typer.Argument(metavar="NN", help="01, 1 or the slug")],
    path: PathOption = Path("exercises"),
    users: Annotated[int | None, typer.Option(min=1, help="Users (closed model; default: the exercise's).")] = None,
    spawn_rate: Annotated[float | None, typer.Option(min=0.001, help="Users started per second.")] = None,
    duration: Annotated[str | None, typer.Option(help="Modeled run time: 60s, 2m, 1m30s.")] = None,
    rate: Annotated[
        float | None, typer.Option(min=0.001, help="Open model: users arriving per second, whatever the app does.")
    ] = None,
    scale: Annotated[str | None, typer.Option(help="Data scale: 5x4, 10x8, 20x10 or 50x20.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the users' random choices (tasks, think times).")] = 1,
    locustfile: Annotated[
        Path | None, typer.Option(help="Run this locustfile instead of the exercise's (in a process of its own).")
    ] = None,
    as_json: JsonOption = False,
    csv_prefix: Annotated[
        str | None, typer.Option("--csv", metavar="PREFIX", help="Write Locust's three CSV files.")
    ] = None,
    html: Annotated[Path | None, typer.Option(help="Write a page with latency, histogram and failure charts.")] = None,
    locust: Annotated[
        bool, typer.Option("--locust", help="Also run real Locust against `kata serve NN` (real time), side by side.")
    ] = False,
    locust_workers: Annotated[
        int, typer.Option(min=0, help="With --locust: Locust's distributed mode, one master and N workers.")
    ] = 0,
    time_limit: TimeLimitOption = 600.0,
) -> None:
    """Load test: the exercise's users against your app on the virtual clock (Locust's tables, exact percentiles)."""
    from dataclasses import replace

    from harness.frontends import load_report, loading
    from harness.world.loadstats import summary
    from harness.world.seed import parse_scale

    try:
        exercise = catalog.find(exercise_key)
        scale = scale or loading.default_scale(exercise)
        parse_scale(scale)
        _work_file(exercise, path)
        options = loading.default_options(exercise)
        options = replace(
            options,
            users=users or options.users,
            spawn_rate=spawn_rate or options.spawn_rate,
            duration=loading.parse_duration(duration) if duration else options.duration,
            rate=rate,
            seed=seed,
        )
        scenario, trusted = loading.scenario_file(exercise, path, locustfile)
        with _stdout_to_stderr(as_json), _stopped_after(time_limit):
            if as_json:
                run = loading.run(exercise, exercise.app_file(path), options, scale, scenario, trusted)
            else:
                with loading.LiveProgress(console, options) as progress:
                    run = loading.run(exercise, exercise.app_file(path), options, scale, scenario, trusted, progress)
        real = None
        if locust or locust_workers:
            from harness.frontends import locust_real

            with locust_real.served(exercise, path, scale) as server:
                if not as_json:
                    console.print(
                        f"[dim]real Locust against {server.url} for {options.duration:g} s of real time...[/dim]"
                    )
                real = locust_real.run_locust(
                    scenario, server.url, options.users, options.spawn_rate, options.duration, locust_workers
                )
    except SubmissionError as error:
        errors.print(f"[red]error:[/red] {error}")
        raise typer.Exit(1) from None
    except (KataError, ValueError) as error:
        raise _fail(str(error)) from None
    written = []
    if csv_prefix:
        written += load_report.write_csv(run, csv_prefix)
    if html is not None:
        written.append(load_report.write_html(run, html, f"kata load {exercise.number}: {exercise.title}"))
    if as_json:
        data = summary(run, exercise.name)
        if real is not None:
            data["locust"] = load_report.locust_json(real)
        print(json.dumps(data, indent=2))
        return
    _print_load(run, exercise, scenario)
    if real is not None:
        for line in load_report.side_by_side(run, real):
            console.print(escape(line))
    for file in written:
        console.print(f"[dim]wrote {file}[/dim]")


def _print_load(run, exercise: Exercise, scenario: Path) -> None:  # type: ignore[no-untyped-def]
    from harness.frontends import load_report

    options = run.options
    model = (
        f"{options.users} users ({options.spawn_rate:g}/s)"
        if options.rate is None
        else f"open model, {options.rate:g} users/s"
    )
    console.print(
        f"[bold]{exercise.name}[/bold] · {scenario.name} · {model} · {options.duration:g} modeled s "
        f"· {len(run.samples)} requests"
    )
    for table in (
        load_report.stats_table(run),
        load_report.percentiles_table(run),
        load_report.failures_table(run),
        load_report.exceptions_table(run),
    ):
        if table:
            console.print(escape("\n".join(table)))
            console.print()


@app.command()
def report(
    exercise_key: Annotated[str, typer.Argument(metavar="NN", help="01, 1 or the slug")],
    path: PathOption = Path("exercises"),
    users: Annotated[int | None, typer.Option(min=1, help="Users (default: the exercise's).")] = None,
    duration: Annotated[str | None, typer.Option(help="Modeled run time of each run: 60s, 2m.")] = None,
    markdown_file: Annotated[Path | None, typer.Option("--markdown", help="Also write the cards as markdown.")] = None,
    html: Annotated[Path | None, typer.Option(help="Also write the cards as an HTML page.")] = None,
    time_limit: TimeLimitOption = 600.0,
) -> None:
    """Optimization cards: the starter and your app under the same load, what changed and what it bought."""
    from dataclasses import replace

    from harness.engine.cards import markdown
    from harness.frontends import loading, report_cards

    try:
        exercise = catalog.find(exercise_key)
        _work_file(exercise, path)
        if exercise.work_file != "app.py":
            raise KataError(f"exercise {exercise.number}'s work is {exercise.work_file}, not an app: use kata load")
        options = loading.default_options(exercise)
        options = replace(
            options,
            users=users or options.users,
            duration=loading.parse_duration(duration) if duration else options.duration,
        )
        with _stopped_after(time_limit):
            with console.status("running the starter and your app under the same load..."):
                comparison, found = report_cards.compare(
                    exercise, exercise.app_file(path), options, loading.default_scale(exercise)
                )
    except SubmissionError as error:
        errors.print(f"[red]error:[/red] {error}")
        raise typer.Exit(1) from None
    except (KataError, ValueError) as error:
        raise _fail(str(error)) from None
    title = f"Optimization cards: {exercise.name}"
    text = markdown(comparison, found, title)
    console.print(Markdown(text))
    if markdown_file is not None:
        markdown_file.write_text(text)
        console.print(f"[dim]wrote {markdown_file}[/dim]")
    if html is not None:
        html.write_text(report_cards.html(comparison, found, title))
        console.print(f"[dim]wrote {html}[/dim]")


SeedOption = Annotated[
    int | None,
    typer.Option("--hidden-seed", help="Seed of the hidden correctness data (default: KATA_HIDDEN_SEED or 2026)."),
]
ExerciseOption = Annotated[
    list[str] | None, typer.Option("--exercise", "-e", help="Only these exercises (repeatable).")
]
MemoryOption = Annotated[int, typer.Option(help="Memory limit of a grading process, in MB (0: none).")]
JobsOption = Annotated[int, typer.Option(min=1, help="Exercises graded at once (1 suits a 1-vCPU autograder).")]


def _seed(hidden_seed: int | None) -> int:
    return hidden_seed if hidden_seed is not None else checks.hidden_seed_from_env()


def _selected(keys: list[str] | None) -> list[Exercise]:
    return [catalog.find(k) for k in keys] if keys else list(catalog.exercises())


def _limits(time_limit: float, memory_mb: int) -> Limits:
    return Limits(wall_seconds=time_limit, memory_mb=memory_mb or None)


@contextlib.contextmanager
def _grading_progress(limits: Limits) -> Iterator[Callable[[int, int, str], None]]:
    """A progress bar on stderr (grading processes done of all, and the last one); yields its ``on_done``."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from harness.engine.isolation import privilege_note

    note = privilege_note(limits)
    if note:
        errors.print(f"[yellow]note:[/yellow] {note}", soft_wrap=False)
    columns = (
        TextColumn("grading"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("[dim]{task.fields[last]}[/dim]"),
    )
    with Progress(*columns, console=errors, transient=True) as progress:
        task = progress.add_task("grading", total=None, last="")
        yield lambda done, total, label: progress.update(task, completed=done, total=total, last=label)


@app.command()
def grade(
    submission: Annotated[Path, typer.Argument(help="A student's repository or exercises/ tree, or a class folder.")],
    out: Annotated[Path, typer.Option(help="Where results.json, junit.xml and report.json go.")] = Path("."),
    exercise: ExerciseOption = None,
    hidden_seed: SeedOption = None,
    time_limit: TimeLimitOption = DEFAULT_WALL_SECONDS,
    memory_mb: MemoryOption = 2048,
    jobs: JobsOption = 1,
    single: Annotated[
        bool, typer.Option("--single", help="SUBMISSION is one student's upload, never a class (autograders).")
    ] = False,
    github_output: Annotated[
        Path | None,
        typer.Option(
            help="Also append each exercise's points for GitHub Classroom's reporter to this file ($GITHUB_OUTPUT)."
        ),
    ] = None,
) -> None:
    """Autograde a submission (results.json for Gradescope, junit.xml, report.json), or a class of them."""
    import time

    from harness.engine import results, submissions
    from harness.engine.submissions import Submission

    start = time.perf_counter()
    try:
        exercises = _selected(exercise)
        seed = _seed(hidden_seed)
        limits = _limits(time_limit, memory_mb)
        as_class = not single and submissions.is_class(submission)
        if as_class and github_output is not None:
            raise KataError("--github-output reports one student's points: grade the class without it")
        members = submissions.members(submission) if as_class else [Submission(submission.resolve().name, submission)]
        # Zero first: if anything below dies, the score on record is zero, not a stale file.
        zero = json.dumps(results.placeholder(exercises), indent=2)
        for folder in [out / m.name for m in members] if as_class else [out]:
            results.write_atomically(folder / "results.json", zero)
    except (KataError, OSError) as error:
        raise _fail(str(error)) from None
    from harness.engine.autograde import grade_many

    with _grading_progress(limits) as on_done:
        graded = grade_many(members, exercises, seed, limits, jobs, on_done=on_done)
    seconds = time.perf_counter() - start
    try:
        if as_class:
            results.write_class(out, graded, seconds, seed)
        else:
            results.write_results(out, graded[0], seconds)
        if github_output is not None:
            from harness.frontends.classroom import write_outputs

            write_outputs(github_output, graded[0].graded)
    except OSError as error:
        raise _fail(f"could not write the results: {error}") from None
    if as_class:
        _print_class(graded, exercises)
        console.print(
            f"[dim]graded {len(graded)} submissions in {seconds:.0f} s; wrote a folder per submission, "
            f"{out / results.CLASS_FILE} and {out / results.SUMMARY_FILE}. "
            f"Next: kata compare {out} --html report.html[/dim]",
            soft_wrap=False,
        )
        return
    _print_grades(graded[0])
    console.print(f"[dim]wrote {out / 'results.json'}, {out / 'junit.xml'} and {out / results.REPORT_FILE}[/dim]")
    if not submission.is_dir():  # a mistyped path is the caller's error; the zero on record says why
        raise _fail(str(graded[0].reason))


def _print_grades(result) -> None:  # type: ignore[no-untyped-def]
    if result.reason:
        console.print(f"[red]not graded:[/red] {result.reason}")
    table = Table(title_justify="left")
    for column in ("exercise", "score", "checks", "first failure"):
        table.add_column(column)
    for g in result.graded:
        marks = " ".join("[green]✓[/]" if r.passed else "[red]✗[/]" for r in g.report.checks)
        failure = next((r for r in g.report.checks if not r.passed), None)
        reason = g.report.error or (f"{failure.name}: {failure.message}" if failure else "")
        table.add_row(g.exercise.name, f"{g.score:g}/{g.max_score:g}", marks, reason)
    console.print(table)
    console.print(f"[bold]score {result.score:g} / {result.max_score:g}[/bold]")


def _print_class(graded, exercises) -> None:  # type: ignore[no-untyped-def]
    from harness.frontends import compare as comparing

    rows = comparing.table(graded, exercises)
    console.print(comparing.terminal_table(rows, exercises, console.width))
    if len(rows) > 1:
        console.print(comparing.class_summary(rows, exercises))
        console.print("[bold]Total scores[/bold]")
        for line in comparing.histogram_lines(rows, width=max(10, min(40, console.width - 20))):
            console.print(line, highlight=False)
    unreadable = [r for r in graded if r.reason]
    for r in unreadable:
        console.print(f"[red]{r.name}[/red]: not graded: {r.reason}", soft_wrap=False)


@app.command()
def compare(
    paths: Annotated[
        list[Path], typer.Argument(help="Results folders of kata grade, submissions, or folders of submissions.")
    ],
    html: Annotated[Path | None, typer.Option(help="Write a self-contained HTML report with charts.")] = None,
    csv_file: Annotated[Path | None, typer.Option("--csv", help="Write one row per submission and exercise.")] = None,
    diff: Annotated[bool, typer.Option(help="Show each submission's work file diff against the starter.")] = False,
    exercise: ExerciseOption = None,
    hidden_seed: SeedOption = None,
    time_limit: TimeLimitOption = DEFAULT_WALL_SECONDS,
    memory_mb: MemoryOption = 2048,
    jobs: JobsOption = 1,
) -> None:
    """Compare submissions side by side: points, queries, modeled time, bytes, improvement, pass rates."""
    from harness.engine import results
    from harness.frontends import compare as comparing
    from harness.frontends import report_html

    try:
        exercises = _selected(exercise)
        limits = _limits(time_limit, memory_mb)
        with _grading_progress(limits) as on_done:
            gathered = comparing.gather(paths, exercises, _seed(hidden_seed), limits, jobs, on_done=on_done)
    except KataError as error:
        raise _fail(str(error)) from None
    rows = comparing.table(gathered, exercises)
    _print_class(gathered, exercises)
    try:
        if diff:
            for result in gathered:
                for e in exercises:
                    text = comparing.diff_against_starter(result.tree, e, result.name)
                    console.print(text or f"{result.name}/{e.name}: unchanged", markup=False, highlight=False)
        if csv_file is not None:
            results.write_atomically(csv_file, comparing.to_csv(rows))
            console.print(f"[dim]wrote {csv_file}[/dim]")
        if html is not None:
            seeds = {r.hidden_seed for r in gathered if r.hidden_seed is not None}
            results.write_atomically(
                html, report_html.render(rows, exercises, seeds.pop() if len(seeds) == 1 else _seed(hidden_seed))
            )
            console.print(f"[dim]wrote {html}[/dim]")
    except KataError as error:
        raise _fail(str(error)) from None
    except OSError as error:
        raise _fail(f"could not write the report: {error}") from None


@app.command("student-template")
def student_template(
    out: Annotated[Path, typer.Argument(help="A new folder for the repository the course hands out.")],
    git: Annotated[bool, typer.Option(help="Make it a git repository with one commit.")] = True,
    replace: Annotated[bool, typer.Option(help="Write over a template this command made before.")] = False,
) -> None:
    """Write the repository a course hands out, from the last commit: no solutions, no kata tests, no hidden seed."""
    from harness.frontends import template

    try:
        written = template.write(out, git=git, replace=replace)
    except KataError as error:
        raise _fail(str(error)) from None
    console.print(
        f"wrote {len(written)} files to {out}: push it as the assignment's template repository "
        "(GitHub Classroom: .github/workflows/classroom.yml is in it; set KATA_REPOSITORY there).",
        soft_wrap=False,
    )


def main() -> None:
    try:
        app()
    except SubmissionError as error:  # pragma: no cover - commands catch it already
        errors.print(f"[red]error:[/red] {error}")
        sys.exit(2)
