"""A batch read and checked before it is stored: decoded against the batch schema, each response's hashes
checked and its rows made (``sync.central.prepare``), in a worker process beside the server when `central run` serves.

This is the batch's work that needs no store (about half of central's work on a batch). While the
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

from kiosk import serving

from sync import schema as batch_schema

from .prepare import Prepared

log = logging.getLogger("central")


def read_and_check(body: bytes, max_batch: int, unit: str) -> tuple:
    """A batch's JSON bytes decoded, its responses' hashes checked and made ready to store for a kiosk of `unit`:
    ``(payload, prepare.Prepared)``; ``(None, None)`` when the body is not a valid batch of at most `max_batch`
    responses (the caller names its problems: ``sync.problems``)."""
    payload = batch_schema.decode_batch(body, max_batch)
    if payload is None:
        return None, None
    return payload, Prepared(payload, unit)


class InRequest:
    """``read_and_check`` in the request's own thread."""

    def submit(self, body: bytes, max_batch: int, unit: str) -> Future:
        future = Future()
        future.set_result(read_and_check(body, max_batch, unit))
        return future

    def close(self):
        pass


class InWorker:
    """``read_and_check`` in one worker process. Should the worker die, or not start, batches are read in the
    request meanwhile, and a new worker is started in the background (at most once a minute)."""

    RETRY_SECONDS = 60

    def __init__(self):
        self._lock = threading.Lock()
        self._pool, self._starting, self._next_start = None, True, 0.0
        self._start()  # the first one before the first batch comes

    def submit(self, body: bytes, max_batch: int, unit: str) -> Future:
        result = Future()
        with self._lock:
            pool = self._pool
            restart = pool is None and not self._starting and time.monotonic() >= self._next_start
            self._starting = self._starting or restart
        if restart:
            threading.Thread(target=self._start, daemon=True).start()
        if pool is None:
            _settle(result, body, max_batch, unit)
            return result

        def done(finished):
            try:
                result.set_result(finished.result())
            except BrokenProcessPool:
                self._lost(pool)
                _settle(result, body, max_batch, unit)
            except BaseException as error:  # a fault of the check itself: raised in the request, as there
                result.set_exception(error)

        try:
            pool.submit(read_and_check, body, max_batch, unit).add_done_callback(done)
        except RuntimeError:  # the pool broke (BrokenProcessPool) or was shut down
            self._lost(pool)
            _settle(result, body, max_batch, unit)
        return result

    def _start(self):
        """Start a worker (``self._starting`` is set); on failure, batches stay in the request a while."""
        pool = None
        try:
            pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                       initializer=_worker_ready, initargs=(os.getpid(),))
            pool.submit(int).result()  # started, its modules imported, before it takes a batch
        except Exception:
            log.exception("cannot start the batch-checking worker; batches are read in the request")
            if pool:
                pool.shutdown(wait=False, cancel_futures=True)
            with self._lock:
                self._starting, self._next_start = False, time.monotonic() + self.RETRY_SECONDS
            return
        with self._lock:
            self._pool, self._starting = pool, False

    def _lost(self, pool):
        with self._lock:
            lost = self._pool is pool
            if lost:
                self._pool, self._starting = None, True
        pool.shutdown(wait=False, cancel_futures=True)
        if lost:
            log.warning("the batch-checking worker stopped; batches are read in the request until a new one starts")
            threading.Thread(target=self._start, daemon=True).start()

    def close(self):
        with self._lock:
            pool, self._pool = self._pool, None
        if pool:
            pool.shutdown(wait=True, cancel_futures=True)


def _settle(future: Future, body, max_batch, unit):
    try:
        future.set_result(read_and_check(body, max_batch, unit))
    except BaseException as error:
        future.set_exception(error)


def _worker_ready(server_pid: int):
    """In the worker, once: its modules out of the collector's sight (never garbage) and the collector run less
    often (see kiosk.serving), and a watch that ends the worker when the server is gone (killed, it cannot say so)."""
    gc.freeze()
    gc.set_threshold(*serving.GC_THRESHOLDS)
    threading.Thread(target=_end_with, args=(server_pid,), daemon=True).start()


def _end_with(server_pid: int):
    while os.getppid() == server_pid:
        time.sleep(1)
    os._exit(0)
