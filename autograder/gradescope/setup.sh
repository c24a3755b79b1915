#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image, in
# /autograder/source: the zip made by `make gradescope-zip`, with the kata at
# its top. It installs the kata in /autograder/source/.venv.
set -euo pipefail
cd /autograder/source

apt_install() {
    command -v apt-get >/dev/null 2>&1 || return 1
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# A Python of 3.11 or newer, with venv (Gradescope's Ubuntu images may need it installed).
python_ok() { "$1" -c 'import sys, venv; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; }
PYTHON=""
for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 && python_ok "$candidate"; then PYTHON="$candidate"; break; fi
done
if [ -z "$PYTHON" ]; then
    apt_install python3.11 python3.11-venv || true
    python_ok python3.11 && PYTHON=python3.11
fi
if [ -z "$PYTHON" ]; then
    echo "setup.sh: the kata needs Python 3.11 or newer; choose a base image that has it" >&2
    exit 1
fi
# ensurepip is a separate package on Debian and Ubuntu.
"$PYTHON" -c 'import ensurepip' >/dev/null 2>&1 || apt_install "$(basename "$PYTHON")-venv" || true
command -v make >/dev/null 2>&1 || apt_install make

make install PYTHON="$PYTHON"
# The app hosts (the submissions) run as `nobody` where they can: let them read the kata and run its Python.
chmod -R o+rX /autograder/source
# ...but not the hidden seed: the app hosts (nobody) must not learn it.
chmod 600 /autograder/source/kata-hidden-seed 2>/dev/null || true
echo "setup.sh: the kata is installed in /autograder/source/.venv ($("$PYTHON" --version))"
