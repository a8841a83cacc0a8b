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
