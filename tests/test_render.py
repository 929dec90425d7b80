from bot.models import Link, Reply, Section, Snippet
from bot.render import SECTION_LIMIT, to_blocks, to_github_markdown, to_mrkdwn, to_text


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

    fixes = [
        "Set the lifespan.",
        "Use a proxy.",
        "Check the CORS origin.",
        "Restart.",
        "Rotate the cookie secret.",
        "Read the logs.",
    ]
    picked = _relevant(fixes, "our cookie secret was rotated, what now?", 4)
    assert picked[0] == "Set the lifespan." and "Rotate the cookie secret." in picked and len(picked) == 4
    assert picked == [f for f in fixes if f in picked]  # authored order kept
    assert _relevant(fixes[:3], "anything", 4) == fixes[:3]


def test_one_line_code_longer_than_the_limit_is_cut():
    from bot.render import CODE_LIMIT

    minified = '{"a":' + "1," * 5000 + '"z":0}'  # a minified JSON paste: no line breaks at all
    body = to_mrkdwn(_reply(sections=(Section("Schema", (), Snippet("json", minified)),)))
    code = body.split("```\n", 1)[1].split("\n```", 1)[0]
    assert len(code) <= CODE_LIMIT + 60 and "cut here" in code


def test_one_long_paragraph_keeps_what_fits_after_the_headline():
    from bot.render import TEXT_LIMIT

    paragraph = "word " * 12_000  # one paragraph, no blank line after the headline's
    body = to_mrkdwn(_reply(sections=(Section("What it means", (paragraph,)),)))
    assert len(body) <= TEXT_LIMIT + 40 and body.endswith("_(answer cut to fit Slack)_")
    assert body.count("word") > 5_000  # not everything after the headline dropped


def test_cut_inside_a_code_block_closes_it():
    from bot.render import TEXT_LIMIT

    code = "\n".join("x" * 100 for _ in range(500))
    sections = (Section("S", ("y " * 18_000,)), Section("Config", (), Snippet("yaml", code)))
    body = to_mrkdwn(_reply(sections=sections))
    assert len(body) <= TEXT_LIMIT + 40 and body.count("```") % 2 == 0


def test_github_markdown_keeps_placeholders_and_fences():
    reply = Reply(
        headline="Send `<flow-id>` to <flow-id>",
        sections=(Section("Config", ("- a & b",), Snippet("yaml", "a: 1\n```\nb: 2")),),
        links=(),
        confidence="high",
        matches=(),
    )
    text = to_github_markdown(reply)
    assert text.startswith("### Send `<flow-id>` to &lt;flow-id>")
    assert "- a &amp; b" in text and "````yaml\na: 1\n```\nb: 2\n````" in text


def test_github_markdown_cut_inside_a_code_block_closes_it():
    from bot.render import GITHUB_LIMIT

    # Blank lines in the code: the cut falls inside a block (after a paragraph break), whose fence is longer
    # than the backticks in it.
    code = "\n\n".join("x" * 100 for _ in range(150)) + "\n```"
    sections = tuple(Section(f"S{i}", (), Snippet("yaml", code)) for i in range(6))
    body = to_github_markdown(_reply(sections=sections))
    assert GITHUB_LIMIT // 2 < len(body) <= GITHUB_LIMIT + 40
    assert body.endswith("````\n\n_(answer cut to fit GitHub)_")
