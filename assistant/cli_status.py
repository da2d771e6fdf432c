"""`assistant collections status`: a readable summary, or the same facts as JSON."""

from __future__ import annotations

import json
import os

from assistant.knowledge.library import plural


def status_notes(st) -> list[str]:
    """What the user should know about a collection's last run, and what to do about it."""
    notes = []
    again = f"run `assistant collections reindex {st.name}`"
    if st.interrupted:
        notes.append(f"a run is under way elsewhere, or was cut off when the app closed: {again} to finish it")
    elif st.unfinished:
        notes.append(f"the last run stopped before the end: {again} for the rest")
    if st.outdated:
        files = "1 file was" if st.outdated == 1 else f"{st.outdated} files were"
        notes.append(f"{files} read by an earlier version of the app: {again} to read them again "
                     "(quick where their text is unchanged)")
    return notes


def summary_line(st) -> str:
    return (f"{st.name}: {plural(st.indexed, 'file')} indexed, {len(st.skipped)} skipped, "
            f"{plural(st.chunks, 'chunk')}, last indexed {st.last_indexed_at or 'never'}")


def print_reasons(skipped: list[tuple[str, str]], partial: list[tuple[str, str]], show=str) -> None:
    """The files a run skipped and those it read only in part, each with why."""
    for heading, rows in (("skipped:", skipped), ("partly read:", partial)):
        if rows:
            print(heading)
            for path, reason in rows:
                print(f"  {show(path)}: {reason}")


def print_status(kb, name: str, *, as_json: bool) -> None:
    st = kb.collections.status(name)
    ignore = kb.collections.ignore_globs(name)
    if as_json:
        # "notes" says in words what the flags mean (interrupted: a run was cut off or is going on
        # elsewhere; unfinished: the last run was stopped), and what to do about each.
        print(json.dumps({**st.__dict__, "ignore": ignore, "notes": status_notes(st)}, indent=2,
                         ensure_ascii=False))
        return
    print(summary_line(st))
    print("folders and files:")
    for source in st.sources:
        print(f"  {source}" + ("" if os.path.lexists(source) else "  (not there)"))
    if not st.sources:
        print("  none: add some with `assistant index PATH --collection NAME`")
    print(f"left out (--ignore): {', '.join(ignore) if ignore else 'nothing'}")
    print_reasons(st.skipped, st.partial)
    for note in status_notes(st):
        print(f"note: {note}")
