"""Whole-school export: every course (the course archive format), the students and their
progress, codes, pages, theme, quiz attempts, certificates and the audit log, as one
zip built in the task worker (README *Taking your school with you*)."""
