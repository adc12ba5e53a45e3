#!/usr/bin/env bash
# The system packages Vigie runs with, installed the same way by CI (.ci/run) and by a deployment.
#   libenchant-2-2 + hunspell-fr/en-us/en-gb: the spelling check (hunspell through enchant; British and
#     American English are both accepted);
#   python3-grammalecte: the French grammar checker, GPL-3, run as a separate process so Vigie stays MIT;
#   fonts-dejavu-core: accented text in the digest's chart.
# Idempotent: nothing is downloaded when everything is already there. Needs root (apt).
set -euo pipefail
PACKAGES=(libenchant-2-2 hunspell-fr hunspell-en-us hunspell-en-gb python3-grammalecte fonts-dejavu-core)
if [[ "${1:-}" == "--list" ]]; then
  printf '%s\n' "${PACKAGES[@]}"
  exit 0
fi
if ! dpkg -s "${PACKAGES[@]}" >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}"
fi
