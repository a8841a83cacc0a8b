"""A TCP proxy on loopback for fault tests: it can drop central's answer or call back mid-request."""

import socket
import threading


class Proxy:
    """Forwards to `upstream_port`; the first `cut_answers` connections lose central's answer.

    `on_request_forwarded(n)` is called once the n-th request's bytes have all reached
    central (judged by Content-Length), before any answer comes back.
    """

    def __init__(self, upstream_port, cut_answers=0, on_request_forwarded=None):
        self.upstream_port = upstream_port
        self.cut_answers = cut_answers
        self.on_request_forwarded = on_request_forwarded
        self.requests = 0
        self.cut = 0
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client):
        try:
            self._relay(client)
        except OSError:  # central is down or went away: the client just sees a dropped connection
            client.close()

    def _relay(self, client):
        with client, socket.create_connection(("127.0.0.1", self.upstream_port)) as upstream:
            while self._forward_request(client, upstream):
                self.requests += 1
                if self.on_request_forwarded:
                    self.on_request_forwarded(self.requests)
                answer = upstream.recv(65536)  # central has processed the request by now
                if not answer:
                    return
                if self.cut < self.cut_answers:
                    self.cut += 1
                    client.shutdown(socket.SHUT_RDWR)
                    return
                client.sendall(answer)
                upstream.settimeout(0.2)
                try:
                    while chunk := upstream.recv(65536):
                        client.sendall(chunk)
                except (TimeoutError, socket.timeout):
                    pass
                upstream.settimeout(None)

    @staticmethod
    def _forward_request(client, upstream) -> bool:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = client.recv(65536)
            if not chunk:
                return False
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(body) < length:
            chunk = client.recv(65536)
            if not chunk:
                return False
            body += chunk
        upstream.sendall(head + b"\r\n\r\n" + body)
        return True

    def close(self):
        self.server.close()


class AnswerRewriter:
    """An HTTP proxy on loopback in front of a real central: each request goes on unchanged, and
    `rewrite(request_body, status, headers, answer_body)` may change central's answer on its way back
    (returns ``(status, headers, body)``). For the kiosk's checks of a configuration answer."""

    def __init__(self, upstream_url, rewrite):
        import requests
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                sent = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                reply = requests.post(upstream_url + self.path, data=body, headers=sent, timeout=30)
                headers = {k: v for k, v in reply.headers.items()
                           if k.lower() not in ("content-length", "connection", "transfer-encoding")}
                status, headers, answer = proxy.rewrite(body, reply.status_code, headers, reply.content)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.rewrite = rewrite
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
