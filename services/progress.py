"""Progress bars for long commands, on stderr and only on a terminal (logs stay clean)."""

import sys

from tqdm import tqdm


def progress_bar(*, total: int, unit: str, desc: str) -> "tqdm[None]":
    return tqdm(total=total, unit=unit, desc=desc, file=sys.stderr, disable=None, unit_scale=True)
