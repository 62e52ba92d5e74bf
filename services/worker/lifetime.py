"""No process of the worker outlives it.

A worker killed with SIGKILL (an out-of-memory kill, a lost machine) gets no chance to stop
its children. Left alone, a work horse would go on running its job, holding the job's run
lock, invisible to everyone; so every child asks the kernel for a signal when its parent dies
(Linux's PR_SET_PDEATHSIG). Elsewhere the call is a no-op, and the scheduler process still
stops through its pipe (services/worker/main.py).
"""

import ctypes
import ctypes.util
import os
import signal
import sys

# <linux/prctl.h>
_PR_SET_PDEATHSIG = 1

# Loaded once, before any fork: a child must not load libraries between fork() and its work.
_libc = (
    ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True) if sys.platform == "linux" else None
)

_installed = False
# The forking process's pid, recorded just before each fork (read by the child).
_parent_pid = 0


def die_with_parent(parent_pid: int) -> None:
    """Be killed when the process `parent_pid` ends, even by SIGKILL.

    The signal is tied to the parent as it is now: if it already died between our start and
    this call, we would wait for a parent that is gone, so we end ourselves at once.
    """
    if _libc is not None and _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"prctl(PR_SET_PDEATHSIG) failed: {os.strerror(errno)}")
    if os.getppid() != parent_pid:
        os._exit(1)


def forked_children_die_with_parent() -> None:
    """From now on every process this one forks (RQ's horses, RQ's scheduler) dies with it."""
    global _installed
    if not _installed:
        os.register_at_fork(before=_remember_parent, after_in_child=_child_dies_with_parent)
        _installed = True


def _remember_parent() -> None:
    global _parent_pid
    _parent_pid = os.getpid()


def _child_dies_with_parent() -> None:
    die_with_parent(_parent_pid)
