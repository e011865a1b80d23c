"""Reading pages the way a person (or a screen reader) would: grids by their accessible name,
cells by their text, elements by id — with the standard library's HTML parser."""

from __future__ import annotations

from html.parser import HTMLParser


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.grids: dict[str, list[list[str]]] = {}
        self.texts: dict[str, list[str]] = {}
        self.attrs_by_id: dict[str, dict[str, str]] = {}
        self._stack: list[tuple[str, dict[str, str]]] = []
        self._grid: str | None = None
        self._grid_depth = 0
        self._cell: list[str] | None = None
        self._open_ids: list[tuple[int, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self._stack.append((tag, a))
        depth = len(self._stack)
        if "id" in a:
            self.attrs_by_id[a["id"]] = {"tag": tag, **a}
            self.texts[a["id"]] = []
            self._open_ids.append((depth, a["id"]))
        if a.get("role") == "grid":
            self._grid, self._grid_depth = a.get("aria-label", ""), depth
            self.grids[self._grid] = []
        elif a.get("role") == "row" and self._grid is not None:
            self.grids[self._grid].append([])
        elif a.get("role") == "gridcell" and self._grid is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        depth = len(self._stack)
        if self._cell is not None and self._stack and self._stack[-1][1].get("role") == \
                "gridcell":
            self.grids[self._grid][-1].append("".join(self._cell).strip())
            self._cell = None
        if self._grid is not None and depth == self._grid_depth:
            self._grid = None
        while self._open_ids and self._open_ids[-1][0] >= depth:
            self._open_ids.pop()
        if self._stack:
            self._stack.pop()

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        for _, ident in self._open_ids:
            self.texts[ident].append(data)


class Page:
    """A parsed page or fragment."""

    def __init__(self, html: str) -> None:
        parser = _Page()
        parser.feed(html)
        self.grids = parser.grids
        self._texts = parser.texts
        self.attrs = parser.attrs_by_id

    def grid(self, label: str) -> list[list[str]]:
        return self.grids[label]

    def text(self, element_id: str) -> str:
        return " ".join("".join(self._texts[element_id]).split())

    def numbers(self, label: str) -> list[list[float | None]]:
        return [[float(c) if c else None for c in row] for row in self.grid(label)]
