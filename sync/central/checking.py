"""A batch read and checked before it is stored: decoded against the batch schema and each response's hashes
checked, in a worker process beside the server when `central run` serves.

This is the batch's work that needs no store (about a third of central's work on a batch). While the
server stores one batch of a kiosk, the worker reads and checks the next one the kiosk already sent
(``sync.uploader.IN_FLIGHT``), on another CPU: Python runs one thread at a time in a process, so a
thread would not do. Without a worker (tests, ``create_app`` alone) the same function runs in the request.
"""

import gc
import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from kiosk import chain

from sync import schema as batch_schema

from .ingest import altered

log = logging.getLogger("central")


def read_and_check(body: bytes, max_batch: int) -> tuple:
    """A batch's JSON bytes decoded and its responses' hashes checked: ``(payload, {index: reason})``, the
    reason why response ``index`` does not match its own hashes (see ``ingest.altered``) for each one that
    does not; ``(None, {})`` when the body is not a valid batch of at most `max_batch` responses (the caller
    names its problems: ``sync.problems``)."""
    payload = batch_schema.decode_batch(body, max_batch)
    if payload is None:
        return None, {}
    return payload, {index: reason for index, response in enumerate(payload["responses"])
                     if (reason := altered(response, chain.chained(response)))}


class InRequest:
    """``read_and_check`` in the request's own thread."""

    def submit(self, body: bytes, max_batch: int) -> Future:
        future = Future()
        future.set_result(read_and_check(body, max_batch))
        return future

    def close(self):
        pass


class InWorker:
    """``read_and_check`` in one worker process, started at once; should the worker die, the batch is read
    in the request instead and a new worker is started for the next one."""

    def __init__(self):
        self._lock = threading.Lock()
        self._pool = _start()

    def submit(self, body: bytes, max_batch: int) -> Future:
        with self._lock:
            if self._pool is None:
                self._pool = _start()
            pool = self._pool
        result = Future()

        def done(finished):
            try:
                result.set_result(finished.result())
            except BrokenProcessPool:
                self._lost(pool)
                _settle(result, body, max_batch)
            except BaseException as error:  # a fault of the check itself: raised in the request, as there
                result.set_exception(error)

        try:
            pool.submit(read_and_check, body, max_batch).add_done_callback(done)
        except RuntimeError:  # the pool broke (BrokenProcessPool) or was shut down
            self._lost(pool)
            _settle(result, body, max_batch)
        return result

    def _lost(self, pool):
        with self._lock:
            if self._pool is pool:
                log.warning("the batch-checking worker stopped; batches are read in the request until a new one starts")
                self._pool = None
        pool.shutdown(wait=False, cancel_futures=True)

    def close(self):
        with self._lock:
            pool, self._pool = self._pool, None
        if pool:
            pool.shutdown(wait=True, cancel_futures=True)


def _start():
    pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_worker_ready, initargs=(os.getpid(),))
    pool.submit(int).result()  # started, its modules imported, before the first batch comes
    return pool


def _settle(future: Future, body, max_batch):
    try:
        future.set_result(read_and_check(body, max_batch))
    except BaseException as error:
        future.set_exception(error)


def _worker_ready(server_pid: int):
    """In the worker, once: its modules out of the collector's sight (never garbage: see kiosk.serving), and a
    watch that ends the worker when the server is gone (killed, it cannot say so)."""
    gc.freeze()
    threading.Thread(target=_end_with, args=(server_pid,), daemon=True).start()


def _end_with(server_pid: int):
    while os.getppid() == server_pid:
        time.sleep(1)
    os._exit(0)
