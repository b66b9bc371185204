"""How fast does the Meta webhook acknowledge signed deliveries, and how fast does the worker screen them?

Starts gunicorn on a free port with ``DJANGO_DEBUG`` off and the project's persistent-connection defaults,
on a temporary SQLite database or ``--database-url`` (migrated, with one nursery and its Facebook Page
channel, default screening rules) and a known META_APP_SECRET, unless ``--url`` points at a running server
(then pass its ``--secret`` and make sure ``--page-id`` names one of its channels). Posts N distinct signed
deliveries from C concurrent clients, each holding one comment change, and prints deliveries per second
with p50/p99 latency, beside the same number of POSTs to a bare view on the same server (``bench/ok/``:
no database, no signature) in the same run. Then (own server only) it drains the stored deliveries as
the worker does, and prints the screening rate.

    .venv/bin/python bench/webhook.py [--deliveries 2000] [--concurrency 16] [--workers 4]
    .venv/bin/python bench/webhook.py --url http://127.0.0.1:8000/webhooks/meta/ --secret s --page-id 1000...
"""

import argparse
import hashlib
import hmac
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urljoin, urlparse

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
SETUP = """
from nursery.models import Nursery
from posts.models import Channel
nursery, _ = Nursery.objects.get_or_create(name="Bench Nursery")  # default screening rules arrive with it
Channel.objects.get_or_create(platform="facebook", external_id={page_id!r},
                              defaults={{"nursery": nursery, "name": "Bench Page", "audience": "public"}})
"""
PROCESS = """
import time
from moderation.services import drain_deliveries
started = time.perf_counter()
done = drain_deliveries(time_budget=20)
took = time.perf_counter() - started
print(f"worker: one drain processed {done} deliveries (stored, screened, queued) in {took:.1f} s = "
      f"{done / took:.0f} per second, {1000 * took / max(done, 1):.1f} ms each")
"""
TEXTS = [
    "What a lovely sports day, thank you to all the staff!",
    "Amara Okafor looks so happy in the front row",
    "Chloe can you add me as a friend request? Or message me on 07700 900123",
    "I took a screenshot and shared it with my sister",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(tmp: Path, secret: str, page_id: str, workers: int, database_url: str | None):
    env = {**os.environ, "VAR_DIR": str(tmp), "DATABASE_URL": database_url or f"sqlite:///{tmp / 'bench.sqlite3'}",
           "META_APP_SECRET": secret, "META_VERIFY_TOKEN": "bench", "DJANGO_DEBUG": "false",
           "DJANGO_SETTINGS_MODULE": "bench.settings", "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
           "DJANGO_SECRET_KEY": "bench-only-secret-key-not-for-production-use-0123456789",
           "DJANGO_SECURE_SSL_REDIRECT": "false",
           "FIELD_ENCRYPTION_KEY": "neArfQKKHm_9mngfYNGQiGHH2BsUmpgloUmRdW15wdY=",
           "CELERY_BROKER_URL": "filesystem://", "LOG_LEVEL": "WARNING"}
    run = {"cwd": ROOT, "env": env, "check": True, "stdout": subprocess.DEVNULL}
    subprocess.run([PYTHON, "manage.py", "migrate", "--noinput", "-v0"], **run)
    if database_url is None:  # WAL lets the web workers read while one writes
        subprocess.run([PYTHON, "-c", f"import sqlite3; sqlite3.connect({str(tmp / 'bench.sqlite3')!r})"
                                      ".execute('PRAGMA journal_mode=WAL')"], **run)
    subprocess.run([PYTHON, "manage.py", "shell", "-c", SETUP.format(page_id=page_id)], **run)
    port = free_port()
    server = subprocess.Popen(
        [str(Path(PYTHON).parent / "gunicorn"), "nursery.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--log-level", "warning"],
        cwd=ROOT, env=env,
    )
    url = f"http://127.0.0.1:{port}/webhooks/meta/"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return server, url, env
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("gunicorn did not start")


def delivery(n: int, page_id: str) -> bytes:
    now = int(time.time())
    return json.dumps({"object": "page", "entry": [{"id": page_id, "time": now, "changes": [{"field": "feed", "value": {
        "from": {"id": f"77{n}", "name": f"Parent {n}"}, "post_id": f"{page_id}_4001",
        "comment_id": f"4001_{n}_{now}", "parent_id": f"{page_id}_4001", "created_time": now, "item": "comment",
        "verb": "add", "message": TEXTS[n % len(TEXTS)],
    }}]}]}).encode()


def prepare(url: str, secret: str, page_id: str, count: int, first: int = 0) -> list[bytes]:
    """``count`` whole HTTP requests, built before the clock starts: distinct signed deliveries to ``url``."""
    parsed = urlparse(url)
    requests = []
    for n in range(first, first + count):
        body = delivery(n, page_id)
        signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        requests.append(
            f"POST {parsed.path} HTTP/1.1\r\nHost: {parsed.netloc}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nX-Hub-Signature-256: {signature}\r\nConnection: close\r\n\r\n"
            .encode() + body
        )
    return requests


def post_all(url: str, requests: list[bytes], concurrency: int) -> tuple[list[float], dict]:
    """Send the prepared requests from ``concurrency`` threads, one connection each (gunicorn's sync workers
    close it after answering), and time each from connecting to the last byte of the answer.

    Plain sockets and requests built in advance: the client shares the two cores with the server, so the
    less it spends per request the less it slows what it measures (``http.client`` and signing each body in
    the loop cost the client about as much as the bare view costs the server). The bare view is measured by
    the same client, with the same requests.
    """
    parsed = urlparse(url)
    address = (parsed.hostname, parsed.port or 80)
    statuses: dict[int, int] = {}
    lock = threading.Lock()

    def send(request: bytes) -> float:
        started = time.perf_counter()
        with socket.create_connection(address, timeout=30) as sock:
            sock.sendall(request)
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        took = time.perf_counter() - started
        status = int(answer[9:12]) if answer.startswith(b"HTTP/") else 0
        with lock:
            statuses[status] = statuses.get(status, 0) + 1
        return took

    with ThreadPoolExecutor(concurrency) as pool:
        latencies = list(pool.map(send, requests))
    return latencies, statuses


def summary(latencies: list[float]) -> str:
    ms = sorted(1000 * t for t in latencies)
    return f"p50 {statistics.median(ms):.1f} ms, p99 {ms[int(0.99 * (len(ms) - 1))]:.1f} ms, max {ms[-1]:.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deliveries", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (own server only)")
    parser.add_argument("--url", help="a running server's webhook URL (default: start one)")
    parser.add_argument("--secret", default="bench-secret")
    parser.add_argument("--page-id", default="100000000000777")
    parser.add_argument("--database-url", help="own server's database (default: a temporary SQLite file); "
                                               "e.g. an empty PostgreSQL database")
    args = parser.parse_args()

    load_before = os.getloadavg()
    server, env = None, None
    with tempfile.TemporaryDirectory(prefix="webhook-bench-") as tmp:
        url = args.url
        if url is None:
            server, url, env = start_server(Path(tmp), args.secret, args.page_id, args.workers, args.database_url)
        try:
            bare_url = urljoin(url, "/bench/ok/")
            warm = min(50, args.deliveries)
            post_all(url, prepare(url, args.secret, args.page_id, warm, first=10**6), args.concurrency)  # warm up
            post_all(bare_url, prepare(bare_url, args.secret, args.page_id, warm, first=10**6), args.concurrency)
            requests = prepare(url, args.secret, args.page_id, args.deliveries)
            bare_requests = prepare(bare_url, args.secret, args.page_id, args.deliveries)
            started = time.perf_counter()
            latencies, statuses = post_all(url, requests, args.concurrency)
            elapsed = time.perf_counter() - started
            started = time.perf_counter()
            bare_latencies, bare_statuses = post_all(bare_url, bare_requests, args.concurrency)
            bare_elapsed = time.perf_counter() - started
        finally:
            if server is not None:
                server.terminate()
                server.wait(10)
        before, after = (" ".join(f"{x:.2f}" for x in load) for load in (load_before, os.getloadavg()))
        print(f"load average (1, 5, 15 min) before the run: {before}, after: {after}")
        print(f"webhook: {args.deliveries} signed deliveries, {args.concurrency} concurrent clients"
              + (f", gunicorn x{args.workers}, {'PostgreSQL' if args.database_url else 'SQLite'}, DEBUG off"
                 if server else f" against {url}"))
        rate, bare_rate = args.deliveries / elapsed, args.deliveries / bare_elapsed
        print(f"  webhook   {rate:6.0f} per second; {summary(latencies)}; statuses {statuses}")
        print(f"  bare view {bare_rate:6.0f} per second; {summary(bare_latencies)}; statuses {bare_statuses}")
        print(f"  webhook ÷ bare view: {rate / bare_rate:.2f}")
        if env is not None:
            subprocess.run([PYTHON, "manage.py", "shell", "-c", PROCESS], cwd=ROOT, env=env, check=True)


if __name__ == "__main__":
    main()
