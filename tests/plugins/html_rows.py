"""
Read the Vimmerse page back the way a browser would: parse the HTML, never match it as text.

:func:`read_page` returns each ``tr.vimmerse-job`` as a :class:`PageRow` (its data attributes, the
text of its value elements, the sources of its players, its links), plus the page's inline style,
script and empty-state text. Parsing (rather than searching the markup) makes the escaping tests
meaningful: a value that broke out of its attribute or element would not come back intact.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

#: Classes of the elements holding one value each.
VALUE_CLASSES = (
    "dag-id",
    "task-id",
    "run-id",
    "kind",
    "status",
    "progress",
    "credits",
    "map-index",
    "title",
    "message",
)


@dataclass
class PageRow:
    """One ``tr.vimmerse-job`` of the page."""

    attrs: dict[str, str]
    values: dict[str, str] = field(default_factory=dict)
    videos: list[dict[str, str]] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    audios: list[str] = field(default_factory=list)
    links: dict[str, dict[str, str]] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)


@dataclass
class Page:
    """The parsed page."""

    rows: list[PageRow]
    styles: list[str]
    scripts: list[str]
    empty: str | None
    tags: list[str]


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[PageRow] = []
        self.styles: list[str] = []
        self.scripts: list[str] = []
        self.empty: str | None = None
        self.tags: list[str] = []
        self._row: PageRow | None = None
        self._capture: tuple[str, str] | None = None  # (class, closing tag)
        self._text: list[str] = []
        self._raw: str | None = None  # "style" or "script" while inside one

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        classes = attributes.get("class", "").split()
        self.tags.append(tag)
        if tag in ("style", "script"):
            self._raw, self._text = tag, []
            return
        if tag == "tr" and "vimmerse-job" in classes:
            self._row = PageRow(attrs=attributes)
            self.rows.append(self._row)
            return
        if tag == "p" and "empty" in classes:
            self._capture, self._text = ("empty", "p"), []
            return
        row = self._row
        if row is None:
            return
        row.tags.append(tag)
        if tag == "video":
            row.videos.append(attributes)
        elif tag == "img":
            row.images.append(attributes.get("src", ""))
        elif tag == "audio":
            row.audios.append(attributes.get("src", ""))
        elif tag == "a" and classes:
            row.links[classes[0]] = attributes
        value_class = next((name for name in classes if name in VALUE_CLASSES), None)
        if value_class and self._capture is None:
            self._capture, self._text = (value_class, tag), []

    def handle_endtag(self, tag: str) -> None:
        if self._raw == tag:
            (self.styles if tag == "style" else self.scripts).append("".join(self._text))
            self._raw = None
            return
        if tag == "tr":
            self._row = None
        if self._capture and self._capture[1] == tag:
            name, text = self._capture[0], "".join(self._text)
            if name == "empty":
                self.empty = text
            elif self._row is not None:
                self._row.values[name] = text
            self._capture = None

    def handle_data(self, data: str) -> None:
        if self._raw or self._capture:
            self._text.append(data)


def read_page(html: str) -> Page:
    """
    Parse the Vimmerse page.

    :param html: the page as served
    """
    reader = _Reader()
    reader.feed(html)
    reader.close()
    return Page(rows=reader.rows, styles=reader.styles, scripts=reader.scripts, empty=reader.empty, tags=reader.tags)
