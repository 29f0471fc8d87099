"""The portability app's models, one module per feature."""

from .course_archives import CourseExport, CourseImport, JobStatus
from .school_exports import SchoolExport

__all__ = ["CourseExport", "CourseImport", "JobStatus", "SchoolExport"]
