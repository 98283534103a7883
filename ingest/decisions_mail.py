"""Decisions by e-mail: an organiser's 决定.xlsx, sent back to the campaign mailbox, applied as it is read.

Recognised only from the configured organiser addresses, and (with `decisions.require_authentication`)
only when our provider's Authentication-Results header says the sender passed SPF, DKIM or DMARC; such a
message is of kind `decisions`, never a submission. A row is applied only when it is newer than the
decision recorded for the same thing (its unit's paper copy, a message's lateness or unit), so an old copy
sent back reverts nothing. What changed, what was left alone and the bad rows go back to the sender in one
confirmation. Re-reading the same workbook (reprocess) changes nothing: every row is then no newer.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailintake.common.errors import UnknownMessage
from mailintake.common.vocab import Kind, MessageState, display_reference
from mailintake.ingest.context import Context
from mailintake.parsers.auth_results import passed
from mailintake.parsers.decision_sheet import DecisionSheet, SheetDecision, read_decision_sheet
from mailintake.parsers.facts import ExtractedFile, MessageFacts
from mailintake.store.effects import BlobEffects
from mailintake.store.models import Decision, Message, Unit
from mailintake.store.queries import LATE_DECISIONS, decision_day, latest_decision, latest_unit_decision, raw_area

log = logging.getLogger(__name__)

Rerun = Callable[[Session, Context, Message], BlobEffects]


@dataclass
class Outcome:
    """What a decisions workbook did, as sentences for the confirmation."""

    applied: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    effects: BlobEffects = field(default_factory=BlobEffects)


def _content(ctx: Context, facts: MessageFacts, f: ExtractedFile) -> bytes:
    """A file's bytes: in the facts, or in the store when the parse worker wrote them there."""
    return ctx.blobs.get("files", f.sha256) if facts.files_stored else f.content


def recognise(s: Session, ctx: Context, msg: Message,
              facts: MessageFacts) -> tuple[MessageFacts, DecisionSheet | None]:
    """The facts as kind `decisions` and the workbook read, when this is an organiser's decisions mail."""
    cfg = ctx.config.decisions
    if (facts.sender or "") not in cfg.allowed(ctx.config.reports):
        return facts, None
    sheet = next((found for f in facts.files if f.detected_type == "xlsx"
                  and (found := read_decision_sheet(_content(ctx, facts, f))) is not None), None)
    if sheet is None:
        return facts, None
    if cfg.require_authentication and not passed(ctx.blobs.get(raw_area(s, msg.sha256), msg.sha256), cfg.authserv_id):
        log.warning("message %s: a decisions workbook from %s without a passing Authentication-Results from %r: "
                    "not applied", msg.id, facts.sender, cfg.authserv_id)
        return facts, None
    return dataclasses.replace(facts, kind=Kind.DECISIONS, kind_reason="decisions_workbook"), sheet


def apply_sheet(s: Session, ctx: Context, sheet: DecisionSheet, made_by: str, rerun: Rerun) -> Outcome:
    """Record every row newer than what is recorded and re-run the messages it touches."""
    out = Outcome(problems=[f"{p.where}：{p.text}" for p in sheet.problems])
    for d in sheet.decisions:
        if d.kind == "paper_received":
            _paper(s, ctx, d, made_by, out)
        else:
            _about_message(s, ctx, d, made_by, rerun, out)
    return out


def _paper(s: Session, ctx: Context, d: SheetDecision, made_by: str, out: Outcome) -> None:
    name = ctx.registry.normalise(d.target) or d.target
    if s.scalars(select(Unit.id).where(Unit.name == name)).first() is None and name not in ctx.scope.expected_units:
        out.problems.append(f"{d.where}：未找到单位“{d.target}”。")
        return
    if _not_newer(latest_unit_decision(s, name, ("paper_received",)), d, out):
        return
    s.add(Decision(kind=d.kind, unit_name=name, value=d.value, decided_on=d.decided_on, made_by=made_by,
                   made_at=ctx.clock()))
    said = f"纸质材料收到日期记为 {d.value}" if d.value else "纸质材料记为未收到"
    out.applied.append(f"{d.where}：{name} {said}（决定日期 {d.decided_on}）。")


def _about_message(s: Session, ctx: Context, d: SheetDecision, made_by: str, rerun: Rerun, out: Outcome) -> None:
    from mailintake.ingest.decisions import find_message  # organiser commands sit above the pipeline

    try:
        msg = find_message(s, d.target)
    except UnknownMessage:
        out.problems.append(f"{d.where}：未找到参考编号为“{d.target}”的邮件。")
        return
    if msg.state == MessageState.PURGED:
        out.problems.append(f"{d.where}：邮件 {_ref(ctx, msg)} 的材料已清除，无法再作决定。")
        return
    value = d.value
    if d.kind == "assign":
        value = ctx.registry.normalise(d.value)
        if value is None:
            out.problems.append(f"{d.where}：未能识别推荐单位“{d.value}”，请填写单位全称。")
            return
    elif not msg.late:
        out.problems.append(f"{d.where}：邮件 {_ref(ctx, msg)} 未逾期，无需决定是否受理。")
        return
    kinds = ("assign",) if d.kind == "assign" else LATE_DECISIONS
    if _not_newer(latest_decision(s, msg.key, kinds), d, out):
        return
    s.add(Decision(kind=d.kind, message_key=msg.key, value=value, decided_on=d.decided_on, made_by=made_by,
                   made_at=ctx.clock()))
    s.flush()
    out.effects.add(rerun(s, ctx, msg))
    said = {"assign": f"归入{value}", "accept_late": "逾期材料予以受理", "reject_late": "逾期材料不予受理"}[d.kind]
    out.applied.append(f"{d.where}：邮件 {_ref(ctx, msg)} {said}（决定日期 {d.decided_on}）。")


def _not_newer(recorded: Decision | None, d: SheetDecision, out: Outcome) -> bool:
    if recorded is None or decision_day(recorded) < d.decided_on:
        return False
    same = recorded.kind == d.kind and (recorded.value or "") == (d.value or "")
    why = "与已记录的决定相同" if same else f"已有 {decision_day(recorded)} 的决定，本行不比它新，未作更改"
    out.unchanged.append(f"{d.where}：{why}。")
    return True


def _ref(ctx: Context, msg: Message) -> str:
    return display_reference(ctx.config.campaign.deadline.year, msg.id)
