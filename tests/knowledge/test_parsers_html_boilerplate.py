"""Saved web pages: the site's banner, menus, sidebars, footer and cookie notice are not content."""

from __future__ import annotations

import pytest

from assistant.knowledge.parsers import parse_file
from tests.knowledge.corpus import assert_valid_document


def parse(tmp_path, page: str):
    path = tmp_path / "page.html"
    path.write_bytes(page.encode())
    doc = parse_file(path)
    assert_valid_document(doc)
    return doc


def blocks(doc) -> list[str]:
    return [doc.block_text(b) for b in doc.blocks]


# A blog post as WordPress themes save it: the site's parts around one article.
BLOG_POST = """<!DOCTYPE html>
<html lang="de"><head><meta charset="utf-8"><title>Kündigungsfristen – Kanzlei Weber</title></head>
<body class="post-template-default single">
<div id="cookie-notice" role="dialog" class="cn-bottom">
  <span id="cn-notice-text">Wir verwenden Cookies, um Ihnen das beste Erlebnis zu bieten.</span>
  <a href="#" id="cn-accept-cookie">Akzeptieren</a>
</div>
<header id="masthead" class="site-header">
  <div class="site-branding"><p class="site-title"><a href="/">Kanzlei Weber</a></p>
  <p class="site-description">Rechtsanwälte in München</p></div>
  <nav id="site-navigation"><ul><li><a href="/">Start</a></li><li><a href="/team">Team</a></li></ul></nav>
</header>
<div id="content" class="site-content">
  <main id="main" class="site-main">
    <article id="post-42" class="post">
      <header class="entry-header">
        <h1 class="entry-title">Kündigungsfristen im Mietrecht</h1>
        <div class="entry-meta">Veröffentlicht am 3. Mai 2024 von Anna Weber</div>
      </header>
      <div class="entry-content">
        <p>Die gesetzliche Kündigungsfrist für Mieter beträgt drei Monate.</p>
        <aside class="note">Hinweis: Abweichende Vereinbarungen zum Nachteil des Mieters sind unwirksam.</aside>
        <blockquote><p>Die Kündigung ist spätestens am dritten Werktag zulässig.</p>
          <footer>§ 573c BGB</footer></blockquote>
      </div>
      <footer class="entry-footer">Kategorie: Mietrecht</footer>
    </article>
  </main>
  <aside id="secondary" class="widget-area">
    <section class="widget"><h2 class="widget-title">Neueste Beiträge</h2>
      <ul><li><a href="/a">Mieterhöhung</a></li><li><a href="/b">Nebenkosten</a></li></ul></section>
  </aside>
</div>
<footer id="colophon" class="site-footer">
  <div class="site-info">© 2024 Kanzlei Weber · Impressum · Datenschutz</div>
</footer>
</body></html>
"""


def test_a_blog_post_keeps_its_article_and_drops_the_site_around_it(tmp_path):
    doc = parse(tmp_path, BLOG_POST)
    assert blocks(doc) == [
        "Kündigungsfristen im Mietrecht",
        "Veröffentlicht am 3. Mai 2024 von Anna Weber",
        "Die gesetzliche Kündigungsfrist für Mieter beträgt drei Monate.",
        "Hinweis: Abweichende Vereinbarungen zum Nachteil des Mieters sind unwirksam.",
        "Die Kündigung ist spätestens am dritten Werktag zulässig.",
        "§ 573c BGB",  # a quote's footer is its source
        "Kategorie: Mietrecht",  # an article's footer is the article's
    ]
    assert doc.metadata["title"] == "Kündigungsfristen – Kanzlei Weber"


def test_a_page_level_header_with_the_h1_is_the_pages_title_block(tmp_path):
    page = """<html><body>
    <header class="page-header"><h1>Praxis Dr. Novák – Sprechzeiten</h1><p>Stand: Januar 2024</p></header>
    <div class="content"><h2>Vormittags</h2><p>Montag bis Freitag 8–12 Uhr.</p></div>
    <footer><p>Praxis Dr. Novák, Hauptstraße 1, 80331 München</p></footer>
    </body></html>"""
    doc = parse(tmp_path, page)
    assert [(b.kind, doc.block_text(b), b.heading_path) for b in doc.blocks] == [
        ("heading", "Praxis Dr. Novák – Sprechzeiten", ("Praxis Dr. Novák – Sprechzeiten",)),
        ("paragraph", "Stand: Januar 2024", ("Praxis Dr. Novák – Sprechzeiten",)),
        ("heading", "Vormittags", ("Praxis Dr. Novák – Sprechzeiten", "Vormittags")),
        ("paragraph", "Montag bis Freitag 8–12 Uhr.", ("Praxis Dr. Novák – Sprechzeiten", "Vormittags")),
    ]


