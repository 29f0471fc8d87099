"""The portability app's models, one module per feature."""

from .course_archives import CourseExport, CourseImport, JobStatus

__all__ = ["CourseExport", "CourseImport", "JobStatus"]
