"""Which recommending unit sent a message, from the signals in order of trust.

1 the summary table's 推荐单位 line · 2 a configured sender address · 3 the subject · 4 the report's
filename or text (then other filenames) · 5 a sender already tied to a unit by an earlier message.
An organiser's `assign` decision overrides all of them. Disagreeing explicit signals (1–4) give a
`unit_conflict` warning; the most trusted wins. The subject is read without its reply and forward
prefixes (`reply_prefixes`: "回复：重庆市某某学会推荐材料" names 重庆市某某学会).

A name the registry does not know and whose form does not say what it is (`Registry.category` is
None) is no unit: when it is the most trusted signal, the message has no unit (`unknown` holds the
name) and waits for an organiser's `assign`; a less trusted signal never stands in for it. Only
names that are units can conflict.
"""

from __future__ import annotations

from dataclasses import dataclass

from mailintake.common import findings as F
from mailintake.common.vocab import Role
from mailintake.ingest.registry import Registry
from mailintake.parsers.facts import Finding, MessageFacts
from mailintake.parsers.subjects import strip_reply_prefixes


@dataclass
class UnitGuess:
    name: str | None
    source: str | None
    conflict: Finding | None = None
    unknown: str | None = None  # the name the most trusted signal gave, when it is no unit


def identify(facts: MessageFacts, registry: Registry, sender_history: str | None,
             assigned: str | None) -> UnitGuess:
    explicit = list(_explicit_signals(facts, registry))
    conflict = _conflict([(source, name) for source, name in explicit if registry.category(name) is not None])
    if assigned:
        return UnitGuess(registry.normalise(assigned) or assigned, "decision", conflict)
    if explicit:
        source, name = explicit[0]
        if registry.category(name) is None:
            return UnitGuess(None, None, conflict, unknown=name)
        return UnitGuess(name, source, conflict)
    if sender_history:
        return UnitGuess(sender_history, "sender_history")
    return UnitGuess(None, None)


def _explicit_signals(facts: MessageFacts, registry: Registry):
    for f in facts.files:
        if f.summary is not None and f.summary.unit:
            unit = registry.normalise(f.summary.unit)
            if unit:
                yield "summary", unit
                break
    if facts.sender and facts.sender in registry.senders:
        yield "sender_config", registry.senders[facts.sender]
    unit = registry.find_in_text(strip_reply_prefixes(facts.subject, registry.reply_prefixes))
    if unit:
        yield "subject", unit
    for f in facts.files:
        if f.role == Role.REPORT:
            unit = registry.find_in_text(f.display_name) or registry.find_signatory(f.text)
            if unit:
                yield "report", unit
                break
    for f in facts.files:
        unit = registry.find_in_text(f.display_name)
        if unit:
            yield "filename", unit
            break


def _conflict(signals: list[tuple[str, str]]) -> Finding | None:
    if not signals:
        return None
    chosen_source, chosen = signals[0]
    for source, name in signals[1:]:
        if name != chosen:
            return F.make("unit_conflict", None, chosen_signal=chosen_source, chosen=chosen,
                          other_signal=source, other=name)
    return None
