"""Sizes in words: the one style every size and memory figure on the models page is written in."""

from __future__ import annotations


def size_text(n: int | float) -> str:
    """Bytes as Windows Explorer and macOS Finder show them, in powers of 1000: "98 MB", "1.1 GB".

    Whole megabytes below a gigabyte, one decimal above: the same amount must not read "0.5 GB"
    in one line and "491 MB" in the next.
    """
    if n >= 999_500_000:  # rounded to whole MB it would read "1000 MB"
        return f"{n / 1e9:,.1f} GB"
    if n >= 999_500:
        return f"{n / 1e6:.0f} MB"
    if n >= 1000:
        return f"{n / 1e3:.0f} kB"
    return f"{int(n)} bytes"
