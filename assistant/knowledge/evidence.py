"""The sentences of the chosen sources that bear on a question: what the model is shown.

A 0.5B model handed three whole passages copies a sentence from the wrong one about half the
time. Handed only the few sentences that best match the question it answers far more often
(Qwen2.5-Coder-0.5B on every 3rd answerable squad2-dev question, same instruction: 0.56 with
the passages, 0.65 with the best four sentences, in a third of the prompt; 0.70 with each
sentence numbered by its source; over the whole set, as the app asks: 0.60 against 0.34). A sentence's match is the share of the
question's content words it holds, each weighted by its rarity in the index, averaged with
the embedding similarity: each alone picks the sentence holding the answer less often
(first sentence right: words 0.69, meaning 0.68, both 0.74).

Only the sentences that match about as well as the best one are shown (within `margin`): the model
copies from a clearly weaker sentence shown next to the right one. Given the best sentence alone
it answered 0.67 of every 2nd answerable question, the best four 0.64, and within 0.08 of the best
(1.8 sentences on average) 0.72; over the whole set, with the check off, 0.66 against 0.60, and
the same gain on the half the margin was not chosen on.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from assistant.knowledge import cjk
from assistant.knowledge.retriever import STOPWORDS

# A sentence ends at . ! or ? followed by a capital, a digit, a quote or a bracket, at a line break
# that is not a wrap inside a sentence (see _wrapped), or at a full-width 。！？ (Chinese and Japanese
# put no space after it) not followed by a closing quote or bracket, or by another such mark (？！).
SENTENCE_END = re.compile(r"(?<=[.!?])[ \t]+(?=[A-Z0-9\"'(\[])|\s*\n\s*|(?<=[。！？])[ \t\u3000]*(?=[^\s」』）”’。！？])")
# Words whose full stop does not end a sentence: "Case No. 2023-41", "Mr. Kulkarni", "Art. 5".
ABBREVIATIONS = frozenset("""mr mrs ms dr prof sr jr st inc ltd co corp llc plc bros approx dept gov tel v vs cf al
    e.g i.e jan feb mar apr jun jul aug sep sept oct nov dec u.s u.k e.u""".split())
# Those that are also words ("the answer is no."): an abbreviation only before a number ("No. 5").
NUMBER_ABBREVIATIONS = frozenset("no nos nr art arts sec secs para paras cl ch pt fig figs vol vols pp p ref refs".split())
_LAST_WORD = re.compile(r"(\w+(?:\.\w+)*)\.$")
# A line that opens a list item or a heading, or a table row: a line break before it ends a sentence.
_LINE_OPENER = re.compile(r"\s*(?:[-*•·▪–]\s|#|\(?[0-9]{1,3}[.)]\s|\(?[a-zA-Z][.)]\s|\([ivx]{1,4}\)\s|"
                          r"\d+(?:\.\d+)+\.?\s|[A-Z][\w .'-]{0,30}:\s)")  # ... "Phone: ", a label
_TABLE_ROW = " | "
_SEPARATOR_ROW = re.compile(r"\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?")
_ENDED = tuple(".!?:;。！？：；")
STEM = 6  # words compared by their first letters: "conquest" and "conquered" match


@dataclass
class Evidence:
    source: int  # index of the source (0-based) in the list given to select()
    start: int  # offsets in that source's text
    end: int
    text: str
    score: float

    def to_detail(self) -> dict:
        """As an answer's details store it: `number` is the source's number in the prompt."""
        return {"number": self.source + 1, "start": self.start, "end": self.end, "text": self.text,
                "score": round(self.score, 4)}

    @classmethod
    def from_detail(cls, row: dict) -> Evidence:
        return cls(row["number"] - 1, row["start"], row["end"], row["text"], row["score"])


# "15." "## 2.1." "IV." "(a)" "Section 3.": the number of a heading or clause, not a sentence alone.
NUMBERING = re.compile(r"[#*\s]*(?:(?:article|section|clause|part|chapter|schedule|annex|appendix|exhibit|§)\s*)?"
                       r"(?:[\dIVXivx]+[.)])+", re.IGNORECASE)
# "14.1 Security Deposit." "12.3(b) Late payment." "Article 6 Rent.": a clause's number and title
# run into its first sentence. Alone, the title matches a question about it best and says nothing.
# ("Section 3. Rent is due." is a number that NUMBERING joins to its sentence, which then ends.)
RUN_IN_TITLE = re.compile(r"[#*\s]*(?:(?:article|section|clause|schedule|annex|appendix|exhibit|§)\s*[\dIVX]+"
                          r"|\d+(?:\.\d+)+)(?:\([a-z0-9]{1,3}\))*\s+[A-Z][\w'’&/-]*(?:[ \t]+[\w'’&/-]+){0,5}[.:]",
                          re.IGNORECASE)
# A number with its parts, as a clause, an amount or a date is written: "12.3(b)", "1,250.00", "2024-03-28".
NUMBER_TERM = re.compile(r"(?<![\w.])\d+(?:[.,/:-]\d+)+(?:\([a-z0-9]{1,3}\))*(?![\w-])")


def _abbreviated(before: str, after: str) -> bool:
    """Whether the full stop ending `before` belongs to an abbreviation or an initial ("J. Smith")."""
    m = _LAST_WORD.search(before)
    if not m:
        return False
    word = m.group(1)
    if word.lower() in NUMBER_ABBREVIATIONS:
        return after[:1].isdigit()
    return word.lower() in ABBREVIATIONS or (len(word) == 1 and word.isupper())


def _wrapped(text: str, at: int, gap: str, longest: int) -> bool:
    """Whether the line break in `gap` (at offset `at`) only wraps a sentence: a PDF's printed
    lines, or text wrapped at a fixed width, break wherever the line was full; a page or column
    break can fall inside a sentence too, and then reads as a blank line."""
    line_start = text.rfind("\n", 0, at) + 1
    line = text[line_start:at].rstrip()
    ending = line.rstrip("\"'”’)]")  # 'notice.)' and '"final."' end as the stop inside them does
    next_start = at + len(gap)
    next_end = text.find("\n", next_start)
    following = text[next_start:next_end if next_end >= 0 else len(text)]
    if (not line or not following or ending.endswith(_ENDED) or line.lstrip().startswith("#")
            or _TABLE_ROW in line or _TABLE_ROW in following or _LINE_OPENER.match(following)):
        return False
    if gap.count("\n") > 1:
        # A blank line starts a paragraph, unless the text goes on in lower case after a line
        # left unfinished: "shall survive for a period of" / (page 2) "seven (7) years ...".
        # The line before is a full printed line, as one cut by the page's end is.
        return following[0].islower() and len(line.strip()) >= max(40, 0.6 * longest)
    # A short line followed by a capital or a number is a heading or a line of an address or a
    # table; a full one was wrapped.
    return not (following[0].isupper() or following[0].isdigit()) or len(line.strip()) >= 0.6 * longest


def _run_in_title(text: str, start: int, end: re.Match) -> bool:
    """Whether text[start:end] is a clause's number and title, with its clause after it: not a short
    numbered sentence ("3.2 Rent is due monthly."), nor one followed by the next clause's number."""
    if not RUN_IN_TITLE.fullmatch(text, start, end.start()) or NUMBERING.match(text, end.end()):
        return False
    after = text[end.end():end.end() + 12]
    if re.match(r"(?:article|section|clause|§|\d)", after, re.IGNORECASE):
        return False
    return not _VERBS.intersection(re.findall(r"[a-z]+", text[start:end.start()].lower()))


