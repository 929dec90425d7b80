"""Benchmark: prints one table, each row with the figure, the target and whether it is met.

    python bench/bench.py            # full run (about a minute; the HTTP load phase alone takes 30 s)
    python bench/bench.py --quick    # shorter load phase, fewer repetitions (a smoke run)

Rows: triage latency (normalize → compose, no network) over the seed thread, tests/cases and synthetic
pastes of 10 KB, 100 KB and 1 MB; throughput on one core; the same corpus against the knowledge base
grown ×10 and ×50; start-up time and peak RSS; HTTP mode under load on loopback against the fake Slack;
and a naive baseline (fuzzy-matching every message against every entry's text).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import platform
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rapidfuzz import fuzz  # noqa: E402

from bot.kb.loader import Entry, KnowledgeBase, load_knowledge  # noqa: E402
from bot.pipeline import Triage  # noqa: E402


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def corpus() -> list[str]:
    import yaml

    texts: list[str] = []
    seed = ROOT.parent / "shared" / "seed" / "expectations.yaml"
    if seed.is_file():
        texts += [t["text"] for t in yaml.safe_load(seed.read_text())["thread"]]
    for path in sorted((ROOT / "tests" / "cases").glob("*.yaml")):
        doc = yaml.safe_load(path.read_text())
        for turn in doc.get("thread") or doc.get("turns") or []:
            texts.append(turn["text"] if isinstance(turn, dict) else str(turn))
    return texts


def synthetic(size: int, rng: random.Random) -> str:
    """A realistic big paste: an error, a curl, a flow JSON padded with log lines to `size` bytes."""
    head = (
        '{"error": {"id": "browser_location_change_required", "code": 422, "reason": "In order to complete this '
        "flow please redirect the browser to: https://www.ory.sh/kratos/docs/fallback/settings?flow="
        "415c3bbb-dc57-49d1-aba3-9b6cc4ea2cd4\"}}\ncurl -X POST 'http://127.0.0.1:4433/self-service/recovery?"
        'flow=fdae3164-6602-4921-961d-2be6ae915323\' --data \'{"method": "code", "code": "123456"}\'\n'
    )
    lines = [head]
    total = len(head)
    while total < size:
        line = (
            f'time=2026-08-01T10:{rng.randint(0, 59):02d}:00Z level=info msg="request" '
            f"path=/self-service/login?flow={rng.getrandbits(64):016x} status={rng.choice([200, 303, 400])}\n"
        )
        lines.append(line)
        total += len(line)
    return "".join(lines)[:size]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def timed(triage: Triage, texts: list[str], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        for text in texts:
            started = time.perf_counter()
            triage.triage(text)
            out.append((time.perf_counter() - started) * 1000)
    return out


def grown(kb: KnowledgeBase, factor: int, rng: random.Random) -> KnowledgeBase:
    """The knowledge base with synthetic topic entries added until it is `factor` times as large."""
    words = [w for e in kb.entries.values() for w in (e.title + " " + e.summary).lower().split() if w.isalpha()]
    bigger = dataclasses.replace(kb, entries=dict(kb.entries))
    for n in range(len(kb.entries) * (factor - 1)):
        phrasings = tuple(" ".join(rng.choices(words, k=rng.randint(5, 10))) for _ in range(4))
        entry = Entry(
            id=f"topic.synthetic-{n}",
            kind="topic",
            title=phrasings[0][:60],
            summary=phrasings[1],
            source="synthetic",
            phrasings=phrasings,
            keywords=(f"synthetic_kw_{n}",),
        )
        bigger.entries[entry.id] = entry
    return bigger


def naive(kb: KnowledgeBase, texts: list[str]) -> list[float]:
    """Baseline: fuzzy-match each message against every entry's text, no index, no cutoff, no preparation."""
    choices = [f"{e.title} {e.summary} {' '.join(e.phrasings)}" for e in kb.entries.values()]
    out = []
    for text in texts:
        started = time.perf_counter()
        max((fuzz.WRatio(text, c), i) for i, c in enumerate(choices))
        out.append((time.perf_counter() - started) * 1000)
    return out


def startup() -> tuple[float, float]:
    # VmHWM, not ru_maxrss: ru_maxrss survives fork and exec, so the child would report this (big) process.
    code = (
        "import re, time; t = time.perf_counter(); from bot.kb.loader import load_knowledge; "
        "from bot.pipeline import Triage; Triage(load_knowledge()); "
        "hwm = re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1); "
        "print(time.perf_counter() - t, hwm)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    seconds, rss_kb = out.stdout.split()
    return float(seconds), int(rss_kb) / 1024


def load_test(seconds: float, rate: int) -> dict:
    """Fake Slack + the bot in HTTP mode in a child process; events from here at `rate` per second."""
    child = subprocess.Popen(
        [sys.executable, str(Path(__file__).parent / "load_target.py")],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        ready = child.stdout.readline().split()
        if not ready or ready[0] != "READY":
            raise RuntimeError(f"load target did not start: {ready}")
        url, secret = ready[1], ready[2]
        acks = asyncio.run(_send(url, secret, seconds, rate))
        child.stdin.write("STOP\n")
        child.stdin.flush()
        result = json.loads(child.stdout.readline())
    finally:
        child.kill()
        child.wait()
    return {**acks, **result}


async def _send(url: str, secret: str, seconds: float, rate: int) -> dict:
    import aiohttp

    sys.path.insert(0, str(ROOT))
    from tests.fakeslack import FakeSlack

    latencies: list[float] = []
    statuses: dict[int, int] = {}
    total = int(seconds * rate)
    texts = [
        '{"error": {"id": "session_inactive", "code": 401}}',
        '"messages": [{"id": 4000006, "text": "x"}]',
        "curl 'http://127.0.0.1:4433/self-service/login/browser' -H 'Accept: application/json'",
    ]

    async def one(http, n: int) -> None:
        # Every tenth event is delivered twice (a retry): it must still be answered once.
        event_id = f"Ev{n // 10 * 10 if n % 10 == 9 else n}"
        body = json.dumps(
            {
                "type": "event_callback",
                "event_id": event_id,
                "team_id": "T1",
                "api_app_id": "A1",
                "event": {
                    "type": "app_mention",
                    "user": "U1",
                    "channel": "C1",
                    "ts": f"{n}.000100",
                    "text": f"<@UBOT> {texts[n % len(texts)]}",
                },
            }
        ).encode()
        headers = {**FakeSlack.sign(body, secret), "Content-Type": "application/json"}
        started = time.perf_counter()
        async with http.post(url, data=body, headers=headers) as resp:
            await resp.read()
            statuses[resp.status] = statuses.get(resp.status, 0) + 1
        latencies.append((time.perf_counter() - started) * 1000)

    tasks = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200)) as http:
        start = time.perf_counter()
        for n in range(total):
            delay = start + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(http, n)))
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=seconds + 60)
        elapsed = time.perf_counter() - start
    unique = len({f"Ev{n // 10 * 10 if n % 10 == 9 else n}" for n in range(total)})
    return {
        "sent": total,
        "unique_events": unique,
        "acked_per_s": statuses.get(200, 0) / elapsed,
        "ack_p99_ms": percentile(latencies, 99),
        "statuses": statuses,
    }


