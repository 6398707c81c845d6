"""Background work of the documents module: the text of PDFs for search, and the trash.

Both are idempotent: a version whose text was read is skipped; a document already purged is
not found again.
"""

from celery import shared_task

from . import services


@shared_task(
    name="documents.extract_text",
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=6,
)
def extract_text(version_id: int) -> bool:
    """Read the text of a PDF version (queued when the version is committed)."""
    return services.version_text_extract(version_id=version_id)


@shared_task(name="documents.empty_trash")
def empty_trash() -> dict[str, int]:
    """Delete for good what has been in the trash for over DOCUMENTS_TRASH_DAYS."""
    run = services.trash_empty()
    return {"purged": run.purged, "skipped": run.skipped, "files": len(run.files)}
