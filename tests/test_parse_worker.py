"""The parse worker reads the stored message itself and keeps the files it extracts in the store, so a big
message's bytes are never pickled back to the service; a classified message's files are never written.
With two workers the next message is read ahead, and used only while what it stored is still there."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from mailintake.ingest.parse_pool import ParsePool
from mailintake.ingest.reprocess import reprocess
from mailintake.ingest.samples import clients, documents, images, zips
from mailintake.ingest.worker import ParseWorker, WorkerLimits
from mailintake.store.blobs import BlobStore
from testkit.config import default_settings
from testkit.desk import MaildirDesk
from testkit.mail import MAILBOX

LIMITS = WorkerLimits(wall_seconds=120, memory_bytes=2 << 30)


def submission(marking: str | None = None) -> tuple[bytes, dict[str, bytes]]:
    files = {"附件1：林峰推荐表.docx": documents.form_docx("林峰", "渝北区科协", None, marking),
             "林峰1.jpg": images.id_photo_jpeg(7, width=360, height=480, min_bytes=0)}
    raw = clients.build_message(sender="unit@163.com", sender_name="渝北区科协", to=MAILBOX, subject="推荐材料",
                                body="请查收。", attachments=list(files.items()), message_id="<w1@163.com>")
    return raw, files


def test_the_worker_keeps_the_files_in_the_store_and_sends_only_their_facts(tmp_path):
    blobs = BlobStore(tmp_path / "store").open()
    raw, files = submission()
    stored = blobs.path("raw", blobs.put("raw", raw))
    worker = ParseWorker(default_settings(), LIMITS, blobs)
    try:
        facts = worker.parse(stored, {})
    finally:
        worker.close()
    assert facts.files_stored
    by_name = {f.display_name: f for f in facts.files}
    for name, data in files.items():
        f = by_name[name]
        assert (f.content, f.size, f.sha256) == (b"", len(data), hashlib.sha256(data).hexdigest())
        assert blobs.get("files", f.sha256) == data
    assert by_name["附件1：林峰推荐表.docx"].person == "林峰"


def test_a_classified_message_s_files_are_never_written_by_the_worker(tmp_path):
    blobs = BlobStore(tmp_path / "store").open()
    raw, _ = submission(marking="机密★1年")
    worker = ParseWorker(default_settings(), LIMITS, blobs)
    try:
        facts = worker.parse(blobs.path("raw", blobs.put("raw", raw)), {})
    finally:
        worker.close()
    assert facts.classified and not facts.files_stored
    assert blobs.listing("files") == set()


def stored_mail(blobs: BlobStore, n: int) -> tuple[Path, bytes]:
    photo = images.life_photo_jpeg(n, width=480, height=360, min_bytes=0)
    raw = clients.build_message(sender="unit@163.com", sender_name="渝北区科协", to=MAILBOX, subject=f"材料{n}",
                                body="请查收。", attachments=[(f"林峰{n}.jpg", photo)], message_id=f"<a{n}@163.com>")
    return blobs.path("raw", blobs.put("raw", raw)), photo


def test_the_next_message_is_read_ahead_on_the_second_worker_with_the_same_facts(tmp_path):
    blobs = BlobStore(tmp_path / "store").open()
    (first, _), (second, photo) = stored_mail(blobs, 1), stored_mail(blobs, 2)
    pool = ParsePool(default_settings(), LIMITS, blobs, size=2)
    try:
        expected = pool.parse(second, {})
        pool.ahead(second)
        assert pool.parse(first, {}).message_id == "<a1@163.com>"  # on the other worker, meanwhile
        pool._ahead[second].result()  # the read-ahead has finished: the raw file is no longer needed
        kept = second.read_bytes()
        second.unlink()
        assert pool.parse(second, {}) == expected  # taken from the read-ahead
        second.write_bytes(kept)

        pool.ahead(second)
        pool._ahead[second].result()
        blobs.delete("files", hashlib.sha256(photo).hexdigest())  # an earlier commit removed a shared file
        assert pool.parse(second, {}) == expected  # read again, which stores the file again
        assert blobs.get("files", hashlib.sha256(photo).hexdigest()) == photo

        pool.ahead(second)
        pool.drop_ahead()  # the processing run ended: nothing read ahead is used later
        second.unlink()
        with pytest.raises(RuntimeError):
            pool.parse(second, {})
    finally:
        pool.close()


def test_a_dry_run_reprocess_writes_no_file_into_the_store(tmp_path):
    desk = MaildirDesk(tmp_path)
    try:
        raw, files = submission()
        desk.deliver(raw)
        desk.poll()
        kept = desk.ctx.blobs.listing("files")
        assert kept == {hashlib.sha256(data).hexdigest() for data in files.values()}
        for sha in kept:  # as if the files were lost: a dry run must not quietly put them back
            desk.ctx.blobs.delete("files", sha)
        assert list(reprocess(desk.ctx, None, dry_run=True)) == ["no changes"]
        assert desk.ctx.blobs.listing("files") == set()
        assert list(reprocess(desk.ctx, None)) == ["reprocessed 1 message(s)"]
        assert desk.ctx.blobs.listing("files") == kept
    finally:
        desk.close()


def test_a_message_s_photos_inspected_side_by_side_give_the_facts_of_one_at_a_time():
    """Photos loose and zipped, an ID photo with its face, a damaged one: the same facts either way."""
    from mailintake.ingest.samples.mailbox import candidate_files
    from mailintake.parsers.message import parse_message

    files = candidate_files("林峰", 3) + candidate_files("王敏", 4)
    damaged = images.life_photo_jpeg(9, width=900, height=600, min_bytes=0)
    zipped = zips.gbk_zip([(name, data) for name, data in files if name.startswith("王敏")])
    attachments = [f for f in files if f[0].startswith("林峰")]
    attachments += [("王敏材料.zip", zipped), ("林峰5.jpg", damaged[:9000])]
    raw = clients.build_message(sender="unit@163.com", sender_name="渝北区科协", to=MAILBOX, subject="推荐材料",
                                body="请查收。", attachments=attachments, message_id="<p2@163.com>")
    seen: list[tuple[int, ...]] = []
    side_by_side = parse_message(raw, default_settings(), on_file=seen.append, threads=2)
    assert side_by_side == parse_message(raw, default_settings(), threads=1)
    photos = [f for f in side_by_side.files if f.photo is not None]
    assert len(photos) >= 8 and any(f.photo.faces and f.photo.faces.frontal for f in photos)
    assert any(f.photo.problem == "corrupt" for f in photos)
    batch = {i for i, f in enumerate(side_by_side.files) if f.photo is not None}
    assert set(seen[0]) == batch  # announced together first; a document read meanwhile names them too
    assert all(len(set(told) - batch) <= 1 for told in seen) and max(map(len, seen)) <= len(batch) + 1


def test_the_service_process_does_not_load_the_parsers_its_worker_runs():
    """A poll's own process fetches, records and replies: the document, archive, image and face stack (about
    40 MiB it would never run) is imported only in the worker child. (`serve` writes the organisers' workbook
    itself once a day, so openpyxl is its own.)"""
    import subprocess
    import sys

    probe = ("import sys, mailintake.ingest.cli, mailintake.ingest.poll\n"
             "heavy = {'numpy', 'PIL', 'cv2', 'pypdfium2', 'openpyxl', 'py7zr', 'docx', 'scipy', 'lxml'}\n"
             "print(sorted(heavy & {m.split('.')[0] for m in sys.modules}))")
    loaded = subprocess.run([sys.executable, "-I", "-c", probe], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]"
