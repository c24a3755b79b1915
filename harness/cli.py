"""The `kata` command: list, check, hint, profile, serve."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markdown import Markdown
from rich.table import Table

from harness import catalog, checks, state, waterfall
from harness.catalog import Exercise, KataError
from harness.loader import SubmissionError

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


def _fail(message: str) -> typer.Exit:
    errors.print(f"[red]error:[/red] {message}")
    return typer.Exit(2)


def _app_file(exercise: Exercise, path: Path) -> Path:
    app_file = exercise.app_file(path)
    if not app_file.is_file():
        raise KataError(f"there is no {exercise.name}/app.py under {catalog.resolve_target(path)}")
    return app_file


@app.command("list")
def list_exercises(path: PathOption = Path("exercises")) -> None:
    """The exercises and the state of your last check of each."""
    table = Table(title="FastAPI Performance Kata", title_justify="left")
    for column in ("#", "exercise", "lecture", "state"):
        table.add_column(column)
    colors = {"passed": "green", "failed": "red", "changed": "yellow", "not checked": "dim"}
    try:
        for exercise in catalog.exercises():
            status = state.check_status(exercise, exercise.app_file(path).resolve())
            table.add_row(
                exercise.number,
                f"{exercise.slug}\n[dim]{exercise.title}[/dim]",
                ", ".join(exercise.meta.get("lecture", [])),
                f"[{colors[status]}]{status}[/]",
            )
    except KataError as error:
        raise _fail(str(error)) from None
    console.print(table)
    console.print("[dim]Next: kata check NN · kata hint NN · kata profile NN · kata serve NN[/dim]")


@app.command()
def check(
    exercise_key: Annotated[str, typer.Argument(metavar="NN", help="01, 1 or the slug")],
    path: PathOption = Path("exercises"),
    as_json: JsonOption = False,
    seed: Annotated[int | None, typer.Option(help="Hidden seed for the correctness data.")] = None,
) -> None:
    """Grade one exercise: correctness first, then the measured budgets."""
    try:
        exercise = catalog.find(exercise_key)
        app_file = _app_file(exercise, path)
        report = checks.grade(exercise, catalog.resolve_target(path), hidden_seed=seed)
    except KataError as error:
        raise _fail(str(error)) from None
    state.record_check(exercise, app_file, report.passed)
    if as_json:
        print(report.to_json())
    else:
        _print_report(report, app_file)
    if report.error:
        errors.print(f"[red]error:[/red] {report.error}")
        raise typer.Exit(2)
    raise typer.Exit(0 if report.passed else 1)


def _print_report(report: checks.Report, app_file: Path) -> None:
    console.print(f"[bold]{report.exercise}[/bold]  [dim]{app_file}[/dim]")
    for result in report.checks:
        mark = "[green]✓ pass[/green]" if result.passed else "[red]✗ FAIL[/red]"
        console.print(f"  {mark}  [bold]{result.name}[/bold]: {result.message}")
    m = report.metrics
    if m:
        console.print(
            f"  [dim]measured: {m['queries']} queries · db {m['db_ms']:g} ms · external {m['external_ms']:g} ms · "
            f"transfer {m['transfer_ms']:g} ms · total {m['total_ms']:g} ms · {m['response_bytes']:,} bytes[/dim]"
        )
    if report.passed:
        console.print("[green bold]All checks pass.[/green bold] Compare with solutions/ and its NOTES.md.")
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
    console.print(Markdown(text))
    if number == total:
        console.print("[dim]That was the last hint.[/dim]")


@app.command()
def profile(
    exercise_key: Annotated[str, typer.Argument(metavar="NN", help="01, 1 or the slug")],
    path: PathOption = Path("exercises"),
    scale: Annotated[str | None, typer.Option(help="Data scale: 5x4, 10x8, 20x10 or 50x20.")] = None,
    as_json: JsonOption = False,
    svg: Annotated[Path | None, typer.Option(help="Also save the picture as an SVG file.")] = None,
) -> None:
    """Measure one request: queries by fingerprint, time split, and a waterfall."""
    from harness.profiling import profile as run_profile
    from harness.seed import parse_scale

    try:
        exercise = catalog.find(exercise_key)
        if scale is not None:
            parse_scale(scale)
        result = run_profile(exercise, _app_file(exercise, path), scale)
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


def _print_profile(out: Console, result) -> None:  # type: ignore[no-untyped-def]
    m = result.metrics
    out.print(
        f"[bold]{result.exercise.name}[/bold]  {result.method} {result.path} → {result.status}  "
        f"scale {result.scale}  [dim]{result.app_file}[/dim]"
    )
    table = Table(title="Queries by fingerprint", title_justify="left")
    table.add_column("count", justify="right")
    table.add_column("query")
    table.add_column("call site")
    for group in m.fingerprints():
        style = "red" if group["count"] > 1 else ""
        table.add_row(
            f"[{style}]{group['count']}[/]" if style else str(group["count"]),
            group["sql"],
            group["call_site"],
        )
    out.print(table)
    out.print(
        f"[bold]{len(m.queries)} queries[/bold] · db [cyan]{m.db_ms:,g} ms[/] · external "
        f"[magenta]{m.external_ms:,g} ms[/] · transfer [green]{m.transfer_ms:,g} ms[/] "
        f"({m.response_bytes:,} bytes) · total [bold]{m.total_ms:,g} ms[/bold] (modeled)"
    )
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
    from harness.checks import profile_request, profile_scale
    from harness.serving import serve as run_server

    try:
        exercise = catalog.find(exercise_key)
        app_file = _app_file(exercise, path)
        scale = scale or profile_scale(exercise)
        _, example, _ = profile_request(exercise)
        console.print(f"[bold]{exercise.name}[/bold] on http://{host}:{port}{example}  (scale {scale}; Ctrl+C stops)")
        asyncio.run(run_server(app_file, scale, host, port, console))
    except (KataError, ValueError) as error:
        raise _fail(str(error)) from None
    except KeyboardInterrupt:
        pass


def main() -> None:
    try:
        app()
    except SubmissionError as error:  # pragma: no cover - commands catch it already
        errors.print(f"[red]error:[/red] {error}")
        sys.exit(2)
