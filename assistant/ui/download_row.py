"""One catalog model on the models page: what it is, whether it fits, how fast it is, and its download.

A view only: the page tells it what to show and reacts to its signals.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QWidget

from assistant.models.download import DownloadProgress
from assistant.models.overview import CatalogItem
from assistant.models.units import size_text
from assistant.ui.model_text import (
    download_progress_text,
    fit_badge,
    params_text,
    ram_text,
    ram_tooltip,
    speed_text,
)
from assistant.ui.model_widgets import Badge, ModelCard, card_label, restyle, thin_bar


def facts_line(item: CatalogItem) -> str:
    e = item.entry
    facts = item.candidate.facts if item.candidate else None
    params = (facts.parameter_count() if facts else None) or e.parameters
    size = e.size_bytes or e.approx_size_bytes
    parts = [e.family or "", params_text(params), e.quantization or "",
             (("~" if not e.size_bytes and size else "") + size_text(size)) if size else "size unknown",
             f"licence {e.license}" if e.license else ""]
    return " · ".join(p for p in parts if p)


class CatalogRow(ModelCard):
    """Modes: available | installed | unavailable (no hub file) | queued | downloading | resumable."""

    download_requested = Signal(str)
    cancel_requested = Signal(str)

    def __init__(self, item: CatalogItem, parent: QWidget | None = None):
        super().__init__(item.name, parent)
        self.mode = ""
        self.installed_badge = Badge()
        self.description = card_label("modelDescription")
        self.progress = thin_bar()
        self.progress_label = card_label("modelStatus")
        self.status = card_label("modelStatus")
        self.error = card_label("modelError")
        # Download, Resume and Try again all ask for the same thing.
        self.download_button = self.button("Download", self.download_requested)
        self.resume_button = self.button("Resume", self.download_requested)
        self.cancel_button = self.button("Cancel", self.cancel_requested)
        self.lay_out([self.installed_badge], [self.download_button, self.resume_button, self.cancel_button],
                     [self.description, self.progress, self.progress_label, self.status, self.error])
        self.show_item(item)

    def show_item(self, item: CatalogItem, note: str | None = None, note_is_error: bool = False) -> None:
        """The row at rest: its facts, and what an earlier download left (from the database, or
        `note`, what the last attempt in this session said)."""
        self.item = item
        e, c = item.entry, item.candidate
        self.title.setText(e.display_name)
        self.fit_badge.set(*fit_badge(c.fit if c else None), tooltip=c.fit.reason if c else "")
        self.recommended_badge.set("Recommended" if item.recommended else "", "star",
                                   "The largest model that fits in memory and meets your speed targets.")
        self.installed_badge.set("Installed" if item.installed else "", "info")
        self.facts.setText(facts_line(item))
        self.ram.setText(ram_text(c.fit) if c else "The document embedder; it runs inside the app.")
        self.ram.setToolTip(ram_tooltip(c.fit) if c else "")
        self.speed.setText(speed_text(c.speed) if c else "")
        self.speed.setVisible(c is not None)
        self.description.setText(e.description)
        self.description.setVisible(bool(e.description))
        d = item.download
        if item.installed:
            self._set_mode("installed")
            self._say("", "")
        elif not e.downloadable:
            self._set_mode("unavailable")
            self._say("Installed by the app's setup (a starter model)." if e.is_starter
                      else "Not downloadable from the model hub.", "")
        elif d is not None:
            self._set_mode("resumable")
            self.resume_button.setText("Resume" if d.bytes_kept else "Try again")
            if d.bytes_kept:
                of = f" of {size_text(d.bytes_total)}" if d.bytes_total else ""
                self.progress_label.setText(f"{size_text(d.bytes_kept)}{of} received and kept.")
                if d.bytes_total:
                    self.progress.setValue(int(1000 * min(1.0, d.bytes_kept / d.bytes_total)))
            self.progress.setVisible(bool(d.bytes_kept))
            self.progress_label.setVisible(bool(d.bytes_kept))
            message = note or d.error or ""
            failed = note_is_error if note else d.state == "failed"
            self._say("" if failed else message, message if failed else "")
        else:
            self._set_mode("available")
            self._say("", note if note and note_is_error else "")

    def set_queued(self) -> None:
        self._set_mode("queued")
        self.progress.setRange(0, 0)
        self.progress_label.setText("Waiting for the download before it…")
        self._say("", "")

    def show_progress(self, p: DownloadProgress) -> None:
        if self.mode != "downloading":
            self._set_mode("downloading")
            self._say("", "")
        if p.bytes_total and p.phase in ("downloading", "verifying"):
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(1000 * min(1.0, p.bytes_done / p.bytes_total)))
        elif p.phase in ("checking", "installing"):
            self.progress.setRange(0, 0)  # busy, no fraction to show
        self.progress_label.setText(download_progress_text(p))

    def set_cancelling(self) -> None:
        self.cancel_button.setEnabled(False)
        self.progress_label.setText("Cancelling…")

    def _say(self, status: str, error: str) -> None:
        self.status.setText(status)
        self.status.setVisible(bool(status))
        self.error.setText(error)
        self.error.setVisible(bool(error))

    def _set_mode(self, mode: str) -> None:
        self.mode = mode
        busy = mode in ("queued", "downloading")
        self.download_button.setVisible(mode == "available")
        self.resume_button.setVisible(mode == "resumable")
        self.cancel_button.setVisible(busy)
        self.cancel_button.setEnabled(busy)
        self.progress.setVisible(busy or mode == "resumable")
        if mode == "resumable":
            self.progress.setRange(0, 1000)
            self.progress.setValue(0)
        self.progress_label.setVisible(busy)
        if self.property("state") != mode:
            self.setProperty("state", mode)
            restyle(self)
