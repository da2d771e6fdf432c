"""HTML: the page's visible text (not the site's banner, menus, sidebars, footer or cookie notice),
with h1-h6 as headings and table rows as rows."""

from __future__ import annotations

import codecs
import re
import warnings
from pathlib import Path

from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning, NavigableString, Tag
from bs4.dammit import EncodingDetector
from bs4.element import PreformattedString, Script, Stylesheet, TemplateString

from assistant.knowledge.document import ParsedDocument, UnreadableFile
from assistant.knowledge.parsers.common import BLANK, Builder, ParseLimits, one_line
from assistant.knowledge.parsers.text import decode_text, looks_binary

NO_TEXT = "The web page has no visible text (only markup, scripts or styles)."

# Never shown to a reader (nav: menus repeat on every page and only add noise).
_SKIP = {
    "head", "script", "style", "noscript", "template", "nav", "svg", "iframe",
    "object", "embed", "canvas", "select", "datalist", "button",
}  # fmt: skip
_BLOCK = {
    "address", "article", "aside", "blockquote", "body", "caption", "center", "dd", "details",
    "dialog", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "header",
    "hr", "html", "legend", "li", "main", "ol", "p", "section", "summary", "table", "tbody",
    "td", "tfoot", "th", "thead", "ul",
}  # fmt: skip
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
# Page-level boilerplate, dropped as reader modes drop it: a saved site repeats its banner, footer,
# sidebars and cookie notice on every page. header, footer and aside are page-level when no
# sectioning element or root (a quote, a figure, a table cell) and no main holds them, as HTML-AAM
# makes them landmarks: inside an article they are its byline and notes, a quote's footer is its
# source, and in main an aside is often a note or the footnotes (docutils writes them so).
_PAGE_PARTS = {"header", "footer", "aside"}
_PAGE_ROLES = {"banner", "contentinfo", "complementary"}
_MENU_ROLES = {"navigation", "search"}  # like nav: repeated wherever they stand
_SCOPES = {
    "article", "aside", "main", "nav", "section", "blockquote", "details", "dialog", "fieldset",
    "figure", "td",
}  # fmt: skip
_SCOPE_ROLES = {"main", "article"}
_CONTENT = {"article", "main", "section"}  # never the site's, whatever their names say
# Consent tools' containers, by the names they give them: "cookie" alone is not enough (a recipe,
# a cookie policy's own text).
_CONSENT = re.compile(
    r"cookie.?(?:banner|bar|notice|consent|pop.?up|dialog|law|box|wall|modal|overlay|disclaimer|alert|layer)"
    r"|consent.?(?:banner|bar|notice|pop.?up|dialog|box|modal|manager|sdk)|gdpr.?(?:banner|bar|notice|cookie)"
    r"|onetrust|cookiebot|didomi|usercentrics|cookiescript|iubenda.?cs|borlabs|cmplz|qc.?cmp|cc.?window",
    re.I,
)
# A row whose cells hold these is page layout, not data: read it as ordinary blocks.
_LAYOUT = {"p", "div", "table", "ul", "ol", "pre", "blockquote", *_HEADINGS}
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_NOT_TEXT = (PreformattedString, Script, Stylesheet, TemplateString)  # comments, doctype, CDATA, ...
# Declared charsets that browsers read as another (WHATWG Encoding): pages saved on Windows
# declare iso-8859-1 and hold windows-1252's euro sign, dashes and curly quotes; a page
# declaring UTF-16 in its own ASCII-compatible bytes cannot be UTF-16.
_AS_BROWSERS_READ = {
    "iso8859-1": "cp1252", "ascii": "cp1252", "iso8859-9": "cp1254", "iso8859-11": "cp874",
    "tis-620": "cp874", "utf-16": "utf-8", "utf-16-le": "utf-8", "utf-16-be": "utf-8",
}  # fmt: skip

# A short page such as "index.html" is a page, not a file name bs4 should warn about.
warnings.filterwarnings("ignore", category=MarkupResemblesLocatorWarning)


def _hidden(tag: Tag) -> bool:
    if tag.name in _SKIP or tag.has_attr("hidden"):
        return True
    if tag.get("type") == "hidden":
        return True
    style = tag.get("style")
    return isinstance(style, str) and bool(_HIDDEN_STYLE.search(style))


def _strings(node: Tag):
    """The visible strings below node, in order (iterative: pages can nest deeply)."""
    stack = list(reversed(node.contents))
    while stack:
        child = stack.pop()
        if isinstance(child, NavigableString):
            if not isinstance(child, _NOT_TEXT):
                yield str(child)
        elif isinstance(child, Tag) and not _hidden(child):
            if child.name == "br":
                yield "\n"
            stack.extend(reversed(child.contents))


def _text(node: Tag) -> str:
    return "".join(_strings(node))


