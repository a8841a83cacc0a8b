"""Kiosk speed: tap-to-committed latency and the bytes each screen loads.

Starts a real `kiosk run` on a temporary database, then, over loopback:
- sends N full responses (7 answers + send) with one HTTP session, timing each
  answer tap (draft saved) and each send tap (response committed with
  synchronous=FULL before the reply), and prints p50 / p99;
- loads every screen with its stylesheet and script and prints the bytes.

    .venv/bin/python bench/kiosk_latency.py [--responses 1000] [--cpu]

With --cpu it also times, in the process and in CPU time (so other work on a
shared machine does not count), what the kiosk app spends on each tap, through
Flask's test client on a database in /dev/shm.
"""

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ANSWERS = {"overall": "4", "guidance": "5", "attitude": "2", "fairness": "3",
           "timeliness": "4", "extra_request": "no", "visits": "1"}
SCREENS = ["/", "/q/guidance", "/q/attitude", "/q/fairness", "/q/timeliness",
           "/q/extra_request", "/q/visits", "/feedback", "/thanks", "/staff/"]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def start_kiosk(folder):
    env = {**os.environ, "KIOSK_DB": str(Path(folder) / "kiosk.db"), "KIOSK_ID": "bench-kiosk"}
    subprocess.run([sys.executable, "-m", "kiosk", "init"], env=env, check=True, capture_output=True)
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "kiosk", "run", "--port", str(port)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            requests.get(url + "/healthz", timeout=1)
            return process, url
        except requests.ConnectionError:
            time.sleep(0.05)
    raise SystemExit("kiosk did not start")


def csrf_token(session, url):
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', session.get(url + "/").text)[1]


def survey_id(session, url):
    """A new survey's id, as the welcome screen's form carries it (fetched outside the timing)."""
    return re.search(r'name="survey" type="hidden" value="([^"]+)"', session.get(url + "/").text)[1]


def measure_latency(url, count):
    session = requests.Session()
    token = csrf_token(session, url)
    answer_ms, send_ms = [], []
    for _ in range(count):
        survey = survey_id(session, url)
        for key, value in ANSWERS.items():
            started = time.perf_counter()
            reply = session.post(f"{url}/q/{key}", allow_redirects=False,
                                 data={"csrf_token": token, "survey": survey, "answer": value})
            answer_ms.append((time.perf_counter() - started) * 1000)
            assert reply.status_code == 302, reply.status_code
        started = time.perf_counter()
        reply = session.post(url + "/feedback", allow_redirects=False,
                             data={"csrf_token": token, "survey": survey, "nav": "submit",
                                   "reasons": "impolite"})
        send_ms.append((time.perf_counter() - started) * 1000)
        assert reply.headers["Location"] == "/thanks", reply.status_code
    assert session.get(url + "/healthz").json()["responses"] == count  # each committed once
    return answer_ms, send_ms


def measure_cpu(count):
    """CPU milliseconds the app spends per answer tap and per send tap (no HTTP, no disk wait)."""
    from kiosk import config, create_app, store

    with tempfile.TemporaryDirectory(dir="/dev/shm") as folder:
        env = {"KIOSK_DB": str(Path(folder) / "kiosk.db"), "KIOSK_ID": "bench-kiosk"}
        store.init(Path(env["KIOSK_DB"]), env["KIOSK_ID"])
        client = create_app(config.load(env)).test_client()
        welcome = client.get("/").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', welcome)[1]
        answer_ms, send_ms = [], []
        for _ in range(count):
            survey = re.search(r'name="survey" type="hidden" value="([^"]+)"',
                               client.get("/").get_data(as_text=True))[1]
            for key, value in ANSWERS.items():
                started = time.thread_time()
                client.post(f"/q/{key}", data={"csrf_token": token, "survey": survey, "answer": value})
                answer_ms.append((time.thread_time() - started) * 1000)
            started = time.thread_time()
            reply = client.post("/feedback", data={"csrf_token": token, "survey": survey,
                                                   "nav": "submit", "reasons": "impolite"})
            send_ms.append((time.thread_time() - started) * 1000)
            assert reply.headers["Location"] == "/thanks", reply.status_code
    return answer_ms, send_ms


def print_table(title, rows):
    print(title)
    print("| tap | count | p50 ms | p99 ms |")
    print("|---|---|---|---|")
    for name, values in rows:
        print(f"| {name} | {len(values)} | {statistics.median(values):.1f} | {percentile(values, .99):.1f} |")


def screen_bytes(url):
    session = requests.Session()
    # A low first rating, so the feedback screen shows every reason.
    token = csrf_token(session, url)
    session.post(url + "/q/overall", data={"csrf_token": token, "answer": "1"})
    sizes = {}
    for path in SCREENS:
        if path == "/thanks":  # shown only once a response is committed
            session.post(url + "/feedback", data={"csrf_token": token, "nav": "submit"})
        page = session.get(url + path)
        assets = re.findall(r'(?:href|src)="(/static/[^"]+)"', page.text)
        sizes[path] = len(page.content) + sum(len(session.get(url + a).content) for a in assets)
    return sizes


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=1000)
    parser.add_argument("--cpu", action="store_true", help="also time the app's CPU per tap, in process")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        process, url = start_kiosk(folder)
        try:
            answer_ms, send_ms = measure_latency(url, args.responses)
            sizes = screen_bytes(url)
        finally:
            process.terminate()
            process.wait()
    print_table(f"Kiosk tap-to-committed latency over {args.responses} responses (loopback, synchronous=FULL):",
                (("answer (draft saved)", answer_ms), ("send (response committed)", send_ms)))
    if args.cpu:
        answer_cpu, send_cpu = measure_cpu(args.responses)
        print_table(f"\nThe app's CPU time per tap over {args.responses} responses (in process):",
                    (("answer", answer_cpu), ("send", send_cpu)))
    print("\nBytes each screen loads (HTML + CSS + JS, uncompressed; target < 50 KB):")
    print("| screen | bytes |")
    print("|---|---|")
    for path, size in sizes.items():
        print(f"| {path} | {size:,} |")
    print(f"| largest | {max(sizes.values()):,} |")


if __name__ == "__main__":
    main()
