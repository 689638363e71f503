#!/usr/bin/env bash
# Copy the front-end files we serve from node_modules (installed from package-lock.json)
# into the git-ignored static vendor folder. Third-party code is never committed.
set -euo pipefail
dest=${1:?destination folder}
mkdir -p "$dest"
cp node_modules/htmx.org/dist/htmx.min.js "$dest/htmx.min.js"
