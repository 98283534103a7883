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