def _data_cells(row: Tag) -> list[Tag] | None:
    """The row's cells, or None when a cell holds blocks (a layout table): only direct children
    are looked at, so nested tables stay linear."""
    cells = row.find_all(["td", "th"], recursive=False)
    for cell in cells:
        if any(isinstance(child, Tag) and child.name in _LAYOUT for child in cell.children):
            return None
    return cells


class _Inline:
    """Inline text gathered until the next block boundary; <br> keeps a line break."""

    def __init__(self, builder: Builder):
        self.builder = builder
        self.parts: list[str] = []

    def flush(self) -> None:
        if self.parts:
            text = "".join(self.parts)
            self.parts = []
            lines = (" ".join(line.split()) for line in text.split("\n"))
            self.builder.add("\n".join(line for line in lines if line))


def _role(tag: Tag) -> str:
    role = tag.get("role")
    return role.split()[0].lower() if isinstance(role, str) and role.split() else ""


def _boilerplate(tag: Tag, scoped: bool) -> bool:
    """Whether tag is the site's rather than the page's. A page-level part that holds the h1 is
    kept: it is the page's title block (title, byline, date), not the site's banner."""
    role = _role(tag)
    if tag.name == "search" or role in _MENU_ROLES:
        return True
    if scoped or tag.name in _CONTENT or role in _SCOPE_ROLES:
        return False
    names = " ".join([*tag.get_attribute_list("id"), *tag.get_attribute_list("class")])
    page_part = tag.name in _PAGE_PARTS or role in _PAGE_ROLES or bool(_CONSENT.search(names))
    return page_part and tag.find("h1") is None


def _walk(body: Tag, builder: Builder, drop_boilerplate: bool) -> None:
    inline = _Inline(builder)
    stack: list[tuple[object, bool, bool]] = [(body, False, False)]  # (node, leaving, scoped)
    while stack:
        node, leaving, scoped = stack.pop()
        if leaving:
            inline.flush()
            continue
        if isinstance(node, NavigableString):
            if not isinstance(node, _NOT_TEXT):
                inline.parts.append(str(node))
            continue
        if not isinstance(node, Tag) or _hidden(node):
            continue
        if drop_boilerplate and _boilerplate(node, scoped):
            continue
        name = node.name
        if name in _HEADINGS:
            inline.flush()
            builder.heading(_HEADINGS[name], _text(node))
        elif name == "pre":
            inline.flush()
            builder.add(_text(node), "code")
        elif name == "tr" and (cells := _data_cells(node)) is not None:
            inline.flush()
            texts = [one_line(_text(cell)) for cell in cells]
            if any(texts):
                builder.add(" | ".join(texts), "table_row")
        elif name == "br":
            inline.parts.append("\n")
        else:
            if name in _BLOCK or name == "tr":
                inline.flush()
                stack.append((node, True, scoped))
            scoped = scoped or name in _SCOPES or _role(node) in _SCOPE_ROLES
            stack.extend((child, False, scoped) for child in reversed(node.contents))
    inline.flush()


def _declared(data: bytes) -> tuple[str, str] | None:
    """The page decoded as its <meta charset> or XML declaration says, if that decodes it."""
    label = EncodingDetector.find_declared_encoding(data, is_html=True)
    try:
        encoding = codecs.lookup(label or "").name
        encoding = _AS_BROWSERS_READ.get(encoding, encoding)
        markup = data.decode(encoding)
    except (LookupError, UnicodeDecodeError, ValueError):  # ValueError: a NUL in the label
        return None
    return (markup, encoding) if not looks_binary(markup) else None


def _decode(data: bytes) -> tuple[str, str]:
    """A BOM, then valid UTF-8 (a page re-saved by an editor keeps its old <meta>), then the
    declared charset, then the text files' detection. bs4's own detection is not used: it reads
    undeclared French or German windows-1252 pages as windows-1250 ("Crčme brűlée")."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # UTF-32's BOMs start so too
        return decode_text(data)
    try:
        markup = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    else:
        if not looks_binary(markup):  # else maybe UTF-16 without a BOM: its NULs are valid UTF-8
            return markup, "utf-8"
    return _declared(data) or decode_text(data)


def parse_html(path: Path, data: bytes, limits: ParseLimits) -> ParsedDocument:
    markup, encoding = _decode(data)
    if not markup.strip():
        raise UnreadableFile(BLANK)
    soup = BeautifulSoup(markup, "lxml")
    builder = Builder(path, "html", limits)
    _walk(soup, builder, drop_boilerplate=True)
    if not builder.blocks:  # a page that is all header or footer: its text is all it has
        builder = Builder(path, "html", limits)
        _walk(soup, builder, drop_boilerplate=False)
    metadata = {}
    title = soup.find("title")
    if isinstance(title, Tag) and one_line(title.get_text()):
        metadata["title"] = one_line(title.get_text())
    if not builder.blocks:
        raise UnreadableFile(NO_TEXT)
    return builder.build(encoding=encoding, metadata=metadata)
