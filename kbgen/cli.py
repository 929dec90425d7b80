"""`python -m kbgen facts|gaps`: rebuild the fact tables from a Kratos checkout, or compare the knowledge with
a release. One entry point for the maintainer's offline work; the bot's own commands stay in `kratos-bot`."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from bot.kb.loader import KnowledgeError, default_knowledge_dir, load_knowledge
from kbgen.gaps import compare, facts_from_docs, render
from kbgen.gosrc import Unreadable
from kbgen.kratos_facts import generate, write
from kbgen.source import Checkout, SourceError

PROG = "python -m kbgen"


def _checkout(args) -> Checkout | None:
    try:
        return Checkout(Path(args.kratos_src), args.ref)
    except SourceError as exc:
        print(f"{PROG} {args.command}: {exc}", file=sys.stderr)
        return None


def cmd_facts(args) -> int:
    knowledge = Path(args.knowledge) if args.knowledge else default_knowledge_dir()
    out = Path(args.out) if args.out else knowledge / "facts"
    src = _checkout(args)
    if src is None:
        return 2
    try:
        with src:
            docs = generate(src)
    except (Unreadable, ValueError) as exc:
        print(f"{PROG} facts: cannot read {args.kratos_src}: {exc}", file=sys.stderr)
        return 1
    write(out, docs)
    where = f"{src.ref} ({src.commit[:12]})" if src.commit else "(no git)"
    print(f"facts from {args.kratos_src} {where} written to {out}:")
    for name, doc in docs.items():
        print(f"  {name}.json: {doc['count']}")
    return 0


def cmd_gaps(args) -> int:
    kb = load_knowledge(Path(args.knowledge) if args.knowledge else None)
    src = _checkout(args)
    if src is None:
        return 2
    try:
        with src:
            release = facts_from_docs(generate(src), kb.facts)
    except (Unreadable, ValueError) as exc:
        print(f"{PROG} gaps: cannot read {args.kratos_src}: {exc}", file=sys.stderr)
        return 2
    report = compare(kb, release, src.ref or str(args.kratos_src))
    if args.format == "json":
        print(json.dumps(report.as_dict(), indent=1, ensure_ascii=False))
    else:
        print(render(report, args.limit))
    return 1 if report.failed else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    fa = sub.add_parser("facts", help="generate the fact tables from a Kratos source checkout")
    ga = sub.add_parser("gaps", help="compare the knowledge with a Kratos release: missing, stale, renamed")
    for p in (fa, ga):
        p.add_argument("--knowledge", help="knowledge directory (default: the checkout's knowledge/)")
        p.add_argument("--kratos-src", required=True, help="Kratos git repository (bare or clone) or source directory")
        p.add_argument("--ref", help="tag, branch or commit to read (default HEAD; git repositories only)")
    fa.add_argument("--out", help="directory to write the tables to (default: the knowledge's facts/)")
    fa.set_defaults(func=cmd_facts)
    ga.add_argument("--format", choices=("text", "json"), default="text")
    ga.add_argument("--limit", type=int, default=None, help="print at most N lines per section (text format)")
    ga.set_defaults(func=cmd_gaps)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KnowledgeError as exc:
        print(exc, file=sys.stderr)
        return 1
    except BrokenPipeError:
        # `gaps | head`: the reader left; stop writing quietly.
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115  (Python flushes stdout again at exit)
        return 0
