#!/usr/bin/env bash
# Gradescope runs this once, when it builds the autograder image (as root).
# Choose a base image with Python >= 3.11. The zip made by `make gradescope-zip`
# holds this script, run_autograder, and the pristine kata under source/.
set -euo pipefail
cd /autograder/source
apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq make >/dev/null || true
make install PYTHON="${PYTHON:-python3}"
# Let the unprivileged grading processes read the kata and run its Python;
# they still cannot write /autograder/results (root-owned).
chmod -R o+rX /autograder/source
