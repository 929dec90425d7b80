"""`python -m kbgen facts|gaps|versions`: rebuild knowledge/facts/ from Kratos' source or the reference data,
compare the knowledge with a release, or date every fact by release. One entry point for the maintainer's
offline work; the bot's own commands, `kb check` and `kb reload` among them, stay in `kratos-bot`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bot.cli import dispatch
from bot.kb.loader import default_knowledge_dir, load_knowledge
from kbgen import kratos_facts, reference, versions
from kbgen.gaps import compare, facts_from_docs, render
from kbgen.gosrc import Unreadable
from kbgen.source import Checkout, SourceError, is_git_repo

PROG = "python -m kbgen"


def _checkout(args) -> Checkout | None:
    try:
        return Checkout(Path(args.kratos_src), args.ref)
    except SourceError as exc:
        print(f"{PROG} {args.command}: {exc}", file=sys.stderr)
        return None


def _facts_dir(args) -> Path:
    return (Path(args.knowledge) if args.knowledge else default_knowledge_dir()) / "facts"


def cmd_facts(args) -> int:
    out = Path(args.out) if args.out else _facts_dir(args)
    if args.shared:
        if args.ref:
            print(f"{PROG} facts: --ref reads a git checkout, not --shared", file=sys.stderr)
            return 2
        docs = reference.write(Path(args.shared), out)
        where = f"({reference.pinned_commit(Path(args.shared))[:12]})"
        _print_counts(f"facts from {args.shared} {where} written to {out}:", docs)
        return 0
    src = _checkout(args)
    if src is None:
        return 2
    try:
        with src:
            docs = kratos_facts.generate(src)
    except (Unreadable, ValueError) as exc:
        print(f"{PROG} facts: cannot read {args.kratos_src}: {exc}", file=sys.stderr)
        return 1
    kratos_facts.write(out, docs)
    where = f"{src.ref} ({src.commit[:12]})" if src.commit else "(no git)"
    _print_counts(f"facts from {args.kratos_src} {where} written to {out}:", docs)
    return 0


def _print_counts(headline: str, docs: dict[str, dict]) -> None:
    print(headline)
    for name, doc in docs.items():
        print(f"  {name}.json: {doc['count']}")


def cmd_gaps(args) -> int:
    kb = load_knowledge(Path(args.knowledge) if args.knowledge else None)
    src = _checkout(args)
    if src is None:
        return 2
    try:
        with src:
            release = facts_from_docs(kratos_facts.generate(src), kb.facts)
    except (Unreadable, ValueError) as exc:
        print(f"{PROG} gaps: cannot read {args.kratos_src}: {exc}", file=sys.stderr)
        return 2
    report = compare(kb, release, src.ref or str(args.kratos_src))
    if args.format == "json":
        print(json.dumps(report.as_dict(), indent=1, ensure_ascii=False))
    else:
        print(render(report, args.limit))
    return 1 if report.failed else 0


def cmd_versions(args) -> int:
    src = Path(args.kratos_src)
    if not is_git_repo(src):
        # Release dates come from tags, so a plain source directory cannot answer.
        print(f"{PROG} versions: not a git repository: {src}", file=sys.stderr)
        return 2
    facts = _facts_dir(args)
    versions.write(src, facts, Path(args.out) if args.out else facts / "versions.json")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    repo_help = "Kratos git repository (bare or clone) or source directory"
    ref_help = "tag, branch or commit to read (default HEAD; git repositories only)"

    fa = sub.add_parser("facts", help="write the fact tables from a Kratos checkout or from ../shared/kratos")
    source = fa.add_mutually_exclusive_group(required=True)
    source.add_argument("--kratos-src", help=repo_help)
    source.add_argument("--shared", help="the reference data (../shared/kratos); also writes docs.json")
    fa.add_argument("--ref", help=ref_help)
    fa.add_argument("--out", help="directory to write the tables to (default: the knowledge's facts/)")
    fa.set_defaults(func=cmd_facts)

    ga = sub.add_parser("gaps", help="compare the knowledge with a Kratos release: missing, stale, renamed")
    ga.add_argument("--kratos-src", required=True, help=repo_help)
    ga.add_argument("--ref", help=ref_help)
    ga.add_argument("--format", choices=("text", "json"), default="text")
    ga.add_argument("--limit", type=int, default=None, help="print at most N lines per section (text format)")
    ga.set_defaults(func=cmd_gaps)

    ve = sub.add_parser("versions", help="write facts/versions.json: the first and last release of every fact")
    ve.add_argument("--kratos-src", required=True, help="Kratos git repository (bare or clone): every release tag")
    ve.add_argument("--out", help="file to write (default: the knowledge's facts/versions.json)")
    ve.set_defaults(func=cmd_versions)

    for p in (fa, ga, ve):
        p.add_argument("--knowledge", help="knowledge directory (default: the checkout's knowledge/)")
    return parser


def main(argv: list[str] | None = None) -> int:
    return dispatch(build_parser(), argv)
