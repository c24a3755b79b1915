"""What people use: the ``kata`` CLI, the pytest plugin and fixtures, and the reports (terminal, CSV, HTML)."""
