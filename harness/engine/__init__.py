"""The grading engine: checks and reports, the supervised world process, scores and result files.

``checks.grade`` is the world's main: it runs an exercise's checks, each of
which opens worlds and sends requests to app hosts. ``isolation`` runs it in
a supervised subprocess (``worker``); ``autograde`` grades a submission or a
class; ``results`` turns reports into scores and files.
"""
