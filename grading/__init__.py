"""The kata's grading: one module of checks per exercise, and the pytest suite over them."""
