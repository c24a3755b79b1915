"""The world: the trusted side of grading.

It owns the virtual clock, the seeded database, the partner services, the
cache and the network model, and it measures: every statement, call, command
and byte is stamped on its clock. It never imports a submission: the app runs
in an app host (``hosts`` starts them, ``boundary`` serves them). ``World`` can
also serve an app in its own process, for what is not graded (``kata serve``,
``kata profile``, a student's own tests).
"""
