"""Barrierefreiheit der Berichte: prüft das erzeugte HTML auf das, was Hilfstechnik braucht.

Ohne Browser, nur durch Lesen des HTML und seines Stylesheets: Sprache, Titel, eine
Hauptüberschrift, Überschriften ohne Sprung, Alternativtexte der Grafiken, Tabellenköpfe
mit ``scope``, Tabellenüberschriften, Farbkontrast (WCAG 2.1, mindestens 4,5:1) und keine
Information allein durch Farbe. Jede Regel meldet Befunde mit Element und Grund.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import product
from pathlib import Path

from bs4 import BeautifulSoup, Tag

#: Mindestkontrast für normalen Text nach WCAG 2.1, Erfolgskriterium 1.4.3 (Stufe AA).
MIN_CONTRAST = 4.5
#: Farben, vor denen Text ohne eigenen Hintergrund steht (die Seite ist weiß).
PAGE_BACKGROUND = "#ffffff"
#: Platzhalter, die Werkzeuge einsetzen, wenn niemand einen Alternativtext geschrieben hat.
PLACEHOLDER_ALTS = frozenset(
    {
        "no description has been provided for this image",
        "image",
        "bild",
        "grafik",
        "abbildung",
        "figure",
        "plot",
        "chart",
    }
)
#: Häufige deutsche Wörter: ein Alternativtext ohne eines davon ist kein deutscher Satz.
GERMAN_WORDS = frozenset(
    [
        "der",
        "die",
        "das",
        "den",
        "dem",
        "des",
        "ein",
        "eine",
        "einer",
        "und",
        "oder",
        "mit",
        "von",
        "vom",
        "auf",
        "im",
        "in",
        "am",
        "bei",
        "für",
        "nach",
        "über",
        "unter",
        "ohne",
        "ist",
        "sind",
        "war",
        "waren",
        "lag",
        "lagen",
        "je",
        "gegen",
        "nur",
        "kein",
        "keine",
    ]
)
#: Mindestlänge eines Alternativtexts, der eine Aussage macht (nicht nur ein Etikett).
MIN_ALT_LENGTH = 40
SCOPES = frozenset({"col", "row", "colgroup", "rowgroup"})

RULES = (
    "sprache",
    "titel",
    "hauptueberschrift",
    "ueberschriftenfolge",
    "alternativtext",
    "tabellenkopf",
    "tabellentitel",
    "kontrast",
    "nur-farbe",
)


@dataclass(frozen=True)
class Finding:
    """Ein Verstoß: die Regel, das Element (kurz) und der Grund auf Deutsch."""

    rule: str
    element: str
    reason: str

    def __str__(self) -> str:
        return f"[{self.rule}] {self.element}: {self.reason}"


# --- Farben und Kontrast -------------------------------------------------------------------

_NAMED = {"white": "#ffffff", "black": "#000000"}
_HEX = re.compile(r"^#([0-9a-f]{3}|[0-9a-f]{6})$")
_RGB = re.compile(r"^rgba?\(\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*(?:,\s*([\d.]+)\s*)?\)$")


def parse_colour(value: str) -> tuple[int, int, int] | None:
    """``#036``, ``#003366``, ``rgb(0, 51, 102)``, ``white`` → (r, g, b); sonst ``None``.

    Durchscheinende Farben (``rgba`` mit Alpha unter 1) geben ``None``: ihr Kontrast hängt
    vom Untergrund ab und lässt sich aus dem Stylesheet allein nicht berechnen.
    """
    text = _NAMED.get(value.strip().lower(), value.strip().lower())
    match = _HEX.match(text)
    if match:
        digits = match.group(1)
        if len(digits) == 3:
            digits = "".join(c * 2 for c in digits)
        return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)
    match = _RGB.match(text)
    if match and (match.group(4) is None or float(match.group(4)) >= 1):
        return int(match.group(1)), int(match.group(2)), int(match.group(3))
    return None


def relative_luminance(rgb: tuple[int, int, int]) -> float:
    """Relative Leuchtdichte nach WCAG 2.1 (sRGB linearisiert, 0 = schwarz, 1 = weiß)."""

    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(first: tuple[int, int, int], second: tuple[int, int, int]) -> float:
    """Kontrastverhältnis (L1 + 0,05) / (L2 + 0,05), L1 die hellere Farbe: 1 bis 21."""
    light, dark = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@dataclass(frozen=True)
class CssRule:
    selector: str
    declarations: dict[str, str]


_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)


def css_rules(css: str) -> list[CssRule]:
    """Die Regeln eines Stylesheets als (Selektor, Deklarationen); ``@media``-Blöcke werden
    aufgelöst, ``@page``-Ränder zählen als Regeln mit dem Selektor ``@page …``."""
    text = _COMMENT.sub("", css)
    rules: list[CssRule] = []
    depth, start, selector_stack = 0, 0, []
    for i, char in enumerate(text):
        if char == "{":
            selector_stack.append(text[start:i].strip())
            depth += 1
            start = i + 1
        elif char == "}":
            body = text[start:i]
            selector = selector_stack.pop() if selector_stack else ""
            depth -= 1
            start = i + 1
            declarations = {}
            for part in body.split(";"):
                if ":" in part and "{" not in part:
                    key, value = part.split(":", 1)
                    declarations[key.strip().lower()] = value.strip()
            if declarations and not selector.startswith("@media"):
                rules.append(CssRule(selector, declarations))
    return rules


def _background(declarations: dict[str, str]) -> tuple[int, int, int] | None:
    for key in ("background-color", "background"):
        if key in declarations:
            for token in re.split(r"\s+(?![^(]*\))", declarations[key]):
                colour = parse_colour(token)
                if colour is not None:
                    return colour
    return None


def contrast_findings(css: str, where: str = "Stylesheet") -> list[Finding]:
    """Jede Textfarbe des Stylesheets gegen jeden seiner Hintergründe (und die weiße Seite).

    Streng mit Absicht: Eine graue Fußnote kann in einem farbigen Hinweiskasten stehen; welche
    Paare im Bericht wirklich vorkommen, entscheidet das HTML, nicht das Stylesheet.
    """
    rules = css_rules(css)
    texts: dict[tuple[int, int, int], str] = {}
    backgrounds: dict[tuple[int, int, int], str] = {parse_colour(PAGE_BACKGROUND): "Seite"}  # type: ignore[dict-item]
    for rule in rules:
        if "color" in rule.declarations:
            colour = parse_colour(rule.declarations["color"])
            if colour is not None:
                texts.setdefault(colour, rule.selector)
        background = _background(rule.declarations)
        if background is not None:
            backgrounds.setdefault(background, rule.selector)
    findings = []
    for (fg, fg_rule), (bg, bg_rule) in product(texts.items(), backgrounds.items()):
        ratio = contrast_ratio(fg, bg)
        if ratio < MIN_CONTRAST:
            findings.append(
                Finding(
                    "kontrast",
                    f"{where}: Text „{fg_rule}“ auf Hintergrund „{bg_rule}“",
                    f"Kontrast {_hex(fg)} auf {_hex(bg)} ist {_ratio(ratio)}:1, "
                    f"nötig sind mindestens {_ratio(MIN_CONTRAST)}:1",
                )
            )
    return findings


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def _ratio(value: float) -> str:
    return f"{value:.2f}".replace(".", ",")


# --- Das HTML ------------------------------------------------------------------------------


def _describe(tag: Tag) -> str:
    """Ein Element, wie eine Leserin es im Quelltext wiederfindet: ``<th>Jahr</th>``."""
    text = " ".join(tag.get_text(" ", strip=True).split())
    if tag.name == "img":
        src = str(tag.get("src", ""))
        return f"<img src=„{src[:40]}{'…' if len(src) > 40 else ''}“>"
    if len(text) > 60:
        text = text[:57] + "…"
    return f"<{tag.name}>{text}</{tag.name}>"


def _is_sentence_in_german(text: str) -> bool:
    words = {w.lower() for w in re.findall(r"[A-Za-zÄÖÜäöüß]+", text)}
    return bool(words & GERMAN_WORDS)


def _alt_findings(soup: BeautifulSoup) -> list[Finding]:
    findings = []
    for img in soup.find_all("img"):
        alt = img.get("alt")
        element = _describe(img)
        if alt is None or not str(alt).strip():
            findings.append(Finding("alternativtext", element, "Grafik ohne Alternativtext"))
            continue
        alt = " ".join(str(alt).split())
        if alt.lower().rstrip(".") in PLACEHOLDER_ALTS:
            findings.append(
                Finding("alternativtext", element, f"Platzhalter statt Aussage: „{alt}“")
            )
        elif len(alt) < MIN_ALT_LENGTH:
            findings.append(
                Finding(
                    "alternativtext",
                    element,
                    f"Alternativtext „{alt}“ nennt keine Aussage (kürzer als "
                    f"{MIN_ALT_LENGTH} Zeichen)",
                )
            )
        elif not _is_sentence_in_german(alt):
            findings.append(
                Finding("alternativtext", element, f"Alternativtext „{alt[:60]}“ ist nicht deutsch")
            )
    return findings


def _heading_findings(soup: BeautifulSoup) -> list[Finding]:
    findings = []
    headings = soup.find_all(re.compile(r"^h[1-6]$"))
    h1 = [h for h in headings if h.name == "h1"]
    if len(h1) != 1:
        findings.append(
            Finding(
                "hauptueberschrift",
                ", ".join(_describe(h) for h in h1) or "<body>",
                f"genau eine Hauptüberschrift <h1> nötig, gefunden {len(h1)}",
            )
        )
    level = 0
    for heading in headings:
        this = int(heading.name[1])
        if this > level + 1:
            before = f"<h{level}>" if level else "dem Seitenanfang"
            findings.append(
                Finding(
                    "ueberschriftenfolge",
                    _describe(heading),
                    f"Sprung von {before} auf <{heading.name}>: eine Ebene fehlt",
                )
            )
        level = this
    return findings


def _table_findings(soup: BeautifulSoup) -> list[Finding]:
    findings = []
    for table in soup.find_all("table"):
        caption = table.find("caption")
        if caption is None or not caption.get_text(strip=True):
            findings.append(
                Finding("tabellentitel", _describe(table), "Tabelle ohne Überschrift <caption>")
            )
        headers = table.find_all("th")
        if not headers:
            findings.append(
                Finding("tabellenkopf", _describe(table), "Tabelle ohne Kopfzellen <th>")
            )
        for th in headers:
            if str(th.get("scope", "")).lower() not in SCOPES:
                findings.append(
                    Finding(
                        "tabellenkopf",
                        _describe(th),
                        "Kopfzelle ohne scope (col oder row): unklar, wofür sie gilt",
                    )
                )
    return findings


_STYLE_COLOUR = re.compile(r"(?:^|;)\s*(?:color|background(?:-color)?)\s*:", re.IGNORECASE)


def _colour_only_findings(soup: BeautifulSoup, css: str) -> list[Finding]:
    """Elemente, deren Farbe etwas sagt, die aber keinen Text tragen: ein leeres farbiges
    Kästchen, ein leerer Status. Wer die Farbe nicht sieht, erfährt dort nichts."""
    coloured_classes = set()
    for rule in css_rules(css):
        if "color" in rule.declarations or _background(rule.declarations) is not None:
            for selector in rule.selector.split(","):
                last = selector.strip().split()[-1] if selector.strip() else ""
                coloured_classes.update(re.findall(r"\.([\w-]+)", last))
    findings = []
    body = soup.body or soup
    for tag in body.find_all(True):
        if tag.name in ("img", "svg", "br", "hr", "style", "script"):
            continue
        inline = _STYLE_COLOUR.search(str(tag.get("style", "")))
        classes = set(tag.get("class") or []) & coloured_classes
        if tag.name == "font" and tag.get("color"):
            inline = True
        if not inline and not classes:
            continue
        if tag.get_text(strip=True) or tag.get("aria-label") or tag.get("title"):
            continue
        if any(img.get("alt") for img in tag.find_all("img")):
            continue
        how = "Inline-Farbe" if inline else f"Farbklasse „{', '.join(sorted(classes))}“"
        findings.append(
            Finding(
                "nur-farbe",
                f"<{tag.name} {how}>",
                "Information nur durch Farbe: das Element hat keinen Text, der sie nennt",
            )
        )
    return findings


def check_html(text: str) -> list[Finding]:
    """Alle Befunde einer HTML-Seite (leer: die Seite besteht jede Prüfung)."""
    soup = BeautifulSoup(text, "html.parser")
    findings = []
    html_tag = soup.find("html")
    lang = str(html_tag.get("lang", "")) if isinstance(html_tag, Tag) else ""
    if lang.lower().split("-")[0] != "de":
        findings.append(
            Finding("sprache", "<html>", f"Sprache muss „de“ sein, ist „{lang or 'nicht gesetzt'}“")
        )
    title = soup.find("title")
    if title is None or not title.get_text(strip=True):
        findings.append(Finding("titel", "<head>", "Seite ohne Titel <title>"))
    findings += _heading_findings(soup)
    findings += _alt_findings(soup)
    findings += _table_findings(soup)
    css = "\n".join(style.get_text() for style in soup.find_all("style"))
    findings += contrast_findings(css, "Stylesheet der Seite")
    findings += _colour_only_findings(soup, css)
    return findings


def check_file(path: Path) -> list[Finding]:
    """Befunde einer HTML-Datei."""
    return check_html(path.read_text(encoding="utf-8"))
