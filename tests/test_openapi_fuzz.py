"""Schemathesis against the OpenAPI document: no 5xx and no answer outside the schema.

Central is served on loopback behind a small WSGI layer that signs every
POST /api/v1/batches and /api/v1/kiosk-config as a registered kiosk would, so fuzzed
batches and configuration requests get past authentication and exercise validation,
ingest and the health store themselves.
"""

import io
import subprocess
import sys
import threading
import time
from pathlib import Path

from werkzeug.serving import make_server

from sync.central.store import accounts
from sync import wire

CHECKS = ["not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_schema_conformance"]


def signing_kiosk(app, kiosk_id, secret):
    """WSGI middleware: sign every batch upload and configuration request as kiosk `kiosk_id` would."""

    def wrapped(environ, start_response):
        if environ.get("PATH_INFO") in ("/api/v1/batches", "/api/v1/kiosk-config"):
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            environ["wsgi.input"] = io.BytesIO(body)
            timestamp = str(int(time.time()))
            environ["HTTP_X_KIOSK_ID"] = kiosk_id
            environ["HTTP_X_KIOSK_TIMESTAMP"] = timestamp
            environ["HTTP_X_KIOSK_SIGNATURE"] = wire.sign(secret, timestamp, body)
        return app(environ, start_response)

    return wrapped


def test_api_conforms_to_its_openapi_document(central_app, central_engine, tmp_path):
    secret = accounts.add_kiosk(central_engine, "fuzz-kiosk", "Unit")
    token = accounts.add_token(central_engine, "fuzz")
    server = make_server("127.0.0.1", 0, signing_kiosk(central_app, "fuzz-kiosk", secret), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        result = subprocess.run(
            [str(Path(sys.executable).parent / "schemathesis"), "run",
             f"http://127.0.0.1:{server.port}/api/v1/openapi.json",
             "--checks", ",".join(CHECKS), "--max-examples", "40", "--seed", "20261127",
             "-H", f"Authorization: Bearer {token}", "--no-color"],
            capture_output=True, text=True, timeout=300, cwd=tmp_path)
    finally:
        server.shutdown()
        thread.join()
    assert result.returncode == 0, result.stdout[-4000:]
    assert " passed" in result.stdout
