#!/usr/bin/env bash
# The system packages Vigie runs with, installed the same way by CI (.ci/run) and by the container image
# (Dockerfile), so every CI run proves the image's install step.
#   libenchant-2-2 + hunspell-fr/en-us/en-gb: the spelling check (hunspell through enchant; British and
#     American English are both accepted);
#   python3-grammalecte: the French grammar checker, GPL-3, run as a separate process so Vigie stays MIT;
#   fonts-dejavu-core: accented text in the digest's chart.
# --with-tests adds what only the test suite needs: chromium, to render `vigie preview`'s gallery headless
# (tests/test_cli_preview.py; skipped without it). The image does not install it.
# --list prints the packages instead of installing them.
# Idempotent: nothing is downloaded when everything is already there. Needs root (apt).
set -euo pipefail
PACKAGES=(libenchant-2-2 hunspell-fr hunspell-en-us hunspell-en-gb python3-grammalecte fonts-dejavu-core)
TEST_PACKAGES=(chromium)
LIST=0
for arg in "$@"; do
  case "$arg" in
    --with-tests) PACKAGES+=("${TEST_PACKAGES[@]}") ;;
    --list) LIST=1 ;;
    *) echo "usage: $0 [--with-tests] [--list]" >&2; exit 2 ;;
  esac
done
if [[ "$LIST" == 1 ]]; then
  printf '%s\n' "${PACKAGES[@]}"
  exit 0
fi
if ! dpkg -s "${PACKAGES[@]}" >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}"
fi
