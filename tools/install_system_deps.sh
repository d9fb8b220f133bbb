#!/usr/bin/env bash
# The Debian/Ubuntu packages the table outputs and their tests need, installed only when missing (idempotent):
#   texlive-xetex, texlive-latex-recommended, texlive-latex-extra, texlive-lang-chinese
#       xelatex, booktabs, geometry, pdflscape, threeparttable, ctex and its Fandol fonts
#       (results/paper/tables.pdf and the *_standalone.tex documents; dcolumn and array come with
#       texlive-latex-base, a dependency)
#   poppler-utils   pdftotext: tests read the compiled PDF's text
#   chromium        headless browser: tests check the rendered HTML tables (required when CI=true)
# Usage: bash tools/install_system_deps.sh   (as root, or with sudo available)
set -euo pipefail

PACKAGES=(
  texlive-xetex
  texlive-latex-recommended
  texlive-latex-extra
  texlive-lang-chinese
  poppler-utils
  chromium
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install_system_deps: all installed (${PACKAGES[*]})"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
echo "install_system_deps: installing ${missing[*]}"
$SUDO apt-get update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
