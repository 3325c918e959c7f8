"""A store over documents written for a test (shared by the scope, list and comparison tests)."""

from __future__ import annotations


def library_with(tmp_path_factory, shared_cache, files: dict[str, str | bytes], label: str = "library"):
    """An Assistant over documents written for a test ({file name: text, or the bytes of a .docx / .pdf}),
    ingested into a real store."""
    from assistant.bot import Assistant
    from assistant.config import Settings

    home = tmp_path_factory.mktemp(f"{label}-home")
    folder = tmp_path_factory.mktemp(f"{label}-docs")
    for name, text in files.items():
        if isinstance(text, bytes):
            (folder / name).write_bytes(text)
        else:
            (folder / name).write_text(text, "utf-8")
    bot = Assistant(Settings(home=home, cache_dir=shared_cache, auto_ingest=False))
    report = bot.store.ingest(sorted(folder.iterdir()))
    assert report.ok, [r.reason for r in report.results]
    return bot
