"""The course archive's manifest: ``manifest.json`` at the archive's root.

The schema is these pydantic models (README "Course archives" documents every field).
``format`` names the kind of archive and ``version`` its layout; a reader refuses any
other format and any version it does not know, so a future version 2 can change fields
freely. Unknown fields are refused too (``extra="forbid"``): a misspelt field is an
error to fix, never silently dropped. The manifest carries Markdown only, never HTML:
an import renders every text through ``sanitize.markdown`` like the editor does.

Files are named by their path inside the archive (``path``), relative, with ``/``
separators; ``size`` is their length in bytes and must match the zip entry.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

FORMAT = "courseplatform.course"
VERSION = 1
MANIFEST_NAME = "manifest.json"
MANIFEST_MAX_BYTES = 20 * 1024 * 1024

# Archive paths: relative, "/"-separated, no empty, "." or ".." segment, no backslash,
# no control characters. The zip's entry names are held to the same rule (zipcheck.py).
PATH_RE = re.compile(
    r"^(?!/)(?:[A-Za-z0-9_@+=,()\[\]-][A-Za-z0-9 ._@+=,()\[\]-]*/)*"
    r"[A-Za-z0-9_@+=,()\[\]-][A-Za-z0-9 ._@+=,()\[\]-]*$"
)
RENDITION_NAME_RE = re.compile(r"^[0-9]{2,4}p$")

Title = Annotated[str, Field(min_length=1, max_length=200)]
Markdown = Annotated[str, Field(max_length=200_000)]
Text = Annotated[str, Field(max_length=300)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def _check_path(value: str) -> str:
    if not PATH_RE.fullmatch(value) or ".." in value.split("/") or len(value) > 400:
        raise ValueError("must be a relative path inside the archive (no '..', no leading '/')")
    return value


class FileRef(Strict):
    """A file stored in the archive."""

    path: str
    size: int = Field(ge=0)

    _path = field_validator("path")(_check_path)


class NamedFile(FileRef):
    """An attachment, cover or signature: the file and how it was called."""

    filename: Annotated[str, Field(min_length=1, max_length=255)]
    content_type: Annotated[str, Field(min_length=1, max_length=100)]


class QuizOption(Strict):
    text: Annotated[str, Field(min_length=1, max_length=300)]
    is_correct: bool


class QuizQuestion(Strict):
    kind: Literal["single", "multiple", "true_false", "text"]
    prompt_md: Annotated[str, Field(min_length=1, max_length=20_000)]
    explanation_md: Annotated[str, Field(max_length=20_000)] = ""
    accepted_answers: list[Annotated[str, Field(max_length=200)]] = []
    case_sensitive: bool = False
    options: list[QuizOption] = []


class Quiz(Strict):
    pass_mark: int = Field(ge=0, le=100)
    max_attempts: int | None = Field(default=None, ge=1, le=1000)
    shuffle_questions: bool = False
    shuffle_options: bool = False
    reveal: Literal["submission", "passing"] = "submission"
    questions: list[QuizQuestion] = Field(default=[], max_length=200)


class Lesson(Strict):
    title: Title
    kind: Literal["video", "text", "file", "quiz"]
    body_md: Markdown = ""
    is_preview: bool = False
    duration_minutes: int = Field(default=0, ge=0, le=1440)
    # The ``ref`` of an entry of ``videos`` (video lessons only), or null.
    video: str | None = None
    attachments: list[NamedFile] = Field(default=[], max_length=100)
    # Quiz lessons only.
    quiz: Quiz | None = None


class Section(Strict):
    title: Title
    release: Literal["immediately", "days", "date"] = "immediately"
    release_days: int | None = Field(default=None, ge=0, le=3650)
    # ISO date (YYYY-MM-DD), in the importing school's time zone.
    release_date: str | None = None
    lessons: list[Lesson] = Field(default=[], max_length=1000)

    @field_validator("release_date")
    @classmethod
    def _iso_date(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                date.fromisoformat(value)
            except ValueError as exc:
                raise ValueError("must be a date written YYYY-MM-DD") from exc
        return value


class Rendition(Strict):
    name: str
    width: int = Field(ge=1, le=8192)
    height: int = Field(ge=1, le=8192)
    bandwidth: int = Field(ge=1)
    average_bandwidth: int = Field(ge=1)
    codecs: Annotated[str, Field(max_length=100)]
    frame_rate: float = Field(ge=0, le=1000)
    segment_count: int = Field(ge=0)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not RENDITION_NAME_RE.fullmatch(value):
            raise ValueError("must be a rung name such as 720p")
        return value


class Hls(Strict):
    """The encrypted HLS renditions as the platform stores them: ``files`` are paths
    relative to ``root`` (``master.m3u8``, ``720p/index.m3u8``, ``720p/seg_00001.m4s``…);
    ``key`` is the AES-128 key of the segments (32 hex digits)."""

    root: str
    files: list[FileRef] = Field(min_length=1, max_length=20_000)
    key: Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]
    renditions: list[Rendition] = Field(min_length=1, max_length=20)
    poster: FileRef | None = None

    _root = field_validator("root")(_check_path)


class Video(Strict):
    ref: Annotated[str, Field(pattern=r"^v[0-9]{1,6}$")]
    title: Annotated[str, Field(max_length=200)]
    original_filename: Annotated[str, Field(min_length=1, max_length=255)]
    duration_seconds: float | None = Field(default=None, ge=0)
    width: int | None = Field(default=None, ge=1, le=16384)
    height: int | None = Field(default=None, ge=1, le=16384)
    frame_rate: float | None = Field(default=None, ge=0, le=1000)
    has_audio: bool = False
    # The uploaded original (when exported with "video sources"), or null.
    source: FileRef | None = None
    # The renditions (when exported with "HLS renditions"), or null.
    hls: Hls | None = None


class Certificate(Strict):
    enabled: bool
    title: Annotated[str, Field(min_length=1, max_length=120)]
    signer_name: Annotated[str, Field(max_length=120)] = ""
    signer_title: Annotated[str, Field(max_length=120)] = ""
    paper_size: Literal["a4", "letter"] = "a4"
    signature: NamedFile | None = None


class Course(Strict):
    title: Title
    slug: Annotated[str, Field(max_length=80)]
    subtitle: Annotated[str, Field(max_length=300)] = ""
    description_md: Markdown = ""
    cover: NamedFile | None = None


class Source(Strict):
    """Where the archive came from (informational; an import ignores it)."""

    school: Annotated[str, Field(max_length=100)]
    course_id: int
    exported_at: str


class Manifest(Strict):
    format: Literal["courseplatform.course"]
    version: Literal[1]
    source: Source | None = None
    course: Course
    sections: list[Section] = Field(default=[], max_length=500)
    videos: list[Video] = Field(default=[], max_length=5000)
    certificate: Certificate | None = None


class ManifestError(ValueError):
    """The manifest cannot be read; ``problems`` lists each one for the person."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _where(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "manifest"