def row(name: str, figure: str, target: str, ok: bool | None) -> tuple[str, str, str, str]:
    return name, figure, target, "-" if ok is None else ("met" if ok else "MISSED")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="short load phase and fewer repetitions")
    args = parser.parse_args()
    rng = random.Random(7)
    repeat = 3 if args.quick else 10
    kb = load_knowledge()
    triage = Triage(kb)
    small = [t for t in corpus() if len(t.encode()) <= 10_000] + [synthetic(10_000, rng)]
    triage.triage(small[0])  # warm caches (regexes, rapidfuzz)

    rows = []
    lat = timed(triage, small, repeat)
    rows.append(
        row(
            f"triage p50, {len(small)} messages <= 10 KB",
            f"{percentile(lat, 50):.2f} ms",
            "<= 2 ms",
            percentile(lat, 50) <= 2,
        )
    )
    rows.append(
        row("triage p99, messages <= 10 KB", f"{percentile(lat, 99):.2f} ms", "<= 10 ms", percentile(lat, 99) <= 10)
    )
    rows.append(row("triage max, messages <= 10 KB", f"{max(lat):.2f} ms", "-", None))
    for size, label in ((100_000, "100 KB"), (1_000_000, "1 MB")):
        big = timed(triage, [synthetic(size, rng)], 3)
        rows.append(
            row(
                f"triage, one {label} paste (max of 3)",
                f"{max(big):.1f} ms",
                "<= 300 ms" if size > 100_000 else "-",
                max(big) <= 300 if size > 100_000 else None,
            )
        )
    started = time.perf_counter()
    count = 0
    while time.perf_counter() - started < (2 if args.quick else 5):
        for text in small:
            triage.triage(text)
            count += 1
    rate = count / (time.perf_counter() - started)
    rows.append(row("throughput, one core", f"{rate:.0f} msg/s", "-", None))

    base_p99 = percentile(lat, 99)
    for factor in (10, 50):
        bigger = Triage(grown(kb, factor, rng))
        bigger.triage(small[0])
        scaled = timed(bigger, small, 2 if args.quick else 3)
        ratio = percentile(scaled, 99) / base_p99
        rows.append(
            row(
                f"p99 with knowledge x{factor} ({len(bigger.kb.entries)} entries)",
                f"{percentile(scaled, 99):.2f} ms ({ratio:.1f}x)",
                "<= 3x at x50" if factor == 50 else "-",
                ratio <= 3 if factor == 50 else None,
            )
        )

    naive_lat = naive(kb, small)
    rows.append(
        row(
            "naive baseline p50 (fuzzy vs every entry)",
            f"{percentile(naive_lat, 50):.2f} ms ({percentile(naive_lat, 50) / percentile(lat, 50):.0f}x ours)",
            "-",
            None,
        )
    )

    seconds, rss = startup()
    rows.append(row("start-up to ready (load + index)", f"{seconds:.2f} s", "<= 1.5 s", seconds <= 1.5))
    rows.append(row("peak RSS at ready", f"{rss:.0f} MB", "<= 150 MB", rss <= 150))

    duration = 5 if args.quick else 30
    load = load_test(duration, 200)
    rows.append(
        row(
            f"HTTP mode: acked events/s at 200/s for {duration} s",
            f"{load['acked_per_s']:.0f}/s",
            "200/s",
            load["acked_per_s"] >= 190,
        )
    )
    rows.append(row("HTTP mode: ack latency p99", f"{load['ack_p99_ms']:.1f} ms", "<= 50 ms", load["ack_p99_ms"] <= 50))
    rows.append(
        row(
            "HTTP mode: replies posted / unique events",
            f"{load['posts']} / {load['unique_events']}",
            "all",
            load["posts"] == load["unique_events"],
        )
    )
    rows.append(row("HTTP mode: duplicate replies", str(load["duplicates"]), "0", load["duplicates"] == 0))

    widths = [max(len(r[i]) for r in rows + [("figure", "value", "target", "status")]) for i in range(4)]
    print(f"machine: {machine()}")
    header = ("figure", "value", "target", "status")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))


if __name__ == "__main__":
    main()
