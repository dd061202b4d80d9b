"""The pages' words: each key in every language, with the same blanks, and every key the pages use exists."""

from __future__ import annotations

import re
import string

from tests.support.processes import ROOT
from web.i18n import LANGUAGES, table


def test_every_key_has_every_language_with_the_same_blanks():
    for key, texts in table().items():
        assert set(texts) == set(LANGUAGES), key
        blanks = {language: {name for _, name, _, _ in string.Formatter().parse(text) if name}
                  for language, text in texts.items()}
        assert len({frozenset(names) for names in blanks.values()}) == 1, (key, blanks)
        assert all(text.strip() for text in texts.values()), key


def test_every_key_the_pages_use_is_in_the_table():
    used = set()
    for template in (ROOT / "web/templates").glob("*.html"):
        used |= set(re.findall(r"""\bt\(["']([a-z_]+)["']""", template.read_text()))
    script = (ROOT / "web/static/console.js").read_text()
    used |= set(re.findall(r"""\bt\(["']([a-z_]+)["']""", script))
    assert len(used) > 80
    missing = sorted(used - set(table()))
    assert missing == []


def test_no_text_of_a_language_is_written_in_the_script_itself():
    """The console's script takes every word from the table: no Portuguese (nor English UI text) inside it."""
    script = (ROOT / "web/static/console.js").read_text()
    accented = re.findall(r"[\"`][^\"`]*[ãçéíóúâêô][^\"`]*[\"`]", script)
    assert accented == []
    for text in table()["requeue"].values():
        assert f'"{text}"' not in script


def test_every_step_of_a_timeline_has_its_word():
    """The console names a timeline's steps by key (`step_<kind>`), which the scan above cannot see."""
    from shared.messages.timeline import Step

    script = (ROOT / "web/static/console.js").read_text()
    assert "t(`step_${found.step}`)" in script
    missing = sorted(f"step_{kind.value}" for kind in Step if f"step_{kind.value}" not in table())
    assert missing == [] and not {key for key in table() if key.startswith("step_")} - {
        f"step_{kind.value}" for kind in Step}


def test_every_delivery_mode_and_experiment_has_its_proof_explained():
    """The console names a proof's meaning by key: per mode for kill-worker, per experiment else."""
    from shared.core.settings import Delivery
    from shared.messages import proof

    script = (ROOT / "web/static/console.js").read_text()
    assert 't(p.experiment === "kill-worker" ? `prove_says_${p.delivery}` : `prove_says_${p.experiment}`' in script
    wanted = [f"prove_says_{mode.value}" for mode in Delivery] + [
        f"prove_says_{experiment}" for experiment in proof.EXPERIMENTS if experiment != "kill-worker"]
    assert [key for key in wanted if key not in table()] == []
