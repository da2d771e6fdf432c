"""The embedding model run by onnxruntime instead of torch.

The sentence-transformers folder is exported once (transformer, mean pooling and
normalisation in one graph) into the app's cache, optionally quantised to int8.
After that, encoding needs only onnxruntime and `tokenizers`: no torch import,
which is most of the 7 s a first search used to cost.

sentence-transformers' own ONNX backend needs `optimum`, whose releases pin an
older huggingface-hub than the one the downloads use, so the export is done here.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

from assistant.config import physical_cores
from assistant.errors import DiskFull, ModelUnavailable

log = logging.getLogger("assistant.knowledge")

EXPORT_VERSION = 3
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
# A folder of graphs exported ahead of time, laid out like the cache (<model>/v<N>/model.onnx).
# The desktop bundle ships one so it never needs torch to export; see prebuilt_folder().
PREBUILT_ENV = "ASSISTANT_ONNX_PREBUILT"


def prebuilt_folder() -> Path | None:
    """$ASSISTANT_ONNX_PREBUILT, else models/onnx inside a frozen bundle, else None."""
    folder = os.environ.get(PREBUILT_ENV)
    if folder:
        return Path(folder)
    if getattr(sys, "frozen", False) and hasattr(sys, "_MEIPASS"):
        return Path(sys._MEIPASS) / "models" / "onnx"
    return None


def _max_seq_length(folder: Path) -> int:
    config = folder / "sentence_bert_config.json"
    if config.is_file():
        return int(json.loads(config.read_text()).get("max_seq_length") or 256)
    return 256


def export_onnx(folder: Path, target: Path) -> Path:
    """Write `target` (model.onnx): token ids in, unit-length sentence vectors out."""
    import torch
    from transformers import AutoModel

    # Eager attention traces without shape-dependent branches (sdpa records them as constants).
    model = AutoModel.from_pretrained(str(folder), local_files_only=True, attn_implementation="eager").eval()

    class Sentence(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.inner(input_ids=input_ids, attention_mask=attention_mask,
                                token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2, dim=1)

    sample = torch.ones(2, 8, dtype=torch.long)
    axes = {name: {0: "batch", 1: "tokens"} for name in INPUTS}
    axes["embedding"] = {0: "batch"}
    target.parent.mkdir(parents=True, exist_ok=True)
    # Per process: two exports at once (the CLI and the window) must not write into one file.
    partial = target.with_suffix(f".{os.getpid()}.partial")
    with torch.no_grad():
        torch.onnx.export(Sentence(model), (sample, sample, torch.zeros_like(sample)), str(partial),
                          input_names=list(INPUTS), output_names=["embedding"], dynamic_axes=axes,
                          opset_version=17, dynamo=False)
    os.replace(partial, target)
    return target


def export_in_child(folder: Path, target: Path, cancelled: Callable[[], bool] | None = None) -> Path:
    """export_onnx in a child process: torch (seconds of imports that hold the GIL, and hundreds
    of MB) never enters the app, so a window indexing for the first time does not freeze. The
    export takes tens of seconds; `cancelled` (checked every 0.1 s) stops the child and raises
    InterruptedError, leaving no file behind (the child writes a .partial and renames it last)."""
    if getattr(sys, "frozen", False):  # a bundle has no python to run; it ships the graph instead
        return export_onnx(folder, target)
    import subprocess
    import tempfile

    with tempfile.TemporaryFile("w+") as errors:
        child = subprocess.Popen([sys.executable, "-m", "assistant.knowledge.onnx_encoder", str(folder), str(target)],
                                 stdout=subprocess.DEVNULL, stderr=errors, text=True)
        try:
            while True:
                try:
                    child.wait(0.1)
                    break
                except subprocess.TimeoutExpired:
                    if cancelled and cancelled():
                        raise InterruptedError("cancelled") from None
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
                for partial in target.parent.glob(f"{target.stem}.{child.pid}.partial"):
                    partial.unlink(missing_ok=True)
        errors.seek(0)
        stderr = errors.read()
    if child.returncode != 0 or not target.is_file():
        tail = (stderr.strip().splitlines()[-1:] or ["no output"])[0]
        if "No space left" in tail:
            raise DiskFull("The disk is full, so the embedding model could not be prepared.",
                           hint="Free some space and index again.")
        raise ModelUnavailable(f"The embedding model could not be prepared for the ONNX backend ({tail}).",
                               hint="Run `assistant setup --repair`, or choose the torch backend in the settings.")
    return target


def quantize_int8(source: Path, target: Path) -> Path:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    partial = target.with_suffix(f".{os.getpid()}.partial")
    # Per-channel scales: one scale per weight matrix lost 1.0 point of recall@3 on squad2-dev.
    quantize_dynamic(str(source), str(partial), weight_type=QuantType.QInt8, per_channel=True)
    os.replace(partial, target)
    return target


class OnnxEncoder:
    """Encodes like SentenceTransformer.encode(normalize_embeddings=True), through onnxruntime."""

    def __init__(self, folder: Path, cache: Path, quantized: bool = False):
        self.folder = Path(folder)
        self.cache = Path(cache)
        self.quantized = quantized
        self.max_seq_length = _max_seq_length(self.folder)
        self._session = None
        self._tokenizer = None
        self._lock = threading.Lock()

    def model_path(self) -> Path:
        name = "model-int8.onnx" if self.quantized else "model.onnx"
        return self.cache / f"v{EXPORT_VERSION}" / name

    def prebuilt_path(self, name: str) -> Path | None:
        folder = prebuilt_folder()
        if folder is None:
            return None
        found = folder / self.cache.name / f"v{EXPORT_VERSION}" / name
        return found if found.is_file() else None

    def _prepare(self, cancelled: Callable[[], bool] | None = None) -> Path:
        path = self.model_path()
        wanted = self.prebuilt_path(path.name)
        if wanted is not None:
            return wanted
        if path.is_file():
            return path
        plain = self.prebuilt_path("model.onnx") or self.cache / f"v{EXPORT_VERSION}" / "model.onnx"
        if not plain.is_file():
            log.info("exporting the embedding model to ONNX (once) into %s", plain.parent)
            export_in_child(self.folder, plain, cancelled)
        if self.quantized:
            path.parent.mkdir(parents=True, exist_ok=True)
            quantize_int8(plain, path)
        return path

    def prepare(self, cancelled: Callable[[], bool] | None = None) -> None:
        """Export (once) and open the graph now. `cancelled` can stop the export."""
        self._load(cancelled)

    def _load(self, cancelled: Callable[[], bool] | None = None):
        with self._lock:
            if self._session is None:
                import onnxruntime as ort
                from tokenizers import Tokenizer

                tokenizer = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
                tokenizer.enable_truncation(self.max_seq_length)
                tokenizer.enable_padding(pad_id=tokenizer.token_to_id("[PAD]") or 0, pad_token="[PAD]")
                options = ort.SessionOptions()
                options.intra_op_num_threads = physical_cores()
                options.inter_op_num_threads = 1
                self._session = ort.InferenceSession(str(self._prepare(cancelled)), options,
                                                     providers=["CPUExecutionProvider"])
                self._tokenizer = tokenizer
        return self._session, self._tokenizer

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        session, tokenizer = self._load()
        out = []
        # Sorting by length keeps padding small inside each batch, as sentence-transformers does.
        order = np.argsort([-len(t) for t in texts], kind="stable")
        for i in range(0, len(texts), batch_size):
            batch = [texts[j] for j in order[i:i + batch_size]]
            encoded = tokenizer.encode_batch(batch)
            feed = {"input_ids": np.array([e.ids for e in encoded], dtype=np.int64),
                    "attention_mask": np.array([e.attention_mask for e in encoded], dtype=np.int64),
                    "token_type_ids": np.array([e.type_ids for e in encoded], dtype=np.int64)}
            out.append(session.run(["embedding"], feed)[0])
        if not out:
            return np.zeros((0, 384), dtype=np.float32)
        vectors = np.concatenate(out).astype(np.float32, copy=False)
        result = np.empty_like(vectors)
        result[order] = vectors
        return result


if __name__ == "__main__":  # the child of export_in_child
    export_onnx(Path(sys.argv[1]), Path(sys.argv[2]))
