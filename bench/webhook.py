"""How fast does the Meta webhook acknowledge signed deliveries, and how fast does the worker screen them?

Starts gunicorn on a free port with a temporary SQLite database (migrated, with one nursery and its
Facebook Page channel, default screening rules) and a known META_APP_SECRET, unless ``--url`` points at a
running server (then pass its ``--secret`` and make sure ``--page-id`` names one of its channels). Posts N
distinct signed deliveries from C concurrent clients, each holding one comment change, and prints
deliveries per second with p50/p99 latency. Then (own server only) it processes every stored delivery as
the worker would, and prints the screening rate.

    .venv/bin/python bench/webhook.py [--deliveries 2000] [--concurrency 16] [--workers 4]
    .venv/bin/python bench/webhook.py --url http://127.0.0.1:8000/webhooks/meta/ --secret s --page-id 1000...
"""

import argparse
import hashlib
import hmac
import http.client
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
from urllib.parse import urlparse

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
from moderation.models import WebhookDelivery
from moderation.services import process_delivery
ids = list(WebhookDelivery.objects.filter(status="received").values_list("pk", flat=True))[:500]
started = time.perf_counter()
for pk in ids:
    process_delivery(delivery_id=pk)
took = time.perf_counter() - started
print(f"worker: {len(ids)} deliveries processed (stored, screened, queued) in {took:.1f} s = "
      f"{len(ids) / took:.0f} per second, {1000 * took / max(len(ids), 1):.1f} ms each")
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
           "META_APP_SECRET": secret, "META_VERIFY_TOKEN": "bench", "DJANGO_DEBUG": "true",
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


def post_all(url: str, secret: str, page_id: str, count: int, concurrency: int) -> tuple[list[float], dict]:
    parsed = urlparse(url)
    local = threading.local()
    statuses: dict[int, int] = {}
    lock = threading.Lock()

    def send(n: int) -> float:
        if not hasattr(local, "conn"):
            local.conn = http.client.HTTPConnection(parsed.hostname, parsed.port or 80, timeout=30)
        body = delivery(n, page_id)
        signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        started = time.perf_counter()
        local.conn.request("POST", parsed.path, body=body, headers={
            "Content-Type": "application/json", "X-Hub-Signature-256": signature})
        response = local.conn.getresponse()
        response.read()
        took = time.perf_counter() - started
        with lock:
            statuses[response.status] = statuses.get(response.status, 0) + 1
        return took

    with ThreadPoolExecutor(concurrency) as pool:
        latencies = list(pool.map(send, range(count)))
    return latencies, statuses


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

    server, env = None, None
    with tempfile.TemporaryDirectory(prefix="webhook-bench-") as tmp:
        url = args.url
        if url is None:
            server, url, env = start_server(Path(tmp), args.secret, args.page_id, args.workers, args.database_url)
        try:
            post_all(url, args.secret, args.page_id, min(50, args.deliveries), args.concurrency)  # warm up
            started = time.perf_counter()
            latencies, statuses = post_all(url, args.secret, args.page_id, args.deliveries, args.concurrency)
            elapsed = time.perf_counter() - started
        finally:
            if server is not None:
                server.terminate()
                server.wait(10)
        ms = sorted(1000 * t for t in latencies)
        print(f"webhook: {args.deliveries} signed deliveries, {args.concurrency} concurrent clients"
              + (f", gunicorn x{args.workers}, {'PostgreSQL' if args.database_url else 'SQLite'}" if server
                 else f" against {url}"))
        print(f"  {args.deliveries / elapsed:.0f} deliveries per second; latency p50 {statistics.median(ms):.1f} ms, "
              f"p99 {ms[int(0.99 * (len(ms) - 1))]:.1f} ms, max {ms[-1]:.1f} ms; statuses {statuses}")
        if env is not None:
            subprocess.run([PYTHON, "manage.py", "shell", "-c", PROCESS], cwd=ROOT, env=env, check=True)


if __name__ == "__main__":
    main()
