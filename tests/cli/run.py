"""`nextcall` run as a user runs it: a subprocess with its own environment."""

import fcntl
import os
import struct
import subprocess
import sys
import termios
import threading
from pathlib import Path

NEXTCALL = str(Path(sys.executable).parent / "nextcall")
ROOT = Path(__file__).resolve().parents[2]


def environment(**settings: str) -> dict[str, str]:
    """This process's environment without the test run's nextcall settings, plus `settings`."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("NEXTCALL_") and k != "PROMETHEUS_MULTIPROC_DIR"
    }
    return env | settings


def nextcall(
    *args: str, env: dict[str, str], cwd: Path, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [NEXTCALL, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


def on_a_terminal(
    *args: str, env: dict[str, str], cwd: Path, timeout: float = 120
) -> tuple[int, str, str]:
    """Exit code, stdout and what a terminal on stderr showed (progress bars draw only there)."""
    master, slave = os.openpty()
    # A terminal of 24 rows and 120 columns (a new pseudo-terminal has no size: no bar fits).
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))
    shown: list[bytes] = []

    def read() -> None:
        # Read as it comes: a terminal's buffer is small and a writer would block on it.
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the process and its terminal are gone
                return
            if not chunk:
                return
            shown.append(chunk)

    reader = threading.Thread(target=read, daemon=True)
    try:
        process = subprocess.Popen(
            [NEXTCALL, *args], env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=slave, text=True
        )
        os.close(slave)
        reader.start()
        stdout, _ = process.communicate(timeout=timeout)
        reader.join(timeout=10)
    finally:
        os.close(master)
    return process.returncode, stdout, b"".join(shown).decode(errors="replace")
