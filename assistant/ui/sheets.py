"""The pages' own style sheets, as templates over the colour keys of style.LIGHT / style.DARK.

A page sets its sheet with `style.use_sheet(widget, name)`, never a literal colour, so that a
theme switch (`style.restyle_tree`) can fill the same template with the other colours.
"""

from __future__ import annotations

# Cards, headings, fit/speed badges: the models page, the model info dialog and the selector.
MODELS = """
#modelCard {{ background: {card}; border: 1px solid {card_border}; border-radius: 8px; }}
#modelCard[state="installed"] {{ background: {card_alt}; }}
#modelTitle {{ font-size: 14px; font-weight: 600; color: {strong}; }}
#modelFacts, #modelSpeed, #modelRam {{ color: {body}; }}
#modelDescription, #hint, #sectionHint {{ color: {muted}; }}
#modelStatus {{ color: {body}; }}
#modelError {{ color: {error}; }}
#pageNotice {{ color: {good}; background: {notice_bg}; border: 1px solid {notice_border}; border-radius: 6px;
              padding: 6px; }}
#sectionHeading {{ font-size: 15px; font-weight: 600; color: {strong}; margin-top: 10px; }}
#pageHeading {{ font-size: 18px; font-weight: 600; color: {strong}; }}
#machineLine {{ color: {body}; }}
QLabel[badge="true"] {{ border-radius: 8px; padding: 1px 8px; font-size: 11px; font-weight: 600; }}
QLabel[tone="good"] {{ background: {good_bg}; color: {good}; }}
QLabel[tone="warn"] {{ background: {warn_bg}; color: {warn}; }}
QLabel[tone="bad"] {{ background: {bad_bg}; color: {bad}; }}
QLabel[tone="info"] {{ background: {info_bg}; color: {info}; }}
QLabel[tone="star"] {{ background: {star_bg}; color: {star}; }}
QLabel[tone="none"] {{ background: transparent; }}
ModelsPage[dropping="true"] #modelsScroll {{ border: 2px dashed {accent}; border-radius: 8px; }}
"""

SELECTOR = MODELS + """
#selectorPopup {{ background: {popup}; border: 1px solid {border}; border-radius: 8px; }}
#selectorCard {{ background: {card_alt}; border: 1px solid {card_border}; border-radius: 8px; }}
#sliderEnd {{ color: {muted}; font-size: 11px; }}
#selectorList {{ border: 1px solid {card_border}; border-radius: 6px; font-size: 12px; }}
#selectorList::item {{ padding: 2px 4px; }}
#selectorList::item:selected {{ background: {selected}; color: {strong}; }}
"""

DOCUMENTS = """
#collectionTitle {{ font-size: 18px; font-weight: 600; color: {strong}; }}
#sectionHeading {{ font-weight: 600; color: {body}; margin-top: 8px; }}
#statusLine {{ color: {strong}; }}
#hint {{ color: {muted}; }}
#nameProblem {{ color: {error}; }}
#progressBox {{ background: {progress_bg}; border: 1px solid {progress_border}; border-radius: 6px; }}
#progressText, #currentFile {{ color: {body}; }}
#collectionsPanel {{ background: {panel}; }}
#collectionList {{ border: none; background: transparent; font-size: 13px; }}
#collectionList::item {{ padding: 6px 8px; border-radius: 6px; }}
#collectionList::item:selected {{ background: {selected}; color: {strong}; }}
DocumentsPage[dropping="true"] #documentsStack {{ border: 2px dashed {accent}; border-radius: 8px; }}
"""

_SMALL_BADGE = "border-radius: 4px; padding: 1px 5px; font-size: 11px;"
# The Sources panel and the source viewer it opens.
SOURCES = """
#sourcesPanel {{ background: {card_alt}; }}
#panelTitle {{ font-size: 14px; font-weight: 600; color: {strong}; }}
#panelQuestion {{ color: {body}; font-style: italic; }}
#panelSummary, #panelTimings {{ color: {soft}; font-size: 11px; }}
#panelAbstain {{ background: {banner}; border: 1px solid {banner_border}; border-radius: 6px; padding: 6px;
                color: {banner_text}; }}
#panelEmpty {{ color: {muted}; padding: 24px; }}
#sourcesScroll, #sourcesList {{ background: transparent; }}
#sourceCard {{ background: {card}; border: 1px solid {card_border}; border-radius: 8px; }}
#sourceCard[selected="true"] {{ border: 1px solid {accent}; background: {accent_bg}; }}
#sourceRank {{ color: {muted}; font-weight: 600; }}
#sourceTitle {{ font-weight: 600; color: {strong}; }}
#sourceHeading, #sourceScores {{ color: {muted}; font-size: 11px; }}
#sourceExcerpt {{ color: {body}; font-size: 12px; }}
#badgeInPrompt {{ background: {good_bg}; color: {good}; SMALL }}
#badgeCited {{ background: {info_bg}; color: {info}; SMALL font-weight: 600; }}
#badgeUnused {{ background: {plain_bg}; color: {muted}; SMALL }}
#viewerNote {{ background: {banner}; color: {banner_text}; padding: 4px; border-radius: 4px; }}
""".replace("SMALL", _SMALL_BADGE)

SHEETS = {"models": MODELS, "selector": SELECTOR, "documents": DOCUMENTS, "sources": SOURCES}
