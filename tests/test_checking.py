"""A batch read and checked before it is stored (sync.central.checking): the same answer in the request and in a
real worker process, a worker that dies is replaced without losing the batch, and a worker never outlives its
server."""

import copy
import logging
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from helpers import commented_rows
from sync import schema, wire
from sync.central import checking

ALTERED = "its content does not match its hash (altered)"
UNIT = "Bộ phận Một cửa"


@pytest.fixture
def batches(tmp_path):
    """{name: JSON bytes}: a good batch, one with an altered answer and an altered comment, one that is no batch."""
    responses = commented_rows(tmp_path / "kiosk.db", 6)
    altered = copy.deepcopy(responses)
    altered[2]["answers"]["overall"] = 1  # edited after it was chained
    altered[4]["private"]["comment"] = "Rất tệ"
    return {"good": wire.encode(wire.batch("test-kiosk", responses)),
            "altered": wire.encode(wire.batch("test-kiosk", altered)),
            "no batch": b'{"kiosk_id": "test-kiosk", "responses": "none"}'}


@pytest.fixture
def worker():
    checker = checking.InWorker()
    yield checker
    checker.close()


def test_a_batch_is_decoded_by_the_schema_and_each_altered_response_named(batches):
    payload, prepared = checking.read_and_check(batches["good"], 1000, UNIT)
    assert payload == schema.decode_batch(batches["good"], 1000) and prepared.altered == {}
    payload, prepared = checking.read_and_check(batches["altered"], 1000, UNIT)
    assert payload["responses"][2]["answers"]["overall"] == 1
    assert prepared.altered == {2: ALTERED, 4: "its comment does not match the hash in the chain (altered)"}
    assert checking.read_and_check(batches["no batch"], 1000, UNIT) == (None, None)
    assert checking.read_and_check(batches["good"], 5, UNIT) == (None, None)  # more responses than central takes


def test_the_worker_answers_as_the_request_would(worker, batches):
    for body in batches.values():
        assert worker.submit(body, 1000, UNIT).result(timeout=30) == checking.InRequest().submit(
            body, 1000, UNIT).result()


def test_a_worker_that_dies_is_replaced_and_the_batch_is_still_read(worker, batches, caplog):
    first = worker._pool.submit(os.getpid).result(timeout=30)
    os.kill(first, signal.SIGKILL)
    time.sleep(0.5)
    with caplog.at_level(logging.WARNING, logger="central"):
        assert worker.submit(batches["altered"], 1000, UNIT).result(timeout=30) == checking.read_and_check(
            batches["altered"], 1000, UNIT)
    assert "the batch-checking worker stopped" in caplog.text
    assert worker.submit(batches["good"], 1000, UNIT).result(timeout=30)[1].altered == {}  # here, or a new worker
    for _ in range(300):  # started in the background, not in a request
        if worker._pool is not None:
            break
        time.sleep(0.1)
    assert worker._pool.submit(os.getpid).result(timeout=30) != first  # a new worker
    assert worker.submit(batches["altered"], 1000, UNIT).result(timeout=30) == checking.read_and_check(
        batches["altered"], 1000, UNIT)


def test_a_worker_that_cannot_start_leaves_batches_read_in_the_request(monkeypatch, batches, caplog):
    """The system refuses a new process (memory, process limits): batches are still answered, never a 5xx."""
    def refused(*args, **kwargs):
        raise OSError("Resource temporarily unavailable")

    monkeypatch.setattr(checking, "ProcessPoolExecutor", refused)
    with caplog.at_level(logging.ERROR, logger="central"):
        checker = checking.InWorker()
    try:
        assert "cannot start the batch-checking worker" in caplog.text
        for body in batches.values():
            assert checker.submit(body, 1000, UNIT).result(timeout=30) == checking.read_and_check(body, 1000, UNIT)
    finally:
        checker.close()


def test_a_worker_ends_with_its_server(tmp_path):
    """A server killed outright (it cannot shut its worker down) leaves no worker behind."""
    script = textwrap.dedent("""
        import os, signal
        from sync.central import checking
        if __name__ == "__main__":
            checker = checking.InWorker()
            print(checker._pool.submit(os.getpid).result(), flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
    """)
    (tmp_path / "server.py").write_text(script)
    server = subprocess.run([sys.executable, str(tmp_path / "server.py")], capture_output=True, text=True,
                            timeout=60, cwd=tmp_path, env={**os.environ, "PYTHONPATH": os.getcwd()})
    pid = int(server.stdout.split()[0])
    for _ in range(50):
        if not _alive(pid):
            break
        time.sleep(0.1)
    assert not _alive(pid)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[1].split()[0] != "Z"  # a zombie has ended
    except FileNotFoundError:
        return False
