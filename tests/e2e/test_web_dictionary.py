"""The UI dictionary: every Swedish text has its English counterpart, with the same placeholders,
and every key the client asks for exists."""

from __future__ import annotations

import re
from pathlib import Path

WEB = Path(__file__).resolve().parents[2] / "services" / "gateway" / "src" / "gateway" / "web"
ENTRY = re.compile(r"^\s*'([^']+)':\s*(['\"])(.*)\2,\s*$")


def dictionary(name: str) -> dict[str, str]:
    text = (WEB / "js" / "i18n.js").read_text()
    body = text.split(f"const {name} = {{", 1)[1].split("\n};", 1)[0]
    return {m.group(1): m.group(3) for line in body.splitlines() if (m := ENTRY.match(line))}


def test_both_languages_have_the_same_texts_when_dictionary_is_read():
    sv, en = dictionary("sv"), dictionary("en")
    assert len(sv) > 100
    assert sorted(set(sv) ^ set(en)) == []
    for key in sv:
        assert set(re.findall(r"\{\w+\}", sv[key])) == set(re.findall(r"\{\w+\}", en[key])), key


def test_every_literal_key_used_by_the_client_exists_when_code_is_scanned():
    known = set(dictionary("sv"))
    used = set()
    for path in (WEB / "js").rglob("*.js"):
        used |= set(re.findall(r"\bt\('([a-z_]+\.[a-z_.]+)'", path.read_text()))
    assert used, "no keys found: has the t() call changed?"
    assert sorted(used - known) == []
