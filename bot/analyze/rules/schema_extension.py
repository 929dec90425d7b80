"""schema-extension: the identity schema breaks Kratos' meta-schema or the `ory.sh/kratos` extension.

Why: Kratos validates identity schemas against its identity meta-schema: `properties.traits` must be an
object schema with `properties`, every `ory.sh/kratos` block may only hold the known options
(`credentials.password.identifier`, `credentials.code.via` ∈ email|sms, `verification.via`, …), and a
trait with `verification` must have a `format` Kratos can verify. A typo such as `"identifer": true` or
`"credentials": {"email": …}` is rejected, and a key written `http://ory.sh/kratos` or `ory.sh/kratos `
is silently ignored, so the trait is no identifier at all.
Example: `"ory.sh/kratos": {"credentials": {"password": {"identifer": true}}}`.
Fix: use the option names of the extension; the corrected schema marks each change. Checked with the
jsonschema library against a schema built from the extension's options (schemakit.EXTENSION_OPTIONS)
and against JSON Schema draft-07 itself.
"""

from __future__ import annotations

from jsonschema import Draft7Validator

from bot.analyze.evidence import Evidence
from bot.analyze.registry import rule
from bot.analyze.schemakit import (
    EXT,
    VERIFICATION_FORMATS,
    allowed_keys_at,
    closest,
    extension,
    extension_schema,
    iter_extensions,
    near_extension_keys,
    trait_root,
)
from bot.kb.loader import KnowledgeBase
from bot.models import Finding, IdentitySchema, Patch

_VALIDATOR = Draft7Validator(extension_schema())
MAX_FINDINGS = 6
JSON_TYPES = ["string", "number", "integer", "boolean", "object", "array", "null"]


def _suggest(word: str, choices: list[str]) -> str:
    best = closest(word, choices)
    return f" Did you mean `{best}`?" if best else f" Allowed here: {', '.join(f'`{c}`' for c in choices)}."


def _where(path: tuple[str, ...]) -> str:
    """`trait email` for a path through properties.traits.properties.email, else the JSON path."""
    for i in range(len(path) - 1):
        if path[i] == "properties" and i >= 2 and path[i - 1] == "traits":
            return f"trait `{path[i + 1]}`"
    return "/".join(path[:-1]) or "the schema root"


