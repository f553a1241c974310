"""axe-core in the browser tests: inject the vendored engine and list serious violations."""

from pathlib import Path
from typing import Any

from playwright.sync_api import Page

AXE_JS = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
BLOCKING = {"serious", "critical"}


def axe_violations(page: Page, *, impacts: set[str] = BLOCKING) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now, of the given impacts (serious, critical)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through the browser's devtools channel, which the page's CSP does not
        # govern; a <script> tag would be refused by the strict policy, as it should be.
        page.evaluate(AXE_JS.read_text(encoding="utf-8"))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"][:5]],
        }
        for v in result["violations"]
        if v.get("impact") in impacts
    ]


def assert_no_serious_violations(page: Page, where: str) -> None:
    """Fail naming each serious or critical axe-core violation on the page."""
    found = axe_violations(page)
    assert not found, f"axe-core on {where}: " + "; ".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {v['nodes']}" for v in found
    )
