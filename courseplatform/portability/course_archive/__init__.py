"""Course archives: one course as a zip (a versioned ``manifest.json`` plus its files),
exported in the task worker and imported into the same or another school.

* ``manifest.py``: the format (pydantic models: the documented schema, version 1).
* ``export.py``: ``export_course_manifest`` / ``plan_course_archive`` (what a course is
  as a manifest and which stored files go with it) and ``write_course_archive`` (into
  any open zip, under a prefix: the whole-school export embeds courses this way).
* ``zipcheck.py``: the safety checks of an uploaded zip (entries, sizes, ratio, paths).
* ``importer.py``: validated archive → new course with new ids, in one transaction.
* ``services.py`` / ``selectors.py`` / ``tasks.py`` / ``links.py``: the export and import
  jobs, their progress, and the signed download link.
"""