@rule("schema-extension")
def check(ev: Evidence, kb: KnowledgeBase):
    for artifact in ev.of(IdentitySchema):
        schema = artifact.schema
        target = ev.index_of(artifact)
        found: list[Finding] = []
        for path, key in near_extension_keys(schema):
            found.append(
                Finding(
                    rule="schema-extension",
                    title=f"`{key}` is not the extension key: Kratos ignores it",
                    detail=(
                        f"In {_where(path + (key,))} the key is `{key}`"
                        + (" (with a leading or trailing space)" if key.strip() == EXT else "")
                        + ". Kratos only reads the exact key "
                        f"`{EXT}`, so every option under it is ignored (no identifier, no verification)."
                    ),
                    fixes=(f'Rename the key to `"{EXT}"` exactly.',),
                    entries=("topic.identity-schema-basics",),
                    score=93,
                    patches=(Patch(target, "rename", path + (key,), EXT, f"was {key!r}"),),
                )
            )
        for path, value in iter_extensions(schema):
            for error in sorted(_VALIDATOR.iter_errors(value), key=lambda e: list(e.absolute_path)):
                rel = tuple(str(p) for p in error.absolute_path)
                where = _where(path)
                if error.validator == "additionalProperties":
                    extra = sorted(set(error.instance) - set(allowed_keys_at(rel)))
                    for name in extra:
                        loc = "/".join((EXT,) + rel + (name,))
                        best = closest(name, allowed_keys_at(rel))
                        patch = (
                            Patch(target, "rename", path + rel + (name,), best, f"was {name!r}")
                            if best
                            else Patch(target, "remove", path + rel + (name,), note=f"removed unknown {name!r}")
                        )
                        found.append(
                            Finding(
                                rule="schema-extension",
                                title=f"`{loc}` is not an option Kratos knows ({where})",
                                detail=(
                                    f"The `{EXT}` extension has no `{name}` here, so Kratos rejects the schema."
                                    + _suggest(name, allowed_keys_at(rel))
                                ),
                                fixes=("Use only the extension's own option names (see the corrected schema).",),
                                entries=("topic.identity-schema-basics",),
                                score=92,
                                patches=(patch,),
                            )
                        )
                else:
                    loc = "/".join((EXT,) + rel)
                    enum = error.schema.get("enum") if isinstance(error.schema, dict) else None
                    close = closest(str(error.instance), list(enum)) if enum else None
                    fix_patch = (Patch(target, "set", path + rel, close, f"was {error.instance!r}"),) if close else ()
                    found.append(
                        Finding(
                            rule="schema-extension",
                            title=f"`{loc}` has an invalid value ({where})",
                            detail=f"Kratos' extension schema says: {error.message}.",
                            patches=fix_patch,
                            fixes=(
                                "`identifier`, `account_name` and `display_name` take `true`/`false`; `via` takes "
                                "`email` or `sms`.",
                            ),
                            entries=("topic.identity-schema-basics",),
                            score=90,
                        )
                    )
        props, _, prefix = trait_root(schema)
        node = (schema.get("properties") or {}).get("traits") if isinstance(schema.get("properties"), dict) else None
        full = isinstance(schema.get("properties"), dict) and "traits" in schema["properties"]
        if full and isinstance(node, dict) and node.get("type") not in (None, "object"):
            found.append(
                Finding(
                    rule="schema-extension",
                    title='`properties.traits` must be `"type": "object"`',
                    detail="Kratos' identity meta-schema only accepts an object schema for traits.",
                    fixes=('Set `"type": "object"` on `traits` and put the fields under its `properties`.',),
                    entries=("topic.identity-schema-basics",),
                    score=90,
                )
            )
        for name, trait in props.items():
            if not isinstance(trait, dict):
                continue
            fmt = trait.get("format")
            if "verification" in extension(trait) and fmt is not None and fmt not in VERIFICATION_FORMATS:
                via = (extension(trait).get("verification") or {}).get("via")
                wanted = "tel" if via == "sms" else "email"
                found.append(
                    Finding(
                        rule="schema-extension",
                        title=f"trait `{name}` has `verification` but `format: {fmt}`",
                        detail=(
                            "A trait with `verification` must have a format Kratos can verify: "
                            + ", ".join(f"`{f}`" for f in VERIFICATION_FORMATS)
                            + "."
                        ),
                        fixes=(f'Use `"format": "{wanted}"` on `{name}`.',),
                        entries=("topic.identity-schema-basics",),
                        score=88,
                        patches=(Patch(target, "set", prefix + (name, "format"), wanted, f"was {fmt!r}"),),
                    )
                )
        for error in list(Draft7Validator(Draft7Validator.META_SCHEMA).iter_errors(schema))[:3]:
            loc = "/".join(str(p) for p in error.absolute_path) or "the schema root"
            json_path = tuple(str(p) for p in error.absolute_path)
            close = closest(str(error.instance), JSON_TYPES) if json_path[-1:] == ("type",) else None
            patches: tuple[Patch, ...] = (
                (Patch(target, "set", json_path, close, f"was {error.instance!r}"),) if close else ()
            )
            detail = f"{error.message}."
            fixes = ("Fix the JSON Schema keyword; Kratos compiles the schema with draft-07 rules.",)
            if json_path[-1:] == ("required",) and isinstance(error.instance, bool) and prefix:
                # `"required": true` on a property (OpenAPI / draft-03 habit): draft-07 wants a list on the parent.
                trait = json_path[-2]
                _, required, _ = trait_root(schema)
                detail = (
                    f"`required` on the `{trait}` property must not be a boolean: in draft-07 it is an array of "
                    "property names on the parent object."
                )
                fixes = (
                    f"Drop the boolean `required` from `{trait}` and list the name in the traits' "
                    f'`"required": ["{trait}"]`.',
                )
                patches = (
                    Patch(target, "remove", json_path, note="required moved to the traits' list"),
                    Patch(
                        target,
                        "set",
                        prefix[:-1] + ("required",),
                        list(dict.fromkeys([*required, trait])),
                        f"{trait} is required",
                    ),
                )
            found.append(
                Finding(
                    rule="schema-extension",
                    title=f"Not valid JSON Schema (draft-07) at `{loc}`",
                    detail=detail,
                    fixes=fixes,
                    patches=patches,
                    entries=("topic.identity-schema-basics",),
                    severity="warning",
                    score=80,
                )
            )
        yield from found[:MAX_FINDINGS]
