"""``stretchcast serve`` under load: many clients at once on loopback, latency and errors.

A household's phones and a page full of requests arrive together: ``--clients`` threads each send
requests one after another, each on a new connection (the worst case for the listen backlog),
until ``--requests`` have been sent in all; the mix is what a phone asks for (the page, the feed, a
stylesheet, a chapters file, a cover, and the first 64 kB of a track as a player's Range request).
The server runs in a child process of its own, so the clients' threads do not share its
interpreter lock. It stops by itself: a fixed number of requests, each with a 30 s timeout.

Run alone (``python benchmarks/load.py``) or from ``bench.py``; ``--backlog 5`` measures
http.server's default listen backlog for comparison.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

TINY = "title: Tiny\nexercises:\n  - id: knee-sways\n    reps: 4\n"


def _library(folder: Path) -> list[str]:
    """Build a short routine into ``folder`` (fake voice) and return the paths a phone would request."""
    from stretchcast.content import load_collection, load_routine
    from stretchcast.pipeline import BuildOptions, build
    from stretchcast.testing import FakeVoice

    routine_file = folder.parent / "tiny.yaml"
    routine_file.write_text(TINY, encoding="utf-8")
    routine = load_routine(load_collection(), str(routine_file))
    build(routine, voice=FakeVoice(), options=BuildOptions(out_dir=folder))
    return ["/", "/feed.xml", "/static/app.css", "/chapters/tiny.json", "/art/tiny.png", "/tiny.mp3"]


def _serve_child(folder: str, backlog: int) -> None:
    """Child process: serve ``folder`` with the given backlog on a free port; print the port; run."""
    from stretchcast.serve.server import StretchcastServer, make_server

    StretchcastServer.request_queue_size = backlog
    server = make_server(Path(folder), port=0)
    print(server.server_address[1], flush=True)
    server.serve_forever()


def measure(*, clients: int, requests: int, backlog: int | None = None) -> dict[str, Any]:
    """Latencies (s) and errors of ``requests`` requests from ``clients`` concurrent clients."""
    from stretchcast.serve.server import LISTEN_BACKLOG

    chosen = LISTEN_BACKLOG if backlog is None else backlog
    with tempfile.TemporaryDirectory(prefix="stretchcast-load-") as tmp:
        folder = Path(tmp) / "audio"
        paths = _library(folder)
        child = subprocess.Popen(
            [sys.executable, __file__, "--serve-child", str(folder), str(chosen)],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert child.stdout is not None
            port = int(child.stdout.readline())
            result = _hammer(port, paths, clients=clients, requests=requests)
        finally:
            child.terminate()
            child.wait(timeout=10)
    return {**result, "clients": clients, "requests": requests, "backlog": chosen}


def _hammer(port: int, paths: list[str], *, clients: int, requests: int) -> dict[str, Any]:
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    sent = 0
    start_together = threading.Barrier(clients)

    def client() -> None:
        nonlocal sent
        start_together.wait()
        while True:
            with lock:
                if sent >= requests:
                    return
                n = sent
                sent += 1
            path = paths[n % len(paths)]
            headers = {"Range": "bytes=0-65535"} if path.endswith(".mp3") else {}
            began = time.perf_counter()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                conn.close()
                ok = response.status in (200, 206)
                problem = None if ok else f"{path}: {response.status}"
            except OSError as err:
                problem = f"{path}: {err}"
            took = time.perf_counter() - began
            with lock:
                latencies.append(took)
                if problem:
                    errors.append(problem)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - began
    ordered = sorted(latencies)
    quantiles = statistics.quantiles(ordered, n=100, method="inclusive")
    return {
        "p50_s": quantiles[49],
        "p95_s": quantiles[94],
        "p99_s": quantiles[98],
        "max_s": ordered[-1],
        "errors": len(errors),
        "first_errors": errors[:3],
        "wall_s": wall,
        "per_s": len(latencies) / wall,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python benchmarks/load.py [--clients N] [--requests N] [--backlog N]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--backlog", type=int, default=None, help="listen backlog (default: the server's)")
    parser.add_argument("--serve-child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_child:
        _serve_child(args.serve_child[0], int(args.serve_child[1]))
        return 0
    print(json.dumps(measure(clients=args.clients, requests=args.requests, backlog=args.backlog), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
