"""Hybrid search: BM25 over SQLite FTS5 plus vector search in chroma, fused.

Every result carries each retriever's score and rank, the fused score and the
final rank, so the interpretability panel can show why it was chosen.
A weighted fusion of normalised scores is the default (measured better on
squad2-dev, see `assistant eval`); reciprocal rank fusion is there to compare.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field

from assistant.knowledge import cjk

RRF_K = 60
CANDIDATES = 50
MAX_KEYWORD_POOL = 1_000_000
PRUNE_FROM_CHUNKS = 20_000
COMMON_SHARE = 0.05
CJK_COLUMN = "cjk_terms"  # chunks_fts: text, heading, cjk_terms

# Words that carry no topic: dropped from the keyword query so BM25 ranks on content.
STOPWORDS = frozenset("""
a about above after again against all am an and any are as at be because been before being below between
both but by can could did do does doing down during each few for from further had has have having he her
here hers herself him himself his how i if in into is it its itself just me more most my myself no nor not
now of off on once only or other our ours ourselves out over own same she should so some such than that the
their theirs them themselves then there these they this those through to too under until up very was we
were what when where which while who whom why will with would you your yours yourself yourselves
""".split())


@dataclass
class SearchResult:
    chunk_id: str
    text: str
    path: str
    page: int | None
    page_end: int | None
    start: int
    end: int
    line_start: int | None
    line_end: int | None
    heading: str
    rank: int = 0
    scores: dict = field(default_factory=dict)  # keyword, vector, fused
    ranks: dict = field(default_factory=dict)  # keyword, vector (1-based; None if not found there)
    page_breaks: list = field(default_factory=list)  # [offset in text, page] where each page starts

    def to_dict(self) -> dict:
        return {"chunk_id": self.chunk_id, "path": self.path, "page": self.page, "page_end": self.page_end,
                "page_breaks": self.page_breaks, "start": self.start, "end": self.end,
                "line_start": self.line_start, "line_end": self.line_end, "heading": self.heading,
                "text": self.text, "rank": self.rank, "scores": self.scores, "ranks": self.ranks}


# A clause number, amount or date written with separators ("4.2", "48,250", "12/03/2024"): the
# index splits it into its numbers, so it is searched as their phrase. Alone, "4" OR "2" matched
# every chunk holding either number, and "48,250" matched "250,000".
NUMBER_PHRASE = re.compile(r"(?<!\w)\d+(?:[.,/:-]\d+)+(?!\w)")  # not inside "v1.2" or "x86-64"


def keyword_query(text: str, too_common=None) -> str | None:
    text = text.lower()
    # Chinese, Japanese, Korean: searched by the character pairs their runs are indexed as (cjk.py),
    # each pair a term as a word is, and a run of three or more also as the phrase of its pairs, so
    # a passage holding the whole word ranks above one holding a part. A question is one run with
    # no spaces ("违约金是多少"): as a phrase alone it would find only a passage that repeats it.
    runs = list(dict.fromkeys(cjk.query_runs(text)))
    every_run = cjk.runs(text)
    text = cjk.without_runs(text)
    phrases = list(dict.fromkeys(" ".join(re.findall(r"\d+", m)) for m in NUMBER_PHRASE.findall(text)))
    text = NUMBER_PHRASE.sub(" ", text)
    terms = [t for t in re.findall(r"\w+", text) if t not in STOPWORDS]
    if not terms and not phrases and not runs:
        terms = re.findall(r"\w+", text)
        runs = list(dict.fromkeys(every_run))  # a lone particle, when nothing else is asked
    if not terms and not phrases and not runs:
        return None
    pairs = [p for r in runs if len(r) > 1 for p in cjk.bigrams(r)]
    unique = list(dict.fromkeys(terms + pairs))
    if too_common is not None and unique:
        unique = too_common(unique)
    cjk_phrases = [f'{CJK_COLUMN} : "{" ".join(cjk.bigrams(r))}"' for r in runs if len(r) > 2]
    cjk_chars = [f'{CJK_COLUMN} : "{r}"*' for r in runs if len(r) == 1]  # starts a pair, or ends a run
    words = [f'{CJK_COLUMN} : "{t}"' if cjk.CJK_RUN.fullmatch(t) else f'"{t}"' for t in unique]
    return " OR ".join([f'"{p}"' for p in phrases] + cjk_phrases + cjk_chars + words)


def _doc_filter(collection_ids: list[int] | None) -> tuple[str, list]:
    if not collection_ids:
        return "", []
    marks = ",".join("?" for _ in collection_ids)
    return f" and d.collection_id in ({marks})", list(collection_ids)


class Retriever:
    def __init__(self, db, vectors_factory, embedder_factory):
        self.db = db
        self._vectors_factory = vectors_factory
        self._embedder_factory = embedder_factory
        self._vocab_ready = False
        self._count, self._counted_at = 0, -1e9
        self._df: dict[str, int]
        self.forget_frequencies()

    def keyword(self, query: str, collection_ids: list[int] | None = None, n: int = CANDIDATES):
        """(chunk id, bm25 score: higher is better) pairs, best first.

        FTS5 ranks its matches alone first (a tight loop inside SQLite); only the best
        few are then checked against documents and collections. Checking every match
        made a common-word query over 100,000 chunks take ~80 ms instead of ~10.
        """
        fts = keyword_query(query, self._too_common)
        if fts is None:
            return []
        extra, args = _doc_filter(collection_ids)
        pool = n * (8 if collection_ids else 2)
        while True:
            sql = f"""
                with top as (
                    select rowid, bm25(chunks_fts, 1.0, 0.5, 1.0) as s from chunks_fts
                    where chunks_fts match ? order by s limit ?)
                select c.id, -top.s from top join chunks c on c.rowid = top.rowid
                where c.embedded = 1 and exists (
                    select 1 from documents d where d.content_hash = c.content_hash and d.status = 'indexed'{extra})
                order by top.s limit ?
            """
            rows = [(r[0], r[1]) for r in self.db.execute(sql, [fts, pool, *args, n])]
            if len(rows) >= n or pool >= MAX_KEYWORD_POOL:
                return rows
            # Too few survived the filter (a small collection among large ones): widen.
            matched = self.db.execute("select count(*) from chunks_fts where chunks_fts match ?", [fts]).fetchone()[0]
            if matched <= pool:
                return rows
            pool *= 8

    def _too_common(self, terms: list[str]) -> list[str]:
        """Drop terms found in more than 5% of a large index (kept: the two rarest, at least).

        BM25 scores every chunk that holds any query term, so one very common word makes
        a query over 100,000 chunks score most of them, while its weight in the ranking is
        small (its inverse document frequency is near zero). Small indexes keep every term.
        """
        if len(terms) < 2:
            return terms
        total = self.chunk_count()
        if total < PRUNE_FROM_CHUNKS:
            return terms
        if not self._vocab_ready:
            self.db.execute("create virtual table if not exists temp.chunks_vocab using fts5vocab(main, chunks_fts, row)")
            self._vocab_ready = True

        def df(term: str) -> int:
            forms = {term, term[:-1] if term.endswith("s") else term, re.sub(r"(ing|ed|es)$", "", term)}
            found = [self.db.execute("select doc from temp.chunks_vocab where term = ?", [f]).fetchone()
                     for f in forms]
            return max((r[0] for r in found if r), default=0)

        counted = sorted(((df(t), i, t) for i, t in enumerate(terms)))
        keep = {t for n, _, t in counted if n <= total * COMMON_SHARE} | {t for _, _, t in counted[:2]}
        return [t for t in terms if t in keep]

    def document_frequency(self, prefix: str) -> int:
        """How many chunks hold a word starting with `prefix` (cached: a weight, not a count to trust)."""
        total = self.chunk_count()
        if total != self._df_counted_for:
            self._df, self._df_counted_for = {}, total
        if prefix not in self._df:
            query = f'"{prefix}"*' if prefix.isalnum() else None
            self._df[prefix] = self.db.execute("select count(*) from chunks_fts where chunks_fts match ?",
                                               [query]).fetchone()[0] if query else 0
        return self._df[prefix]

    def forget_frequencies(self) -> None:
        """Drop the cached counts (the benchmark's worst case: a question of words never weighed)."""
        self._df, self._df_counted_for = {}, -1

    def chunk_count(self) -> int:
        now = time.monotonic()
        if now - self._counted_at > 30:
            self._count = self.db.execute("select count(*) from chunks").fetchone()[0]
            self._counted_at = now
        return self._count

    def vector(self, query: str, collection_ids: list[int] | None = None, n: int = CANDIDATES, vector=None):
        """(chunk id, cosine similarity) pairs, best first."""
        vector = self._embedder_factory().encode_query(query) if vector is None else vector
        store = self._vectors_factory()
        if not collection_ids:
            return store.query(vector, n)
        # Ask chroma for more than needed without a filter and keep those in the collections;
        # handing chroma every id of a large collection as a filter costs more than the search.
        extra, args = _doc_filter(collection_ids)
        wide = store.query(vector, n * 4)
        if wide:
            marks = ",".join("?" for _ in wide)
            allowed = {r[0] for r in self.db.execute(
                f"select c.id from chunks c where c.id in ({marks}) and c.embedded = 1 and exists (select 1 "
                f"from documents d where d.content_hash = c.content_hash and d.status = 'indexed'{extra})",
                [cid for cid, _ in wide] + args)}
            kept = [(cid, score) for cid, score in wide if cid in allowed]
            if len(kept) >= n or len(wide) < n * 4:
                return kept[:n]
        only = [r[0] for r in self.db.execute(
            f"select c.id from chunks c join documents d on d.content_hash = c.content_hash "
            f"where d.status = 'indexed' and c.embedded = 1{extra}", args)]
        return store.query(vector, n, only_ids=only)

    def search(self, query: str, k: int = 8, collection_ids: list[int] | None = None, mode: str = "hybrid",
               fusion: str = "weighted", weight: float = 0.5) -> list[SearchResult]:
        keyword = self.keyword(query, collection_ids) if mode in ("hybrid", "keyword") else []
        vector = self.vector(query, collection_ids) if mode in ("hybrid", "vector") else []
        fused = fuse(keyword, vector, fusion=fusion, weight=weight)[:k]
        results = self._hydrate([cid for cid, _ in fused], collection_ids)
        kw = {cid: (i + 1, s) for i, (cid, s) in enumerate(keyword)}
        vec = {cid: (i + 1, s) for i, (cid, s) in enumerate(vector)}
        out = []
        for rank, (cid, score) in enumerate(fused, start=1):
            r = results.get(cid)
            if r is None:
                continue
            r.rank = rank
            r.scores = {"keyword": kw.get(cid, (None, None))[1], "vector": vec.get(cid, (None, None))[1],
                        "fused": score}
            r.ranks = {"keyword": kw.get(cid, (None,))[0], "vector": vec.get(cid, (None,))[0]}
            out.append(r)
        return out

    def _hydrate(self, ids: list[str], collection_ids: list[int] | None) -> dict[str, SearchResult]:
        if not ids:
            return {}
        extra, args = _doc_filter(collection_ids)
        marks = ",".join("?" for _ in ids)
        sql = f"""
            select c.id, c.text, c.page, c.page_end, c.start, c.end, c.line_start, c.line_end, c.heading,
                   c.page_breaks, (select d.path from documents d where d.content_hash = c.content_hash
                    and d.status = 'indexed'{extra} order by d.id limit 1) as path
            from chunks c where c.id in ({marks})
        """
        out = {}
        for row in self.db.execute(sql, [*args, *ids]):
            out[row[0]] = SearchResult(chunk_id=row[0], text=row[1], page=row[2], page_end=row[3], start=row[4],
                                       end=row[5], line_start=row[6], line_end=row[7], heading=row[8] or "",
                                       page_breaks=json.loads(row[9]) if row[9] else [], path=row[10])
        return out


def fuse(keyword: list[tuple[str, float]], vector: list[tuple[str, float]], fusion: str = "rrf",
         weight: float = 0.5) -> list[tuple[str, float]]:
    """Combine two ranked lists. `weight` is the vector side's share in weighted fusion."""
    scores: dict[str, float] = {}
    if fusion == "rrf":
        for ranked in (keyword, vector):
            for i, (cid, _) in enumerate(ranked):
                scores[cid] = scores.get(cid, 0.0) + 1.0 / (RRF_K + i + 1)
    else:
        for ranked, share in ((keyword, 1 - weight), (vector, weight)):
            if not ranked:
                continue
            values = [s for _, s in ranked]
            lo, hi = min(values), max(values)
            if ranked is keyword:
                # Scaled from 0, not from the weakest match: that one holds the words, unlike a
                # passage the keyword search did not find, and must not count as nothing.
                lo = 0.0
            for cid, s in ranked:
                norm = (s - lo) / (hi - lo) if hi > lo else 1.0
                scores[cid] = scores.get(cid, 0.0) + share * norm
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
