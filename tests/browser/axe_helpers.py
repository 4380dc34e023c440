"""axe-core in the browser tests: every page state a test photographs is checked for serious problems.

axe-core is vendored (tests/browser/vendor/axe-core, from `npm pack axe-core`), never loaded from a CDN.
"""

from pathlib import Path

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
# What fails a test: problems that keep someone from using the page, not advice.
BLOCKING = frozenset({"serious", "critical"})


def violations(page) -> list[dict]:
    """axe's serious and critical violations on the page as it stands."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE))
    found = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    return [v for v in found if v["impact"] in BLOCKING]


def describe(found: list[dict]) -> str:
    """One line per violation and per element, to read in a failed assertion."""
    lines = []
    for violation in found:
        lines.append(f"{violation['impact']}: {violation['id']}: {violation['help']}")
        lines.extend(f"    {node['target']}: {node['failureSummary']}" for node in violation["nodes"][:5])
    return "\n".join(lines)


def assert_accessible(page, state: str) -> None:
    """No serious or critical axe violation on this page state."""
    found = violations(page)
    assert not found, f"axe on {state} ({page.url}):\n{describe(found)}"
