"""The desktop window (PySide6 + superqt). The only package allowed to import Qt.

Everything here calls the core (assistant.core, assistant.chat, ...); the
window adds layout, threads and signals, not behaviour a test cannot reach
without Qt.
"""
