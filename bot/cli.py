"""kratos-bot: answer Kratos support questions from the terminal, evaluate cases, check knowledge."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from bot.context import MemoryContextStore
from bot.feedback import default_feedback_path
from bot.kb.loader import KnowledgeError, load_knowledge


def _triage(args):
    from bot.pipeline import Triage

    return Triage(load_knowledge(Path(args.knowledge) if args.knowledge else None))


def _render(reply, fmt: str) -> str:
    from bot import render

    return {"text": render.to_text, "mrkdwn": render.to_mrkdwn, "json": render.to_json}[fmt](reply)


def cmd_ask(args) -> int:
    if not args.text and sys.stdin.isatty():
        # Otherwise a bare `kratos-bot ask` looks hung: it is reading the terminal.
        print('Paste the message, then press Ctrl-D (or give it as arguments: kratos-bot ask "…")', file=sys.stderr)
    text = " ".join(args.text) if args.text else sys.stdin.read()
    reply = _triage(args).answer(text, thread="cli")
    print(_render(reply, args.format))
    if args.explain:
        # Why this answer: the decision stage's kind, confidence and reasons (bot/decide.py).
        print(f"\nDECISION {reply.meta.get('decision', '?')} ({reply.confidence})", file=sys.stderr)
        for reason in reply.meta.get("reasons", ()):
            print(f"  - {reason}", file=sys.stderr)
    return 0


def cmd_chat(args) -> int:
    triage = _triage(args)
    for n, line in enumerate(sys.stdin, 1):
        if not line.strip():
            continue
        try:
            text = json.loads(line)["text"]
        except (ValueError, KeyError, TypeError):
            print(f'line {n}: expected a JSON object with "text"', file=sys.stderr)
            return 2
        print(_render(triage.answer(text, thread="chat"), args.format))
        if args.format != "json":
            print("\n" + "-" * 72 + "\n")
    return 0


def cmd_eval(args) -> int:
    from bot.evaluate import detail_table, evaluate_file

    triage = _triage(args)
    results = []
    paths: list[Path] = []
    for name in args.files:
        path = Path(name)
        paths.extend(sorted(path.glob("*.yaml")) if path.is_dir() else [path])
    for path in paths:
        # Each file is its own conversation: a fresh memory, so one case cannot lean on another.
        triage.store = MemoryContextStore()
        results.extend(evaluate_file(path, triage))
    for r in results:
        print(f"{'PASS' if r.ok else 'FAIL'} {r.case}/{r.turn}")
        for p in r.missing:
            print(f"    missing:   {p}")
        for p in r.forbidden:
            print(f"    forbidden: {p}")
        if args.verbose and not r.ok:
            print("    reply:\n" + "\n".join("      " + x for x in r.reply.split("\n")))
    passed = sum(r.ok for r in results)
    if args.detail:
        print(detail_table(results))
    print(f"{passed}/{len(results)} turns passed")
    return 0 if passed == len(results) else 1


def cmd_kb_check(args) -> int:
    try:
        kb = load_knowledge(Path(args.knowledge) if args.knowledge else None)
    except KnowledgeError as exc:
        print(exc, file=sys.stderr)
        return 1
    counts = kb.counts()
    print("knowledge ok: " + ", ".join(f"{v} {k}" for k, v in counts.items()) + f", {len(kb.entries)} entries")
    print(
        f"facts from ory/kratos {kb.facts.commit[:12]}: {len(kb.facts.ui_messages)} UI message ids, "
        f"{len(kb.facts.error_ids)} error ids, {len(kb.facts.reasons)} reasons, "
        f"{len(kb.facts.config_keys)} config keys, {len(kb.facts.endpoints)} endpoints, {len(kb.facts.docs)} doc pages"
    )
    # A reason is reachable when a quote of it leads somewhere: its own entry, or reason_map.yaml's entry.
    own, mapped = len(kb.by_reason), len(kb.reason_entries)
    print(f"reasons reachable: {own + mapped}/{len(kb.facts.reasons)} ({own} own entry, {mapped} mapped)")
    pages, unlinked = docs_coverage(kb)
    print(f"docs pages linked: {len(pages) - len(unlinked)}/{len(pages)} (outside the CLI reference)")
    if args.verbose:
        for url in unlinked:
            print(f"  not linked: {url}")
    return 0


def docs_coverage(kb) -> tuple[list[str], list[str]]:
    """Docs pages outside the CLI reference, and those that no entry links (by page, anchors included)."""
    pages = sorted(url for url in kb.facts.docs if "/cli/" not in url)
    linked = {
        kb.facts.doc_page(url) is not None and url.split("#", 1)[0].rstrip("/")
        for e in kb.entries.values()
        for url in e.docs
    }
    linked = {u.replace("https://www.ory.sh/docs/", "https://www.ory.com/docs/") for u in linked if u}
    return pages, [url for url in pages if url.rstrip("/") not in linked]


def cmd_serve(args) -> int:
    from bot.slack.settings import SettingsError, load_settings

    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"kratos-bot serve: {exc}", file=sys.stderr)
        return 2
    from bot.logs import configure
    from bot.slack.serve import run

    configure(os.environ.get("LOG_LEVEL", "INFO"))
    try:
        run(settings)
    except (KnowledgeError, OSError) as exc:
        # A wrong KRATOS_BOT_KNOWLEDGE or STATE_URL path: one line that names it, not a traceback.
        print(f"kratos-bot serve: cannot start: {exc}", file=sys.stderr)
        return 2
    return 0


def cmd_stats(args) -> int:
    import asyncio

    from bot.feedback import stats
    from bot.state import open_state

    async def read() -> list[dict]:
        state = open_state(args.state, Path(args.file))
        try:
            return await state.records()
        finally:
            await state.close()

    table = stats(asyncio.run(read()))
    if not table:
        print("no answers recorded yet")
        return 0
    columns = (
        ("answered", 8),
        ("unanswered", 10),
        ("helpful", 7),
        ("not_helpful", 11),
        ("handoffs", 8),
        ("resolved", 8),
    )
    print(f"{'entry':<52} " + " ".join(f"{name:>{width}}" for name, width in columns))
    for entry, row in sorted(table.items(), key=lambda kv: -sum(kv[1].values())):
        print(f"{entry:<52} " + " ".join(f"{row[name]:>{width}}" for name, width in columns))
    return 0


def cmd_kb_reload(args) -> int:
    import urllib.error
    import urllib.request

    token = os.environ.get("KRATOS_BOT_ADMIN_TOKEN")
    if not token:
        print("kratos-bot kb reload: KRATOS_BOT_ADMIN_TOKEN is not set", file=sys.stderr)
        return 2
    request = urllib.request.Request(
        args.url.rstrip("/") + "/admin/reload", method="POST", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            print(resp.read().decode())
            return 0
    except urllib.error.HTTPError as exc:
        print(f"reload refused ({exc.code}): {exc.read().decode()}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"cannot reach the bot at {args.url}: {exc}", file=sys.stderr)
        return 1


def cmd_explain(args) -> int:
    from bot.analyze import RULES

    if not args.rule:
        for rule in RULES.values():
            print(f"{rule.id}: {rule.doc.splitlines()[0].split(':', 1)[-1].strip()}")
        return 0
    rule = RULES.get(args.rule)
    if rule is None:
        print(f"no rule {args.rule!r}; known: {', '.join(RULES)}", file=sys.stderr)
        return 2
    print(rule.doc)
    return 0


def cmd_github(args) -> int:
    from bot.github import NO_COMMENT, read_issue, triage_issue

    try:
        raw = sys.stdin.read() if args.file in (None, "-") else Path(args.file).read_text(encoding="utf-8")
    except OSError as exc:
        print(f"kratos-bot github: {exc}", file=sys.stderr)
        return 2
    result = triage_issue(_triage(args), read_issue(raw))
    if args.json:
        print(json.dumps(result.as_dict(), ensure_ascii=False))
    elif result.comment is not None:
        print(result.comment)
    if result.comment is None:
        print(f"kratos-bot github: no comment ({result.why})", file=sys.stderr)
        return NO_COMMENT
    return 0


def cmd_mcp(args) -> int:
    try:
        from bot.mcp_server import serve
    except ImportError as exc:
        print(f"kratos-bot mcp: {exc}; install the extra: pip install 'kratos-support-bot[mcp]'", file=sys.stderr)
        return 2
    serve(_triage(args), args.transport, args.host, args.port)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kratos-bot", description=__doc__)
    parser.add_argument("--knowledge", help="knowledge directory (default: the bundled one)")
    sub = parser.add_subparsers(dest="command", required=True)

    ask = sub.add_parser("ask", help="answer one message (TEXT, or stdin)")
    ask.add_argument("text", nargs="*")
    chat = sub.add_parser("chat", help='answer a thread: JSONL on stdin, one {"text": ...} per line')
    for p in (ask, chat):
        p.add_argument("--format", choices=("text", "mrkdwn", "json"), default="text")
    ask.add_argument("--explain", action="store_true", help="also print why (the decision and its reasons) on stderr")
    ask.set_defaults(func=cmd_ask)
    chat.set_defaults(func=cmd_chat)

    ev = sub.add_parser("eval", help="score case files (expectations YAML) or folders of them")
    ev.add_argument("files", nargs="+")
    ev.add_argument("-v", "--verbose", action="store_true", help="print the reply of failing turns")
    ev.add_argument("--detail", action="store_true", help="pass rate by category and by confidence, and reply lengths")
    ev.set_defaults(func=cmd_eval)

    kb = sub.add_parser("kb", help="knowledge base tools")
    kb_sub = kb.add_subparsers(dest="kb_command", required=True)
    check = kb_sub.add_parser("check", help="validate the knowledge base and print counts")
    check.add_argument("-v", "--verbose", action="store_true", help="also list the docs pages no entry links")
    check.set_defaults(func=cmd_kb_check)
    rl = kb_sub.add_parser("reload", help="ask a running bot to reload its knowledge (admin token required)")
    rl.add_argument(
        "--url",
        default=os.environ.get("KRATOS_BOT_ADMIN_URL", "http://127.0.0.1:8080"),
        help="the bot's health/admin address (HTTP mode: its PORT)",
    )
    rl.set_defaults(func=cmd_kb_reload)

    ex = sub.add_parser("explain", help="print an analyzer rule's documentation (all rules without RULE)")
    ex.add_argument("rule", nargs="?")
    ex.set_defaults(func=cmd_explain)
    sub.add_parser("rules", help="list the analyzer rules, one line each").set_defaults(func=cmd_explain, rule=None)
    sub.add_parser("serve", help="run the Slack app (settings from the environment, see README)").set_defaults(
        func=cmd_serve
    )
    st = sub.add_parser("stats", help="answered / unanswered / helpful / not helpful per knowledge entry")
    st.add_argument(
        "--file",
        default=str(default_feedback_path()),
        help="records file of a memory:// state",
    )
    st.add_argument("--state", default=os.environ.get("STATE_URL", "memory://"), help="STATE_URL of the bot")
    st.set_defaults(func=cmd_stats)

    gh = sub.add_parser("github", help="triage a GitHub issue: a Markdown comment, or exit 3 when there is none")
    gh.add_argument("file", nargs="?", help="issues event JSON, issue JSON, or text, title first (default: stdin)")
    gh.add_argument("--json", action="store_true", help="print the comment, labels and decision as JSON")
    gh.set_defaults(func=cmd_github)
    mcp = sub.add_parser("mcp", help="run the triage as an MCP server (stdio, or streamable HTTP on loopback)")
    mcp.add_argument("--transport", choices=("stdio", "http"), default="stdio")
    mcp.add_argument("--host", default="127.0.0.1", help="HTTP: address to listen on (default loopback only)")
    mcp.add_argument("--port", type=int, default=8000, help="HTTP: port (default 8000); the endpoint is /mcp")
    mcp.set_defaults(func=cmd_mcp)
    return parser


def main(argv: list[str] | None = None) -> int:
    return dispatch(build_parser(), argv)


def dispatch(parser: argparse.ArgumentParser, argv: list[str] | None) -> int:
    """Run the chosen subcommand's `func`; shared with `python -m kbgen`, so both fail the same way."""
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except KnowledgeError as exc:
        print(exc, file=sys.stderr)
        return 1
    except BrokenPipeError:
        # `kratos-bot rules | head`: the reader left; quietly stop writing, as Unix tools do.
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115  (Python flushes stdout again at exit)
        return 0


if __name__ == "__main__":
    sys.exit(main())
