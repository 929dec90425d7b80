from bot.normalize import normalize, prose


def test_slack_autolink_label_wins():
    assert normalize('"<http://ory.sh/kratos|ory.sh/kratos>": {}').text == '"ory.sh/kratos": {}'


def test_mailto_and_bare_links_unwrapped():
    n = normalize('"email": "<mailto:a@b.co|a@b.co>" see <https://www.ory.sh/kratos/docs/fallback/settings?flow=1>')
    assert n.text == '"email": "a@b.co" see https://www.ory.sh/kratos/docs/fallback/settings?flow=1'
    assert n.mangled_links == 2


def test_handmade_link_keeps_label_and_url():
    assert normalize("<https://example.com/x|the docs>").text == "the docs (https://example.com/x)"


def test_bot_mention_removed_other_mentions_kept():
    assert normalize("<@UBOT> hi <@U2|alice>", bot_user_id="UBOT").text == "hi @alice"


def test_entities_decoded_after_links():
    assert normalize("a &lt;b&gt; &amp;&amp; <http://x.io>").text == "a <b> && http://x.io"


def test_smart_quotes_nbsp_and_fences():
    n = normalize("```json\n{\u201cerror\u201d:\u00a0{}}\n```")
    assert n.text == '{"error": {}}'


def test_mangled_ory_key_flag():
    assert normalize('"<http://ory.sh/kratos|ory.sh/kratos>": {}').mangled_ory_key
    assert not normalize('"ory.sh/kratos": {}').mangled_ory_key


def test_binary_bytes_dropped():
    n = normalize("ok\x00\x01\x02 text")
    assert n.binary and n.text == "ok text"


def test_prose_joins_split_lines():
    assert prose("how can i call the next step in\nredirect_browser_to\nusing ajax?") == (
        "how can i call the next step in redirect_browser_to using ajax?"
    )
