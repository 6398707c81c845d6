"""Every audit action reads ``<module>.<noun>.<verb>`` (``payments.order.paid``), so the trail
can be filtered by module, by noun or by verb alike."""

import re
from pathlib import Path

ACTION = re.compile(r"^[a-z_]+\.[a-z_]+\.[a-z_]+$")
WRITTEN = re.compile(r'action=f?"([^"]+)"')


def test_every_action_the_code_records_has_three_parts():
    root = Path(__file__).resolve().parents[2]
    actions = {
        match
        for path in (root / "apps").rglob("*.py")
        for match in WRITTEN.findall(path.read_text())
        if match != "store_true"  # argparse, in management commands
    }
    placeholders = {
        re.sub(r"\{[^}]+\}", "x", action.replace("{sender._meta.label_lower}", "app.model"))
        for action in actions
    }
    assert len(actions) > 20
    assert sorted(a for a in placeholders if not ACTION.match(a)) == []
