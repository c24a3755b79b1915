"""The FastAPI Performance Kata's harness: a simulated world, the grader, and the tools around them.

The packages follow the trust boundary of grading:

- ``harness.world``: the world. Trusted: the virtual clock, the database, the
  partner services, the cache, the network model, and every measurement.
  It never imports a submission.
- ``harness.apphost``: the app host. Untrusted: it imports the submission's
  ``app.py`` and runs it; its drivers send every SQL statement, partner call
  and Redis command to the world over one socket (``harness.wire``).
- ``harness.engine``: the grading engine. Checks, reports, scores; the
  supervised world process (``worker``) and ``kata grade``.
- ``harness.frontends``: the CLI, the pytest plugin, the reports.

The modules at the top are shared: the protocol (``wire``), the settings,
the exercise catalog and its typed spec, and what apps and tests import
(``db``, ``cache``, ``clock``, ``models``, ``query_budget``).
"""
