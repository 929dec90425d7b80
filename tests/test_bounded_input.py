"""Bounded work for every input (issue 10, row 1) and type fixes that show a valid value (row 9).

A pasted document is measured once, when it is parsed, with YAML aliases counted every time they are
used: a "billion laughs" paste, a recursive alias or nesting thousands of levels deep is refused with a
short note, and the rest of the message is still answered. Nothing here asserts on wall-clock time: the
bounds are node counts, and that the call returns at all.
"""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bot.extract import classify
from bot.extract.classify import UNCHECKED, UNCHECKED_NOTE, bounded_loader, find_yaml_configs, load_yaml
from bot.extract.jsonblobs import MAX_DEPTH, MAX_NODES, TooBig, Unchecked, find_json, measure
from bot.models import KratosConfig
from bot.render import to_blocks, to_text
from tests.fakeslack import FakeSlack
from tests.test_operations import deliver, http_bot
from tests.test_slack_app import mention

ERROR = '{"error": {"id": "session_inactive", "code": 401, "status": "Unauthorized"}}'


def bomb(width: int = 9, levels: int = 9, mistake: bool = True) -> str:
    """A kratos.yml with a misspelled key (a rule fixes it) and an alias chain of width**levels leaves."""
    lines = ["selfservice:"]
    if mistake:
        lines += ["  flowz:", "    login:", "      ui_url: http://127.0.0.1:4455/login"]
    lines += ["  default_browser_return_url: http://127.0.0.1:4455/", "bomb:"]
    lines.append("  l0: &l0 [" + ",".join(['"x"'] * width) + "]")
    for level in range(1, levels):
        lines.append(f"  l{level}: &l{level} [" + ",".join([f"*l{level - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def expanded_nodes(width: int, levels: int, mistake: bool = True) -> int:
    """What bomb() holds once every alias is expanded: each mapping, key, list and scalar counts one."""
    chain = chains = 1 + width  # l0: the list and its scalars
    for _ in range(1, levels):
        chain = 1 + width * chain
        chains += chain
    selfservice = 9 if mistake else 3  # {flowz: {login: {ui_url: …}}, default_browser_return_url: …}
    return 1 + (1 + selfservice) + (1 + 1 + levels + chains)


def notes(reply) -> list[str]:
    return [line for s in reply.sections if s.title == "Note" for line in s.lines]


def test_alias_bomb_in_a_config_with_a_fixable_mistake_is_refused_with_a_note(triage):
    text = "My kratos.yml does not start:\n\n" + bomb()
    assert len(text.encode()) < 600  # the 537-byte paste, give or take the prose
    reply, turn = triage.triage(text)
    assert UNCHECKED_NOTE in notes(reply)
    assert not any(s.title == "Corrected config" for s in reply.sections)
    rendered = to_text(reply) + json.dumps(to_blocks(reply))
    assert '"x"' not in rendered and len(rendered) < 10_000
    # What is remembered for the thread is the empty stand-in, not the alias graph.
    (config,) = [a for a in turn.artifacts if isinstance(a, KratosConfig)]
    assert config.source == UNCHECKED and config.config == {}


def test_the_bomb_is_measured_in_steps_proportional_to_its_text_not_its_expansion():
    node = yaml.compose(bomb())
    steps = [0]

    def children(n):
        steps[0] += 1
        return classify._node_children(n)

    with pytest.raises(TooBig):
        measure(node, children)
    assert 9**9 > 300_000_000 and steps[0] < 500


def test_bomb_next_to_an_error_still_answers_the_error(triage):
    reply = triage.answer(f"I get this:\n{ERROR}\nand my config is\n\n" + bomb())
    assert "session_inactive" in reply.headline
    assert UNCHECKED_NOTE in notes(reply)


@pytest.mark.parametrize(
    "doc",
    [
        "selfservice: &a\n  flows: *a\n",  # a mapping that contains itself
        "selfservice:\n  allowed_return_urls: &a [*a]\n",  # a list that contains itself
    ],
)
def test_recursive_aliases_are_refused(triage, doc):
    with pytest.raises(TooBig):
        load_yaml(doc)
    reply = triage.answer(doc + ERROR)
    assert "session_inactive" in reply.headline and UNCHECKED_NOTE in notes(reply)


def test_helm_values_with_anchors_within_the_budget_are_still_checked(triage):
    values = (
        "kratos:\n  config:\n    selfservice:\n      flows:\n"
        "        login: &flow\n          ui_url: https://app.example.com/login\n          lifespan: 10m\n"
        "        registration:\n          <<: *flow\n          ui_url: https://app.example.com/registration\n"
        "          enabeld: true\n"
    )
    reply = triage.answer("Helm values:\n\n" + values)
    assert not notes(reply)
    assert any(f.rule == "config-keys" and "enabeld" in f.title for f in reply.findings)
    corrected = next(s.code.code for s in reply.sections if s.title == "Corrected config")
    # The anchor and its merge as the user wrote them, not expanded.
    assert "<<: *flow" in corrected.split("registration:")[1] and corrected.count("lifespan: 10m") == 1


def _nested(kind: str, depth: int) -> str:
    if kind == "yaml-flow":
        return "selfservice:\n  flowz: " + "[" * depth + "]" * depth + "\n"
    if kind == "yaml-block":
        return "selfservice:\n  flowz:\n" + "".join(" " * (i + 4) + f"k{i}:\n" for i in range(depth))
    if kind == "json-array":
        return '{"selfservice": {"flowz": ' + "[" * depth + "]" * depth + "}}\n"
    return '{"a": ' * depth + "1" + "}" * depth + "\n"


@pytest.mark.parametrize("kind", ["yaml-flow", "yaml-block", "json-array", "json-object"])
@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 700, 10_000])
def test_deep_nesting_gets_a_note_and_no_recursion_error(triage, kind, depth):
    if kind == "yaml-block" and depth > 700:
        pytest.skip("10,000 indented lines are cut at MAX_INPUT before any parser sees them")
    reply = triage.answer(ERROR + "\n" + _nested(kind, depth))
    assert "session_inactive" in reply.headline
    assert UNCHECKED_NOTE in notes(reply)


def test_nesting_within_the_budget_is_not_refused():
    def nested(levels: int) -> str:  # `levels` objects around a number: levels + 1 as the budget counts
        return '{"a": ' * levels + "1" + "}" * levels

    (inside,) = find_json(nested(MAX_DEPTH - 1))
    assert isinstance(inside.value, dict)
    (over,) = find_json(nested(MAX_DEPTH))
    assert isinstance(over.value, Unchecked)
    (far_over,) = find_json(nested(MAX_DEPTH + 1))  # past the bracket scanner's own limit
    assert isinstance(far_over.value, Unchecked)


def test_pure_python_yaml_refuses_deep_nesting_without_recursion_error():
    # PyYAML without libyaml composes recursively, one Python frame per level.
    loader = bounded_loader(yaml.SafeLoader)
    with pytest.raises(TooBig):
        load_yaml("selfservice: " + "[" * 5000 + "]" * 5000, loader)
    with pytest.raises(TooBig):
        load_yaml(bomb(), loader)
    assert load_yaml("selfservice:\n  flows: {}\n", loader) == {"selfservice": {"flows": {}}}


def test_a_block_over_the_size_limit_is_noted_not_silently_skipped():
    block = "selfservice:\n  allowed_return_urls:\n" + "".join(
        f"    - https://app{i}.example.com/\n" for i in range(classify.MAX_YAML // 30)
    )
    configs, spans = find_yaml_configs(block)
    assert [c.source for c in configs] == [UNCHECKED] and spans == [(0, len(block))]


def test_a_bomb_in_a_bare_oidc_provider_list_is_noted():
    chain = "".join(f"  l{i}: &l{i} [" + ",".join([f"*l{i - 1}" if i else '"x"'] * 9) + "]\n" for i in range(9))
    configs, _ = find_yaml_configs("- id: github\n  provider: github\n  mapper_url: base64://x\n" + chain)
    assert [c.source for c in configs] == [UNCHECKED]


def test_an_env_value_bomb_stays_a_string():
    env = classify.EnvNames.of({"SELFSERVICE_ALLOWED_RETURN_URLS": "selfservice.allowed_return_urls"})
    line = (
        "SELFSERVICE_ALLOWED_RETURN_URLS=[&a [x,x,x,x,x,x,x,x], &b [*a,*a,*a,*a,*a,*a,*a,*a], "
        + ", ".join(f"&{c} [" + ",".join([f"*{p}"] * 8) + "]" for p, c in zip("bcdefg", "cdefgh", strict=True))
        + "]"
    )
    (config,), _ = classify.find_env_config(line, env)
    assert isinstance(config.config["selfservice"]["allowed_return_urls"], str)


@settings(max_examples=120, deadline=None)
@given(st.integers(1, 12), st.integers(1, 8), st.booleans())
def test_an_alias_chain_is_refused_exactly_when_it_expands_past_the_budget(width, levels, mistake):
    configs, _ = find_yaml_configs(bomb(width, levels, mistake))
    refused = [c.source for c in configs] == [UNCHECKED]
    assert refused == (expanded_nodes(width, levels, mistake) > MAX_NODES)


_leaf = st.one_of(st.integers(), st.text("ab :-#'\"[]{}", max_size=8), st.booleans(), st.none())
_tree = st.recursive(
    _leaf,
    lambda kids: (
        st.lists(kids, max_size=4) | st.dictionaries(st.text("abcxyz_", min_size=1, max_size=6), kids, max_size=4)
    ),
    max_leaves=60,
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_tree, st.booleans(), st.integers(0, 120))
def test_any_pasted_tree_is_checked_or_noted(triage, tree, as_json, wrap):
    # Wrapped `wrap` levels deep under a config root, as YAML or JSON: never an exception, and a note
    # exactly when the document is deeper than the budget.
    doc = tree
    for _ in range(wrap):
        doc = {"x": doc}
    doc = {"selfservice": doc}
    text = json.dumps(doc) if as_json else yaml.safe_dump(doc, width=10_000)
    reply = triage.answer(ERROR + "\n" + text)
    assert "session_inactive" in reply.headline
    assert (UNCHECKED_NOTE in notes(reply)) == (_levels(doc) > MAX_DEPTH)


def _levels(value) -> int:
    """Levels as the budget counts them: a scalar is one, a collection one more than its deepest member."""
    if isinstance(value, dict | list) and value:
        return 1 + max(_levels(v) for v in (value.values() if isinstance(value, dict) else value))
    return 1


# --- row 9: a type fix shows what a valid value looks like ------------------------------------------


def _type_fix(triage, doc: str) -> tuple[str, str]:
    reply = triage.answer("my config:\n\n" + doc)
    (finding,) = [f for f in reply.findings if f.rule == "config-values"]
    corrected = next((s.code.code for s in reply.sections if s.title == "Corrected config"), "")
    return " ".join(finding.fixes), corrected


def test_a_number_where_a_url_belongs_is_not_repeated_as_the_fix(triage):
    fix, corrected = _type_fix(triage, "selfservice:\n  flows:\n    login:\n      ui_url: 42\n")
    assert "ui_url: 42" not in fix and "42" not in fix
    assert "URL" in fix and "https://" in fix
    assert "42" not in corrected  # no corrected copy that swaps one invalid value for another


@pytest.mark.parametrize(
    "doc, wanted",
    [
        ("session:\n  lifespan: 24\n", "`24h`"),  # the default shows the shape: a duration with a unit
        ("log:\n  level: 3\n", "`warning`"),  # an enum: its values
        ("serve:\n  public:\n    port: '4433'\n", "`port: 4433`"),  # the intent is clear: the number itself
        ("selfservice:\n  flows:\n    recovery:\n      enabled: 'yes'\n", "`enabled: true`"),
        ("courier:\n  smtp:\n    from_name: 2024\n", "`from_name: '2024'`"),  # quoted: YAML reads a string
    ],
)
def test_type_fixes_name_a_valid_value(triage, doc, wanted):
    fix, _ = _type_fix(triage, doc)
    assert wanted in fix


def _string_keys(kb) -> list[str]:
    return sorted(
        k for k, r in kb.facts.config_keys.items() if r.get("type") == "string" and "[" not in k and "<" not in k
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_no_type_fix_repeats_the_refused_value(triage, kb, data):
    key = data.draw(st.sampled_from(_string_keys(kb)))
    number = data.draw(st.integers(0, 10**6))
    parts = key.split(".")
    doc = "".join("  " * i + f"{p}:\n" for i, p in enumerate(parts[:-1])) + "  " * (len(parts) - 1)
    doc += f"{parts[-1]}: {number}\n"
    reply = triage.answer(doc)
    fixes = [x for f in reply.findings if f.rule == "config-values" for x in f.fixes]
    assume(fixes)  # a key masked as a secret (`tls.key.base64`) reaches the rules as a string
    # Written back unquoted, the number is the same refused value again.
    assert not any(f"{parts[-1]}: {number}`" in x for x in fixes), fixes


# --- serve: bombs do not hold the workers other events need ----------------------------------------


def test_bomb_events_do_not_delay_the_events_after_them(tmp_path):
    async def scenario():
        async with (
            FakeSlack() as fake,
            http_bot(fake, "memory://", tmp_path) as (events, _, _),
            aiohttp.ClientSession() as http,
        ):
            for i in range(8):
                ts = f"1700000000.{i:06d}"
                assert await deliver(http, events, mention(f"EvBomb{i}", bomb(), ts=ts)) == 200
            for i in range(12):
                ts = f"1700000001.{i:06d}"
                assert await deliver(http, events, mention(f"EvOk{i}", ERROR, ts=ts)) == 200
            # Bounded wait: the old code never answered these while the bombs held every worker thread.
            await fake.wait_for(lambda: len(fake.posts) >= 20, 60)
            answered = {p["thread_ts"] for p in fake.posts if "session_inactive" in json.dumps(p)}
            assert answered == {f"1700000001.{i:06d}" for i in range(12)}
            bombs = [p for p in fake.posts if p["thread_ts"].startswith("1700000000.")]
            assert len(bombs) == 8 and all("too large or too deeply nested" in json.dumps(p) for p in bombs)

    asyncio.run(asyncio.wait_for(scenario(), timeout=90))
