"""The knowledge base: curated YAML entries plus generated fact tables, validated at load."""

from bot.kb.loader import KnowledgeBase, KnowledgeError, load_knowledge

__all__ = ["KnowledgeBase", "KnowledgeError", "load_knowledge"]
