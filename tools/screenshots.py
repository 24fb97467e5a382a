"""Bildschirmfotos der Berichte und axe-core-Prüfung im selben Browser (``make screenshots``).

Öffnet die Übersicht (``index.html``, auch die interne) und einen Bericht jeder Art aus dem
Katalog in Chromium ohne Fenster, speichert je ein PNG (erster Bildschirm, 1280 × 2000) und
eine ganze Seite, und lässt axe-core (aus npm, lokal unter ``build/axe``) die Seite prüfen.
Verstöße werden auf Deutsch ausgegeben, der Rückgabewert ist dann 1. Fehlt Chromium, sagt
das Werkzeug es und endet mit 0: diese Prüfung ist eine Ergänzung, kein Teil von ``make test``.

Chromium wird über ``--remote-debugging-pipe`` gesteuert (Chrome DevTools Protocol über die
Dateideskriptoren 3 und 4): kein Netzwerkport, kein zusätzliches Python-Paket.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from analysis.config import load_config  # noqa: E402
from analysis.reporting.catalogue import REPORTS  # noqa: E402

WIDTH, HEIGHT = 1280, 2000
#: Höchste Höhe der Ganzseitenaufnahme (längere Berichte werden abgeschnitten).
FULL_PAGE_MAX = 12000
#: WCAG 2.1 A und AA plus die bewährten Praktiken von axe.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
IMPACT_DE = {"critical": "kritisch", "serious": "schwer", "moderate": "mittel", "minor": "gering"}
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")


class Browser:
    """Chromium ohne Fenster, gesteuert über das DevTools-Protokoll auf einer Pipe."""

    def __init__(self, executable: str, timeout: float = 60.0) -> None:
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="fh-chromium-")
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        # Chromium reads commands on fd 3 and answers on fd 4. Lift the child's ends above
        # 10 first, so placing them on 3 and 4 cannot overwrite one with the other.
        high_r = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD_CLOEXEC, 10)
        high_w = fcntl.fcntl(from_browser_w, fcntl.F_DUPFD_CLOEXEC, 10)
        for fd in (to_browser_r, from_browser_w):
            os.close(fd)

        def place_pipes() -> None:
            os.dup2(high_r, 3)  # dup2 leaves the copies open across exec
            os.dup2(high_w, 4)

        self.process = subprocess.Popen(
            [
                executable,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                f"--user-data-dir={self.profile}",
                "--remote-debugging-pipe",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            close_fds=False,
            preexec_fn=place_pipes,
        )
        os.close(high_r)
        os.close(high_w)
        self._buffer = b""
        self._next_id = 0

    def _send(self, method: str, params: dict[str, Any] | None, session: str | None) -> int:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        return self._next_id

    def _receive(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_browser], [], [], left)[0]:
                raise TimeoutError("Chromium antwortet nicht")
            chunk = os.read(self._from_browser, 1 << 20)
            if not chunk:
                raise ConnectionError("Chromium wurde beendet")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method: str, params: dict[str, Any] | None = None, session: str | None = None):
        """Einen Befehl senden und auf seine Antwort warten (Ereignisse dazwischen verwerfen)."""
        wanted = self._send(method, params, session)
        deadline = time.monotonic() + self.timeout
        while True:
            message = self._receive(deadline)
            if message.get("id") == wanted:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error'].get('message')}")
                return message.get("result", {})

    def evaluate(self, session: str, expression: str, awaited: bool = False) -> Any:
        result = self.call(
            "Runtime.evaluate",
            {"expression": expression, "awaitPromise": awaited, "returnByValue": True},
            session,
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise RuntimeError(f"Fehler im Browser: {text}")
        return result.get("result", {}).get("value")

    def open(self, url: str) -> str:
        """Eine Seite in einem neuen Tab laden; gibt die Sitzung des Tabs zurück."""
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False},
            session,
        )
        self.call("Page.navigate", {"url": url}, session)
        deadline = time.monotonic() + self.timeout
        while self.evaluate(session, "document.readyState") != "complete":
            if time.monotonic() > deadline:
                raise TimeoutError(f"Seite lädt nicht: {url}")
            time.sleep(0.1)
        return session

    def screenshot(self, session: str, target: Path, full_page: bool) -> None:
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            height = self.evaluate(session, "document.documentElement.scrollHeight") or HEIGHT
            params["captureBeyondViewport"] = True
            params["clip"] = {
                "x": 0,
                "y": 0,
                "width": WIDTH,
                "height": min(int(height), FULL_PAGE_MAX),
                "scale": 1,
            }
        data = self.call("Page.captureScreenshot", params, session)["data"]
        target.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        with contextlib.suppress(OSError, TimeoutError, ConnectionError, RuntimeError):
            self.call("Browser.close")
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)
        shutil.rmtree(self.profile, ignore_errors=True)


def pages_to_check(reports_dir: Path) -> list[tuple[str, Path]]:
    """Die Übersichten und je Berichtsart aus dem Katalog der erste gefundene Bericht."""
    pages = []
    for name, path in (
        ("index", reports_dir / "index.html"),
        ("intern-index", reports_dir / "intern" / "index.html"),
    ):
        if path.is_file():
            pages.append((name, path))
    for name in REPORTS:
        found = sorted(reports_dir.rglob(f"{name}.html"))
        if found:
            pages.append((name, found[0]))
    return pages


def axe_run(browser: Browser, session: str, axe_dir: Path) -> list[dict[str, Any]]:
    """axe-core in die geladene Seite bringen, auf Deutsch stellen und prüfen lassen."""
    browser.evaluate(session, (axe_dir / "axe.min.js").read_text(encoding="utf-8"))
    locale = axe_dir / "locales" / "de.json"
    if locale.is_file():
        browser.evaluate(
            session, f"axe.configure({{locale: {locale.read_text(encoding='utf-8')}}})"
        )
    options = json.dumps(
        {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]}
    )
    result = browser.evaluate(
        session,
        f"axe.run(document, {options}).then(r => JSON.stringify(r.violations))",
        awaited=True,
    )
    return json.loads(result)


def describe(violation: dict[str, Any]) -> str:
    impact = IMPACT_DE.get(violation.get("impact") or "", violation.get("impact") or "?")
    nodes = violation.get("nodes", [])
    targets = ", ".join(" ".join(map(str, n.get("target", []))) for n in nodes[:3])
    more = f" und {len(nodes) - 3} weitere" if len(nodes) > 3 else ""
    return (
        f"  {violation['id']} ({impact}): {violation.get('help', '')} – "
        f"{len(nodes)} Element(e): {targets}{more}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--berichte", type=Path, help="Berichtsordner (Standard: Konfiguration)")
    parser.add_argument("--ziel", type=Path, default=ROOT / "build" / "bildschirmfotos")
    parser.add_argument(
        "--axe", type=Path, default=ROOT / "build" / "axe" / "node_modules" / "axe-core"
    )
    parser.add_argument("--chromium", help="Pfad zu Chromium (Standard: aus PATH)")
    args = parser.parse_args(argv)

    executable = args.chromium or next(filter(None, map(shutil.which, CHROMIUM_NAMES)), None)
    if not executable:
        print("Chromium ist nicht installiert – keine Bildschirmfotos und keine axe-Prüfung.")
        return 0
    if not (args.axe / "axe.min.js").is_file():
        print(f"axe-core fehlt unter {args.axe} (make screenshots installiert es mit npm).")
        return 2
    reports_dir = (args.berichte or load_config().reports_dir).resolve()
    pages = pages_to_check(reports_dir)
    if not pages:
        print(f"Keine Berichte unter {reports_dir} – erst „make berichte“ ausführen.")
        return 2
    args.ziel.mkdir(parents=True, exist_ok=True)
    version = json.loads((args.axe / "package.json").read_text(encoding="utf-8"))["version"]
    print(f"axe-core {version} in {executable}; Regeln: {', '.join(AXE_TAGS)}")
    browser = Browser(executable)
    total = 0
    try:
        for name, path in pages:
            session = browser.open(path.as_uri())
            browser.screenshot(session, args.ziel / f"{name}.png", full_page=False)
            browser.screenshot(session, args.ziel / f"{name}-ganz.png", full_page=True)
            violations = axe_run(browser, session, args.axe)
            total += len(violations)
            where = path.relative_to(reports_dir)
            if violations:
                print(f"{where}: {len(violations)} Verstoß/Verstöße")
                for violation in violations:
                    print(describe(violation))
            else:
                print(f"{where}: keine Verstöße")
    finally:
        browser.close()
    print(f"Bildschirmfotos: {args.ziel}")
    if total:
        print(f"axe-core fand {total} Verstoß/Verstöße.")
        return 1
    print("axe-core fand keine Verstöße.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
