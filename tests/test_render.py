from bot.models import Link, Reply, Section, Snippet
from bot.render import SECTION_LIMIT, to_blocks, to_mrkdwn, to_text


def _reply(**kw):
    base = dict(
        headline="h <b> & c",
        sections=(Section("S", ("- item one", "plain")),),
        links=(Link("https://www.ory.com/docs/x", "X docs"),),
        confidence="high",
        matches=(),
    )
    base.update(kw)
    return Reply(**base)


def test_mrkdwn_escapes_and_links():
    text = to_mrkdwn(_reply())
    assert text.startswith("*h &lt;b&gt; &amp; c*")
    assert "• item one" in text
    assert "<https://www.ory.com/docs/x|X docs>" in text


def test_text_rendering_has_plain_links():
    text = to_text(_reply())
    assert "X docs: https://www.ory.com/docs/x" in text and "- item one" in text


def test_long_code_split_keeps_fences_balanced():
    code = "\n".join(f"line {i} " + "x" * 60 for i in range(200))
    reply = _reply(sections=(Section("Code", (), Snippet("bash", code)),))
    for block in to_blocks(reply):
        if block["type"] == "section":
            body = block["text"]["text"]
            assert len(body) <= SECTION_LIMIT
            assert body.count("```") % 2 == 0


def test_many_sections_capped_at_fifty_blocks():
    reply = _reply(sections=tuple(Section(f"S{i}", ("x",)) for i in range(80)))
    blocks = to_blocks(reply)
    assert len(blocks) == 50 and "cut" in blocks[-1]["text"]["text"]


def test_warning_comes_first():
    reply = _reply(warning="You pasted a live secret")
    assert to_mrkdwn(reply).startswith(":warning:")
    assert to_blocks(reply)[0]["text"]["text"].startswith(":warning:")


def test_long_advice_is_cut_to_what_speaks_to_the_question():
    from bot.compose import _relevant

    fixes = ["Set the lifespan.", "Use a proxy.", "Check the CORS origin.", "Restart.", "Rotate the cookie secret.",
             "Read the logs."]
    picked = _relevant(fixes, "our cookie secret was rotated, what now?", 4)
    assert picked[0] == "Set the lifespan." and "Rotate the cookie secret." in picked and len(picked) == 4
    assert picked == [f for f in fixes if f in picked]  # authored order kept
    assert _relevant(fixes[:3], "anything", 4) == fixes[:3]
