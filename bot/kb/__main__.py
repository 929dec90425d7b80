"""`python -m bot.kb [DIR]`: validate the knowledge base (same as `kratos-bot kb check`)."""

import sys
from pathlib import Path

from bot.kb.loader import KnowledgeError, load_knowledge

try:
    kb = load_knowledge(Path(sys.argv[1]) if len(sys.argv) > 1 else None)
except KnowledgeError as exc:
    print(exc)
    sys.exit(1)
print("ok:", ", ".join(f"{k} {v}" for k, v in kb.counts().items()), f"(facts from ory/kratos {kb.facts.commit[:8]})")
