"""The window's status bar: what the app is doing, the model, memory in use, indexing, and the network.

"Offline" turns into "Downloading…" only while an operation the user started
(a model download) is allowed on the network: `assistant.offline` reports
those from the download's own thread, so its reports are forwarded through a
queued signal.
"""

from __future__ import annotations

import html
import logging
import os
import threading

import psutil
from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar, QWidget
from superqt import QElidingLabel

from assistant import offline
from assistant.ui.formatting import human_size

log = logging.getLogger("assistant.ui")

RAM_REFRESH_MS = 2000
OFFLINE = "Offline"
DOWNLOADING = "Downloading…"
OFFLINE_TIP = "Nothing you type leaves this computer."


def memory_in_use(engine_pid: int | None = None) -> int:
    """Resident memory of this process and its children (the engine with its model, any helper), in bytes."""
    try:
        me = psutil.Process(os.getpid())
        processes = [me, *me.children(recursive=True)]
    except psutil.Error:
        return 0
    if engine_pid is not None and all(p.pid != engine_pid for p in processes):
        try:
            processes.append(psutil.Process(engine_pid))
        except psutil.Error:
            pass
    total = 0
    for process in processes:
        try:
            total += process.memory_info().rss
        except psutil.Error:  # it ended between the listing and the reading
            continue
    return total


class AppStatusBar(QStatusBar):
    network_changed = Signal(list)  # the network operations allowed now ([]: offline); on the UI thread
    measure_stop_requested = Signal()  # the Stop link beside a background speed measurement
    memory_read = Signal(object)  # bytes in use, read off the UI thread (see refresh_memory); past 2 GiB, so not an int

    def __init__(self, engine_pid=lambda: None, parent: QWidget | None = None):
        """`engine_pid()`: the engine child's pid, or None (it is counted even if not our child)."""
        super().__init__(parent)
        self.setObjectName("appStatusBar")
        self._engine_pid = engine_pid
        self.status_label = QElidingLabel("Starting…")
        self.status_label.setObjectName("statusLabel")
        self.busy_bar = QProgressBar()
        self.busy_bar.setRange(0, 0)
        self.busy_bar.setFixedWidth(120)
        self.busy_bar.setTextVisible(False)
        self.busy_bar.hide()
        self.indexing_label = QLabel()
        self.indexing_label.setObjectName("indexingLabel")
        self.indexing_label.hide()
        self.download_label = QLabel()
        self.download_label.setObjectName("downloadLabel")
        self.download_label.hide()
        self.measure_label = QLabel()
        self.measure_label.setObjectName("measureLabel")
        self.measure_label.setToolTip("Measuring how fast each installed model runs on this computer, "
                                      "for the model selector. It pauses while you are answered.")
        self.measure_label.linkActivated.connect(lambda _link: self.measure_stop_requested.emit())
        self.measure_label.hide()
        self.model_label = QLabel("No model")
        self.model_label.setObjectName("modelStatusLabel")
        self.ram_label = QLabel()
        self.ram_label.setObjectName("ramLabel")
        self.ram_label.setToolTip("Memory in use by the app and its model engine")
        self.offline_label = QLabel(OFFLINE)
        self.offline_label.setObjectName("offlineLabel")
        self.offline_label.setToolTip(OFFLINE_TIP)
        self.addWidget(self.status_label, 1)
        for widget in (self.busy_bar, self.indexing_label, self.download_label, self.measure_label,
                       self.model_label, self.ram_label, self.offline_label):
            self.addPermanentWidget(widget)
        self._sampling = False
        self._sampler: threading.Thread | None = None
        self.memory_read.connect(self._show_memory, Qt.ConnectionType.QueuedConnection)
        self._ram_timer = QTimer(self)
        self._ram_timer.setInterval(RAM_REFRESH_MS)
        self._ram_timer.timeout.connect(self.refresh_memory)
        self._ram_timer.start()
        self.network_changed.connect(self._show_network, Qt.ConnectionType.QueuedConnection)
        offline.add_network_listener(self._on_network)
        self._listening = True
        self._show_network(offline.network_operations())
        self.refresh_memory()

    def set_status(self, text: str, busy: bool = False) -> None:
        self.status_label.setText(text)
        self.busy_bar.setVisible(busy)

    def set_model(self, text: str, tip: str = "") -> None:
        self.model_label.setText(text)
        self.model_label.setToolTip(tip)

    @Slot(bool)
    def set_indexing(self, active: bool) -> None:
        self.indexing_label.setText("Indexing…" if active else "")
        self.indexing_label.setVisible(active)

    @Slot(str)
    def set_indexing_text(self, text: str) -> None:
        if text:
            self.indexing_label.setText(text)
            self.indexing_label.show()

    @Slot(str)
    def set_download_text(self, text: str) -> None:
        """A download's progress ("" when none runs)."""
        self.download_label.setText(text)
        self.download_label.setVisible(bool(text))

    @Slot(str)
    def set_measure_text(self, text: str) -> None:
        """A background speed measurement's progress ("" when none runs), with a Stop link."""
        self.measure_label.setText(f'{html.escape(text)} <a href="stop">Stop</a>' if text else "")
        self.measure_label.setVisible(bool(text))

    @Slot()
    def refresh_memory(self) -> None:
        """Read the memory on a short-lived thread and show it when read. Listing the child
        processes reads every /proc/N/stat, and each read gives the GIL away: on the UI thread,
        with indexing busy on another, that cost the window 100 ms stalls."""
        if self._sampling or not self._listening:
            return
        self._sampling = True
        engine_pid = self._engine_pid()

        def sample() -> None:
            used = 0
            try:
                used = memory_in_use(engine_pid)
            except Exception:  # noqa: BLE001 - a figure in the status bar is not worth a traceback
                log.debug("could not read the memory in use", exc_info=True)
            finally:
                try:
                    self.memory_read.emit(used)  # also clears _sampling, so the next refresh runs
                except RuntimeError:  # the status bar is gone
                    pass

        self._sampler = threading.Thread(target=sample, name="ram-sample", daemon=True)
        self._sampler.start()

    @Slot(object)
    def _show_memory(self, used: int) -> None:
        self._sampling = False
        self.ram_label.setText(f"RAM {human_size(used)}" if used else "")

    def _on_network(self, operations: list[str]) -> None:
        """On whichever thread the operation runs: only hand over to the UI thread."""
        try:
            self.network_changed.emit(list(operations))
        except RuntimeError:  # the window is gone: nothing left to tell
            offline.remove_network_listener(self._on_network)

    @Slot(list)
    def _show_network(self, operations: list[str]) -> None:
        self.offline_label.setText(DOWNLOADING if operations else OFFLINE)
        self.offline_label.setProperty("online", bool(operations))
        self.offline_label.setToolTip(("Network in use for: " + ", ".join(operations)) if operations
                                      else OFFLINE_TIP)
        self.style().unpolish(self.offline_label)
        self.style().polish(self.offline_label)

    def shutdown(self) -> None:
        """Stop listening (the listener list is global and outlives the window). Idempotent."""
        self._ram_timer.stop()
        if self._sampler is not None:
            self._sampler.join(timeout=2.0)  # it must not signal a status bar being deleted
        if self._listening:
            offline.remove_network_listener(self._on_network)
            self._listening = False
