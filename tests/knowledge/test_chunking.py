"""Chunks of a parsed file: where they start, what they overlap, and which source lines they name."""

from __future__ import annotations

from assistant.knowledge.chunker import chunk_document, count_tokens
from assistant.knowledge.parsers import parse_file


def chunks_of(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    doc = parse_file(path)
    return doc, chunk_document(doc)


def hard_wrapped_paragraph(sentences: int) -> list[str]:
    """One paragraph written as an editor wraps it: a line break every few words, no blank line."""
    words = " ".join(f"Clause {n} says the tenant pays the landlord {n} hundred euros by the fifth day."
                     for n in range(1, sentences + 1)).split()
    return [" ".join(words[i:i + 9]) for i in range(0, len(words), 9)]


def test_a_long_hard_wrapped_paragraph_gives_each_chunk_its_own_lines(tmp_path):
    lines = hard_wrapped_paragraph(60)
    doc, chunks = chunks_of(tmp_path, "lease.txt", "Preamble line.\n\n" + "\n".join(lines) + "\n")
    assert len(chunks) >= 3, "a paragraph this long is cut into several chunks"
    source = ["Preamble line.", "", *lines]  # the preamble, a blank line, then the paragraph
    for c in chunks:
        named = "\n".join(source[c.line_start - 1:c.line_end])
        words = c.text.split()
        assert words[0] in source[c.line_start - 1].split() and words[-1] in source[c.line_end - 1].split(), c
        assert len(named.split()) - len(words) <= 18, "the lines hold the chunk, not the whole paragraph"
    assert chunks[0].line_start == 1 and chunks[-1].line_end == len(source)
    assert all(a.line_start < b.line_start for a, b in zip(chunks, chunks[1:], strict=False))


def test_chunks_start_at_headings_stay_bounded_and_overlap_within_a_section(tmp_path):
    section = " ".join(f"Point {n} of the policy covers item {n} in full." for n in range(1, 80))
    doc, chunks = chunks_of(tmp_path, "policy.md", f"# Scope\n\n{section}\n\n# Claims\n\nSend claims in writing.\n")
    assert all(count_tokens(c.text) <= 2 * 220 for c in chunks)
    scope = [c for c in chunks if c.heading_path == ("Scope",)]
    assert len(scope) >= 2
    assert all(doc.text[c.start:c.end] == c.text for c in chunks)
    assert all(b.start < a.end for a, b in zip(scope, scope[1:], strict=False)), "consecutive chunks overlap"
    claims = [c for c in chunks if c.heading_path == ("Claims",)]
    assert len(claims) == 1 and claims[0].text == "Claims\n\nSend claims in writing."
    assert (claims[0].line_start, claims[0].line_end) == (5, 7)
