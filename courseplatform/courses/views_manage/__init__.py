"""Instructor authoring in /manage/courses/, one module per resource.

* ``courses``: the course list, creation, details, cover, publishing, deletion and
  the Markdown preview;
* ``outline``: sections and lessons in the course editor (add, rename, move,
  drag-and-drop reorder, delete);
* ``lessons``: the lesson editor and its attachments;
* ``people``: who teaches a course (owner only) and its students (roster);
* ``editor``: rendering of the course editor page, shared by the modules above;
* ``common``: request helpers, object lookups and ``submit``, the one form-action
  shape (validate → service → errors on the form).

Views are thin: every object comes from a ``get_*_for_manager`` selector (404 for a
missing id or another school's id, 403 for a course of this school the person may
not manage, see ``accounts.permissions``) and every write goes through ``services``.
Outline actions answer an htmx request with the re-rendered outline partial (and an
``HX-Trigger`` status for the aria-live region); without JavaScript the same forms
post normally and redirect back to the editor.
"""
