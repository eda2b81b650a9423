"""moto in server mode: a real HTTP server speaking the S3 API, standing in for MinIO."""

from __future__ import annotations

from data_engineering.embedded.process import LOOPBACK, free_port, wait_for_port

ACCESS_KEY = "lascopf-test"
SECRET_KEY = "lascopf-test-secret"  # moto accepts any credentials; these never leave loopback


class MotoS3Server:
    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self._server = None

    @property
    def endpoint(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    def start(self, timeout_s: float = 30) -> MotoS3Server:
        from moto.server import ThreadedMotoServer

        self._server = ThreadedMotoServer(ip_address=LOOPBACK, port=self.port, verbose=False)
        self._server.start()
        wait_for_port(self.port, timeout_s)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