# Words that make a numbered line a sentence rather than a title.
_VERBS = frozenset("""is are was were be been shall must may will would can could should agree agrees apply
    applies has have had does do means""".split())


def sentence_spans(text: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    longest = max((len(line.strip()) for line in text.split("\n")), default=0)
    for m in SENTENCE_END.finditer(text):
        if "\n" in m.group():
            if _wrapped(text, m.start(), m.group(), longest):
                continue
        elif (NUMBERING.fullmatch(text, start, m.start()) or _run_in_title(text, start, m)
              or _abbreviated(text[start:m.start()], text[m.end():])):
            continue  # "Section 3. Rent", "4.2 Early Termination. Either party", "Case No. 41": it goes on
        if text[start:m.start()].strip():
            spans.append((start, m.start()))
        start = m.end()
    if text[start:].strip():
        spans.append((start, len(text.rstrip())))
    return spans


def _one_line(sentence: str) -> str:
    return re.sub(r"\s*\n\s*", " ", sentence)


def content_terms(text: str) -> set[str]:
    """The words that carry the topic; a Chinese, Japanese or Korean run (written without spaces)
    gives its character pairs instead, as keyword search indexes it, so two sentences of such text
    share the pairs of the words they share."""
    text = text.lower()
    rest = cjk.without_runs(text)
    # Also whole, so "12.3(b)" is not matched by "12.3(c)" (the "#" keeps it from any word).
    numbers = {"#" + n for n in NUMBER_TERM.findall(rest)}
    words = {w[:STEM] for w in re.findall(r"\w+", rest) if w not in STOPWORDS} | numbers
    return words | {p for r in cjk.runs(text) for p in cjk.bigrams(r)} if rest != text else words


def word_overlap(question_terms: set[str], sentence: str, weight: Callable[[str], float]) -> float:
    """The rarity-weighted share of the question's content words that the sentence holds."""
    total = sum(weight(t) for t in question_terms)
    if not total:
        return 0.0
    return sum(weight(t) for t in question_terms & content_terms(sentence)) / total


def rarity(document_frequency: Callable[[str], int], documents: int) -> Callable[[str], float]:
    """Inverse document frequency; a word the index never saw counts as rare. A whole number
    ("#12.3(b)") weighs as its rarest part: the index never holds it whole, and counted as never seen
    it outweighed every word of the question."""
    def weight(term: str) -> float:
        if term.startswith("#"):
            return max((weight(p[:STEM]) for p in re.findall(r"\w+", term[1:])), default=0.0)
        return math.log((documents + 1) / (document_frequency(term) + 0.5))
    return weight


def _cells(row: str) -> list[str]:
    return [c.strip() for c in row.split(_TABLE_ROW.strip())]


def labelled_rows(text: str, spans: list[tuple[int, int]], headed: bool = False) -> list[tuple[int, int, str]]:
    """The sentences of `text`, with a table's rows told by their column names ("Drug: Apixaban;
    Starting dose: 5 mg twice daily") and its header row left out: a row alone does not say which
    number is the dose, and the header alone matches a question about a column best and holds no
    value. A header is the row above Markdown's |---| line, or a table's first row when it holds
    no digit and the table starts below other text: a chunk can start inside a table, with a row of
    values first. `headed`: the text's first row is its table's header (a CSV chunk repeats it)."""
    out, header = [], None
    after_prose = False  # the table starts after other text in this chunk, not at its top
    for index, (a, b) in enumerate(spans):
        sentence = _one_line(text[a:b].strip())
        if headed and index == 0 and _TABLE_ROW in sentence:
            header = _cells(sentence.strip("| "))
            continue
        if _SEPARATOR_ROW.fullmatch(sentence):  # Markdown's |---|---|: the row above was the header
            if out and _TABLE_ROW in out[-1][2]:
                header = _cells(out.pop()[2].strip("| "))
            continue
        if _TABLE_ROW not in sentence:
            header, after_prose = None, True
        elif header is None and after_prose and not any(ch.isdigit() for ch in sentence):
            header = _cells(sentence.strip("| "))
            continue
        elif header is not None and len(cells := _cells(sentence.strip("| "))) == len(header):
            sentence = "; ".join(f"{name}: {cell}" if name else cell
                                 for name, cell in zip(header, cells, strict=True) if cell)
        else:
            header = header or []  # a row of a table whose header is in another chunk
        if sentence:
            out.append((a, b, sentence))
    return out


def scored_sentences(question: str, texts: list[str], encode: Callable[[list[str]], object], query_vector,
                     weight: Callable[[str], float], meaning_share: float = 0.5,
                     headed: Sequence[bool] = ()) -> list[Evidence]:
    """Every sentence of `texts` with its match to the question, in text order. `headed`: by text,
    whether its first row is a table's header (see labelled_rows)."""
    found = [(i, a, b, sentence) for i, text in enumerate(texts)
             for a, b, sentence in labelled_rows(text, sentence_spans(text), i < len(headed) and headed[i])]
    if not found:
        return []
    vectors = encode([f[3] for f in found])
    terms = content_terms(question)
    return [Evidence(i, a, b, sentence,
                     (1 - meaning_share) * word_overlap(terms, sentence, weight)
                     + meaning_share * float(vector @ query_vector))
            for (i, a, b, sentence), vector in zip(found, vectors, strict=True)]


def select(question: str, texts: list[str], encode: Callable[[list[str]], object], query_vector,
           weight: Callable[[str], float], n: int = 4, meaning_share: float = 0.5,
           margin: float | None = None, headed: Sequence[bool] = ()) -> list[Evidence]:
    """The n sentences of `texts` that best match the question, best first; with a margin, only
    those whose match is within it of the best one's."""
    scored = sorted(scored_sentences(question, texts, encode, query_vector, weight, meaning_share, headed),
                    key=lambda e: -e.score)
    if margin is not None and scored:
        scored = [e for e in scored if e.score >= scored[0].score - margin]
    return scored[:n]


def best_sentence_scores(question: str, texts: list[str], encode: Callable[[list[str]], object], query_vector,
                         weight: Callable[[str], float], headed: Sequence[bool] = ()) -> list[float]:
    """For each text, the match of its best sentence to the question (0 for a text without one)."""
    best = [0.0] * len(texts)
    for e in scored_sentences(question, texts, encode, query_vector, weight, headed=headed):
        best[e.source] = max(best[e.source], e.score)
    return best


class RememberingEncoder:
    """An encode function that embeds each distinct sentence once per question: ranking the
    passages by their best sentence and then picking the sentences to show read the same ones."""

    def __init__(self, encode: Callable[[list[str]], object]):
        self.encode, self.vectors = encode, {}

    def __call__(self, texts: list[str]) -> list:
        missing = [t for t in dict.fromkeys(texts) if t not in self.vectors]
        if missing:
            self.vectors.update(zip(missing, self.encode(missing), strict=True))
        return [self.vectors[t] for t in texts]


def attribute(answer: str, evidence: list[Evidence], weight: Callable[[str], float]) -> Evidence | None:
    """The shown sentence the answer's words come from (None if it shares no content word with any)."""
    said = content_terms(answer)
    shared = [(sum(weight(t) for t in said & content_terms(e.text)), e.score, -i) for i, e in enumerate(evidence)]
    best = max(shared, default=None)
    return evidence[-best[2]] if best and best[0] > 0 else None
