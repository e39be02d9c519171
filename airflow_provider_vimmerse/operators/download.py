"""Download the outputs of a finished Vimmerse job to a local folder or object storage."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from airflow_provider_vimmerse.api.routes import as_list
from airflow_provider_vimmerse.exceptions import VimmerseInputError
from airflow_provider_vimmerse.operators.base import VimmerseBaseOperator, checked_kind


class VimmerseDownloadOperator(VimmerseBaseOperator):
    """
    Stream every output video of a job into ``destination`` and return the written paths.

    Give either ``job`` (the result an operator or sensor returned, e.g. ``create.output``; a list of
    results from a mapped task works too) or ``kind`` and ``job_id`` (the outputs are then looked up).

    A media's video can be asked for with the query of ``GET /media/{id}/download``: ``object_type``
    (only ``bullet_video_mp4`` is documented, see
    :data:`~airflow_provider_vimmerse.api.jobs.DOWNLOAD_OBJECT_TYPES`), ``motion_type``, ``width`` and
    ``file_size`` (known from the documents' example URLs only). When any is set, each media is
    fetched from that route with them, whatever its result lists; they are refused for other kinds.

    Each asset in ``outlets`` gets an event whose ``extra`` names the job and the written paths
    (:func:`~airflow_provider_vimmerse.api.results.downloads_extra`).

    :param destination: folder: a local path or an object storage URL such as ``s3://bucket/videos``
        (templated, e.g. ``"output/{{ ds }}"``)
    :param job: a job result dict, or a list of them (templated)
    :param kind: job kind, when giving ``job_id``
    :param job_id: job id whose outputs to fetch (templated)
    :param object_type: media only: what ``GET /media/{id}/download`` serves (``bullet_video_mp4``)
    :param motion_type: media only: the ``motion_type`` query value (the documents show ``Auto``)
    :param width: media only: the ``width`` query value in pixels (the documents show 1080)
    :param file_size: media only: the ``file_size`` query value (the documents show 4; unit not documented)
    """

    template_fields: tuple[str, ...] = ("destination", "job", "job_id", *VimmerseBaseOperator.template_fields)

    def __init__(
        self,
        *,
        destination: str | Any,
        job: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
        kind: str | None = None,
        job_id: str | None = None,
        object_type: str | None = None,
        motion_type: str | None = None,
        width: int | None = None,
        file_size: float | None = None,
        **kwargs: Any,
    ) -> None:
        from airflow_provider_vimmerse.api.jobs import download_query, downloadable_kind

        super().__init__(**kwargs)
        if job is None and not (kind and job_id):
            raise VimmerseInputError("job", "give a job result (job=...) or both kind and job_id")
        self.destination = destination
        self.job = job
        self.kind = None if kind is None else checked_kind(kind)
        self.job_id = job_id
        self.query = download_query(object_type, motion_type, width, file_size)
        if self.query and self.kind is not None:
            downloadable_kind(self.kind)

    def execute(self, context: Any) -> list[str]:
        """Download every output; return the written paths in order."""
        from airflow_provider_vimmerse.api.urls import check_url
        from airflow_provider_vimmerse.operators.outlets import Made

        sources = self._sources()
        for job, urls in sources:  # every URL is checked before the first download
            kind, job_id = str(job.get("kind", "job")), str(job["id"])
            if not urls:
                raise VimmerseInputError("job", f"{kind} {job_id} has no output to download (is it finished?)")
            for index, url in enumerate(urls):
                check_url(url, f"{kind} {job_id} video_urls[{index}]")
        made: list[Made] = []
        taken: set[str] = set()  # no two outputs of this task under one name
        for job, urls in sources:
            kind, job_id = str(job.get("kind", "job")), str(job["id"])
            fetched = self._download_variations(kind, job_id, urls, taken)
            made.append(Made({**job, "video_urls": [url for url, _ in fetched]}, tuple(path for _, path in fetched)))
        paths = [path for item in made for path in item.paths or ()]
        self.log.info("Wrote %d file(s): %s", len(paths), paths)
        self.record(context, *made)
        return paths

    def _download_variations(self, kind: str, job_id: str, urls: list[str], taken: set[str]) -> list[tuple[str, str]]:
        """
        Download a job's outputs; return (URL, written path) of each.

        A variation of a media (``motion_type=Auto2``: a name the documents imply, docs/api-contract.md)
        that the API answers 404 for is named in the log and skipped; the others are kept. When it has
        none of them, the media's download route without ``motion_type`` is fetched instead.
        """
        from airflow_provider_vimmerse.api.jobs import download_variation, without_variation
        from airflow_provider_vimmerse.exceptions import VimmerseNotFoundError

        fetched: list[tuple[str, str]] = []
        missing: list[str] = []
        for index, url in enumerate(urls):
            variation = download_variation(url)
            try:
                path = self.hook.download(
                    url, self.destination, fallback_name=f"{kind}-{job_id}-{index}.mp4", taken=taken
                )
            except VimmerseNotFoundError:
                if variation is None:
                    raise
                missing.append(variation)
                continue
            fetched.append((url, path))
        if missing:
            self.log.warning(
                "%s %s: the API has no video for motion_type %s (HTTP 404); kept the %d other variation(s)",
                kind,
                job_id,
                ", ".join(repr(name) for name in missing),
                len(fetched),
            )
        if missing and not fetched:
            plain = without_variation(urls[0])
            self.log.warning("%s %s: fetching its video without motion_type instead (%s)", kind, job_id, plain)
            fetched.append((plain, self.hook.download(plain, self.destination, fallback_name=f"{kind}-{job_id}-0.mp4")))
        return fetched

    def _sources(self) -> list[tuple[Mapping[str, Any], list[str]]]:
        """Return each job to download (its result, or its kind and id when only those are known) and its URLs."""
        if self.job is None:
            assert self.kind and self.job_id
            if self.query:
                job = {"kind": self.kind, "id": self.job_id}
                return [(job, [self._download_route(self.kind, self.job_id)])]
            result = self.fetch_result(self.kind, self.job_id)
            return [(result, list(result["video_urls"]))]
        sources = []
        for item in as_list(self.job) if not isinstance(self.job, Mapping) else [self.job]:
            if not isinstance(item, Mapping) or "id" not in item:
                raise VimmerseInputError("job", f"expected a Vimmerse job result dict, got {str(item)[:100]!r}")
            kind, job_id = str(item.get("kind", "job")), str(item["id"])
            urls = [self._download_route(kind, job_id)] if self.query else _outputs_of(item)
            sources.append((item, urls))
        return sources

    def _download_route(self, kind: str, job_id: str) -> str:
        """Return the download route's URL of a job with this task's query (media only)."""
        from airflow_provider_vimmerse.api.jobs import download_route_url, downloadable_kind

        return download_route_url(downloadable_kind(kind), job_id, self.hook.config.base_url, self.query)


def _outputs_of(result: Mapping[str, Any]) -> list[str]:
    """
    Return the URLs to download of a job result: its ``video_urls``; for a batch that ended without a
    composed video (``composed: False``), the outputs of each of its media, so nothing paid for is left out.
    """
    urls = list(result.get("video_urls") or [])
    if urls or result.get("composed") is not False:
        return urls
    medias = result.get("medias")
    return (
        [url for media in medias if isinstance(media, Mapping) for url in media.get("video_urls") or []]
        if isinstance(medias, list)
        else []
    )
