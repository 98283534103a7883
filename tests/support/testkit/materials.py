"""A unit's complete materials as the sample generator makes them: report, summary table, and for each
candidate a form, an ID photo and life photos."""

from __future__ import annotations

from mailintake.ingest.samples.mailbox import candidate_files, person, sealed_report, summary


def materials(unit: str, people: list[str], seed: int = 1, report: bool = True) -> list[tuple[str, bytes]]:
    files = [summary(unit, [person(p, "女", "1980.05", "研究员") for p in people])]
    if report:
        files.insert(0, sealed_report(unit, seed))
    for n, p in enumerate(people):
        files += candidate_files(p, seed + n)
    return files


SERIES_UNIT = "沙坪坝区科协"


def series_part(n: int, subject: str = "【沙坪坝区】推荐材料", sender: str = "spbkx@163.com") -> bytes:
    """Mail n (1..3) of a unit that sends its complete materials in three: report and summary, then the
    candidate's form and first photos, then the rest of the photos. Message-ID <spb-part{n}@163.com>."""
    from mailintake.ingest.samples import clients
    from testkit.mail import MAILBOX

    files = {1: [sealed_report(SERIES_UNIT, 1), summary(SERIES_UNIT, [person("张伟", "男", "1978.05", "教授")])],
             2: candidate_files("张伟", 1)[:3],
             3: candidate_files("张伟", 1)[3:]}[n]
    return clients.build_message(sender=sender, sender_name=SERIES_UNIT, to=MAILBOX, subject=subject,
                                 body="请查收。", attachments=files, message_id=f"<spb-part{n}@163.com>")