@pytest.mark.parametrize(
    "body",
    [
        "<header><p>Kanzlei Weber</p><p>Rechtsanwälte in München</p></header>",
        "<footer>© 2024 Kanzlei Weber, Impressum</footer>",
        "<header><p>Kanzlei Weber</p></header><aside>Rechtsanwälte in München</aside>"
        "<footer>© 2024 Kanzlei Weber</footer>",
        '<div id="onetrust-consent-sdk"><p>Wir verwenden Cookies.</p></div>',
    ],
)
def test_a_page_that_is_only_site_parts_still_gives_their_text(tmp_path, body):
    doc = parse(tmp_path, f"<html><body>{body}</body></html>")
    assert "Kanzlei Weber" in doc.text or "Cookies" in doc.text


def test_aria_landmarks_of_the_page_are_dropped_but_not_inside_main(tmp_path):
    page = """<html><body>
    <div role="banner"><span>Clinic logo</span></div>
    <div role="navigation"><a href="/">Home</a> <a href="/x">Services</a></div>
    <form role="search"><label>Search the site</label><input name="q"></form>
    <div role="main">
      <p>Appointments are confirmed by phone.</p>
      <div role="complementary">Bring your insurance card.</div>
    </div>
    <div role="complementary">Latest news: new opening hours</div>
    <div role="contentinfo">Clinic Ltd, registered in Dublin</div>
    </body></html>"""
    assert blocks(parse(tmp_path, page)) == [
        "Appointments are confirmed by phone.",
        "Bring your insurance card.",
    ]


def test_asides_in_main_are_notes_and_footnotes_not_sidebars(tmp_path):
    # docutils writes admonitions and footnotes as <aside> directly in <main>.
    page = """<html><body><main>
    <h1>Lease terms</h1><p>The rent is due monthly.<a href="#f1">1</a></p>
    <aside class="admonition note"><p>Note: late payment costs 5 %.</p></aside>
    <aside class="footnote-list"><aside class="footnote" id="f1"><p>1. Clause 4.2.</p></aside></aside>
    </main><aside class="sidebar">Other documents</aside></body></html>"""
    assert blocks(parse(tmp_path, page)) == [
        "Lease terms",
        "The rent is due monthly.1",
        "Note: late payment costs 5 %.",
        "1. Clause 4.2.",
    ]


@pytest.mark.parametrize(
    "banner",
    [
        '<div id="onetrust-consent-sdk"><div id="onetrust-banner-sdk"><p>We use cookies.</p></div></div>',
        '<div id="CybotCookiebotDialog"><h2>This website uses cookies</h2><p>We use cookies.</p></div>',
        '<div class="cc-window cc-banner"><span>We use cookies.</span></div>',
        '<div id="cookie-law-info-bar"><span>We use cookies.</span></div>',
        '<div class="gdpr-cookie-notice"><p>We use cookies.</p></div>',
        '<dialog open id="cookieConsentDialog"><p>We use cookies.</p></dialog>',
    ],
)
def test_cookie_consent_banners_are_dropped(tmp_path, banner):
    doc = parse(tmp_path, f"<html><body>{banner}<p>Invoice 2024-17 is due on 1 June.</p></body></html>")
    assert doc.text == "Invoice 2024-17 is due on 1 June."


def test_cookie_words_in_content_are_kept(tmp_path):
    page = """<html><body>
    <div class="cookie-recipe"><h1>Butter cookies</h1><p>Bake for 12 minutes.</p></div>
    <div id="cookie-policy"><p>We store a session cookie for 24 hours.</p></div>
    <section class="cookie-consent"><p>You can withdraw your consent at any time.</p></section>
    <main><div class="cookie-banner"><p>This page explains our consent banner.</p></div></main>
    </body></html>"""
    assert blocks(parse(tmp_path, page)) == [
        "Butter cookies",
        "Bake for 12 minutes.",
        "We store a session cookie for 24 hours.",
        "You can withdraw your consent at any time.",  # a section is the page's, whatever its name
        "This page explains our consent banner.",  # inside main: the page's own content
    ]


def test_header_and_footer_inside_sections_belong_to_them(tmp_path):
    page = """<html><body>
    <section><header><h2>Section A</h2><p>Updated 2024</p></header><p>Body A.</p><footer>End of A.</footer></section>
    <figure><img alt=""><figcaption>Floor plan</figcaption><footer>Source: land registry</footer></figure>
    </body></html>"""
    assert blocks(parse(tmp_path, page)) == [
        "Section A",
        "Updated 2024",
        "Body A.",
        "End of A.",
        "Floor plan",
        "Source: land registry",
    ]
