"""pages/template_lookup.py: dict items looked up first renders exactly what Jinja renders."""

from __future__ import annotations

from collections import OrderedDict
from types import SimpleNamespace

import pytest
from jinja2 import Environment, StrictUndefined, UndefinedError

from pages.template_lookup import look_up_dict_items_first

TEMPLATE = ("{{ s.nom }}|{{ s.items|length if s.items is string else s['items'] }}|"
            "{{ s.get('nom') }}|{% for k, v in s.items() %}{{ k }}={{ v }};{% endfor %}|"
            "{{ s.absent is defined }}|{{ o.nom }}|{{ od.nom }}|{{ s.values is callable }}")
VALUES = {"s": {"nom": "Médiathèque <b>", "items": "liste", "values": 3},
          "o": SimpleNamespace(nom="objet"), "od": OrderedDict(nom="ordonné")}


def render(environment: Environment) -> str:
    return environment.from_string(TEMPLATE).render(**VALUES)


def test_the_same_text_as_jinjas_own_lookup():
    plain, fast = Environment(autoescape=True), Environment(autoescape=True)
    look_up_dict_items_first(fast)
    look_up_dict_items_first(fast)  # once is enough; twice changes nothing
    assert render(fast) == render(plain)
    assert "Médiathèque &lt;b&gt;" in render(fast)
    assert render(fast).endswith("|True")  # s.values is still dict's method


def test_a_missing_key_is_still_undefined():
    environment = Environment(undefined=StrictUndefined)
    look_up_dict_items_first(environment)
    with pytest.raises(UndefinedError):
        environment.from_string("{{ s.absent }}").render(s={"nom": "x"})