def _cross_check(manifest: Manifest) -> list[str]:
    problems: list[str] = []
    refs = [video.ref for video in manifest.videos]
    if len(refs) != len(set(refs)):
        problems.append("videos: two videos have the same ref.")
    known = set(refs)
    for s, section in enumerate(manifest.sections):
        where = f"sections[{s}]"
        if section.release == "days" and section.release_days is None:
            problems.append(f"{where}.release_days: required when release is 'days'.")
        if section.release == "date" and section.release_date is None:
            problems.append(f"{where}.release_date: required when release is 'date'.")
        for n, lesson in enumerate(section.lessons):
            at = f"{where}.lessons[{n}]"
            if lesson.video is not None and lesson.kind != "video":
                problems.append(f"{at}.video: only video lessons have a video.")
            if lesson.video is not None and lesson.video not in known:
                problems.append(f"{at}.video: no video with ref {lesson.video!r} in videos.")
            if lesson.quiz is not None and lesson.kind != "quiz":
                problems.append(f"{at}.quiz: only quiz lessons have a quiz.")
    for v, video in enumerate(manifest.videos):
        if video.hls is not None:
            names = {r.name for r in video.hls.renditions}
            if len(names) != len(video.hls.renditions):
                problems.append(f"videos[{v}].hls.renditions: two renditions share a name.")
    return problems


def parse_manifest(raw: bytes) -> Manifest:
    """Read and validate ``manifest.json``; ``ManifestError`` lists every problem."""
    if len(raw) > MANIFEST_MAX_BYTES:
        raise ManifestError([f"manifest.json is larger than {MANIFEST_MAX_BYTES // 1048576} MB."])
    try:
        data: Any = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ManifestError(["manifest.json is not UTF-8 text."]) from exc
    except json.JSONDecodeError as exc:
        raise ManifestError(
            [f"manifest.json is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})."]
        ) from exc
    if not isinstance(data, dict):
        raise ManifestError(["manifest.json must hold a JSON object."])
    if data.get("format") != FORMAT:
        raise ManifestError(
            [f"This is not a course archive: manifest.json's format is not {FORMAT!r}."]
        )
    if data.get("version") != VERSION:
        raise ManifestError(
            [
                f"This archive is version {data.get('version')!r}; this platform reads "
                f"version {VERSION}."
            ]
        )
    try:
        manifest = Manifest.model_validate(data)
    except ValidationError as exc:
        problems = [f"{_where(err['loc'])}: {err['msg']}." for err in exc.errors()[:20]]
        if exc.error_count() > 20:
            problems.append(f"… and {exc.error_count() - 20} more problems.")
        raise ManifestError(problems) from exc
    problems = _cross_check(manifest)
    if problems:
        raise ManifestError(problems)
    return manifest


def manifest_files(manifest: Manifest) -> list[FileRef]:
    """Every file the manifest names, in a stable order."""
    found: list[FileRef] = []
    if manifest.course.cover:
        found.append(manifest.course.cover)
    for section in manifest.sections:
        for lesson in section.lessons:
            found.extend(lesson.attachments)
    for video in manifest.videos:
        if video.source:
            found.append(video.source)
        if video.hls:
            root = video.hls.root.rstrip("/")
            found.extend(
                FileRef(path=f"{root}/{item.path}", size=item.size) for item in video.hls.files
            )
            if video.hls.poster:
                found.append(video.hls.poster)
    if manifest.certificate and manifest.certificate.signature:
        found.append(manifest.certificate.signature)
    return found


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the manifest (``manage.py course_archive_schema`` prints it)."""
    return Manifest.model_json_schema()
