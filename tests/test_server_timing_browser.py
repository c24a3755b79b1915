"""Exercise 06 in a real browser: Chromium reads the Server-Timing entries back.

`kata serve 06 --path solutions` serves the report page; headless Chromium
loads it, the page's script copies `performance.getEntriesByType('navigation')
[0].serverTiming` into the DOM, and `--dump-dom` hands it back.
"""

import html
import json
import re
import subprocess
import time

import httpx
import pytest
from conftest import ROOT, chromium, free_port, kata


@pytest.fixture
def served_solution():
    port = free_port()
    server = subprocess.Popen(
        kata("serve", "06", "--path", "solutions", "--port", str(port)),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/organizations/999", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and server.poll() is None, "kata serve 06 did not start"
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_chromium_sees_the_server_timing_entries(served_solution, tmp_path):
    dom = subprocess.run(
        [
            *chromium(tmp_path / "profile"),
            "--virtual-time-budget=10000",
            "--dump-dom",
            f"{served_solution}/organizations/1/report.html",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    found = re.search(r'<pre id="server-timing">(.*?)</pre>', dom, re.S)
    assert found, f"no server-timing block in the page: {dom[:300]!r}"
    entries = {entry["name"]: entry for entry in json.loads(html.unescape(found.group(1)))}
    assert {"db", "ext", "total"} <= set(entries)
    # Real time under `kata serve`: the page's queries (5 ms each) and its partner call (280 ms) really waited.
    assert entries["db"]["duration"] >= 5
    assert entries["ext"]["duration"] >= 280
    assert entries["total"]["duration"] >= entries["db"]["duration"] + entries["ext"]["duration"] - 1
