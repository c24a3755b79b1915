"""The app host: the untrusted side of grading.

It imports the submission's ``app.py`` and runs it on a loop whose clock the
world sets; its drivers forward every SQL statement, partner call and Redis
command to the world over one socket (``harness.wire``). Nothing measured
here enters a verdict: the world measures what reaches it.
"""
