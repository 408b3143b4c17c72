"""Start and stop the local AWS emulator (ministack) on a loopback port.

ministack saves its state only when it stops on SIGTERM, so stopping always
sends SIGTERM and waits for it to finish before anything harsher.
"""

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MINISTACK = REPO / ".venv-ministack" / "bin" / "ministack"


class EmulatorError(RuntimeError):
    pass


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Emulator:
    def __init__(self, *, port: int, state_dir: Path, executable: Path = MINISTACK) -> None:
        self.port = port
        self.state_dir = Path(state_dir)
        self.executable = Path(executable)
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, stdout=subprocess.DEVNULL, timeout: float = 30.0) -> subprocess.Popen:
        if not self.executable.exists():
            raise EmulatorError(f"{self.executable} is missing: run `make setup` first.")
        if not port_is_free(self.port):
            raise EmulatorError(f"Port {self.port} is already in use; the AWS emulator needs it.")
        tmp = self.state_dir / "tmp"
        for folder in (self.state_dir, self.state_dir / "s3", tmp):
            folder.mkdir(parents=True, exist_ok=True)
        env = os.environ | {
            "BIND_HOST": "127.0.0.1",
            "GATEWAY_PORT": str(self.port),
            "PERSIST_STATE": "1",
            "STATE_DIR": str(self.state_dir),
            "S3_PERSIST": "1",
            "S3_DATA_DIR": str(self.state_dir / "s3"),
            "TMPDIR": str(tmp),
        }
        self.process = subprocess.Popen(
            [str(self.executable)],
            env=env,
            stdout=stdout,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.wait_ready(timeout)
        return self.process

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise EmulatorError(f"The AWS emulator exited with status {self.process.returncode}.")
            try:
                with urllib.request.urlopen(f"{self.url}/_ministack/health", timeout=1) as response:
                    services = json.load(response)["services"]
                if all(services.get(name) == "available" for name in ("dynamodb", "sqs", "s3")):
                    return
            except (urllib.error.URLError, OSError, ValueError, KeyError):
                pass
            time.sleep(0.1)
        raise EmulatorError(f"The AWS emulator did not answer on {self.url} within {timeout:.0f} s.")

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM (ministack saves its state then), and SIGKILL only if it hangs."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
