#!/usr/bin/env bash
# Installs the third-party client libraries of the compatibility tests
# (crates/castellan/tests/it/compat.rs): auth0-python (its authentication and management
# layers) into compat/.python, and openid-client and auth0 (npm, v7: the Management API
# clients, with the v4 AuthenticationClient as auth0/legacy) into compat/node/node_modules.
# Authlib (its requests OAuth2Session) and joserfc go into compat/.python too.
# For the browser tests (crates/castellan/tests/it/browser.rs): Debian's chromium package, and
# into compat/browser/node_modules (npm): playwright-core, @auth0/auth0-spa-js, and the
# Express web apps' SDKs, express-openid-connect and passport-auth0 (with passport,
# express and express-session). For the checks of the OpenAPI
# documents (crates/castellan/tests/it/api_documents.rs): schemathesis and
# openapi-spec-validator into compat/.schemathesis.
# Does nothing when what is installed matches the pins.
set -euo pipefail
cd "$(dirname "$0")"

stamp() { sha256sum "$1" | cut -d' ' -f1; }

python_want="$(stamp python/requirements.txt)"
if [ "$(cat .python/.installed 2>/dev/null)" != "$python_want" ]; then
  echo "compat: installing auth0-python and Authlib into compat/.python"
  rm -rf .python
  # Every package is pinned in requirements.txt, hence --no-deps.
  python3 -m pip install --quiet --disable-pip-version-check --no-warn-script-location \
    --root-user-action=ignore --no-deps --target .python --requirement python/requirements.txt
  echo "$python_want" > .python/.installed
fi

tools_want="$(stamp schemathesis/requirements.txt)"
if [ "$(cat .schemathesis/.installed 2>/dev/null)" != "$tools_want" ]; then
  echo "compat: installing schemathesis and openapi-spec-validator into compat/.schemathesis"
  rm -rf .schemathesis
  python3 -m pip install --quiet --disable-pip-version-check --no-warn-script-location \
    --root-user-action=ignore --no-deps --target .schemathesis --requirement schemathesis/requirements.txt
  echo "$tools_want" > .schemathesis/.installed
fi

node_want="$(stamp node/package-lock.json)"
if [ "$(cat node/node_modules/.installed 2>/dev/null)" != "$node_want" ]; then
  echo "compat: installing openid-client and auth0 into compat/node/node_modules"
  (cd node && npm ci --no-audit --no-fund --loglevel=error)
  echo "$node_want" > node/node_modules/.installed
fi

if ! command -v chromium >/dev/null 2>&1; then
  echo "compat: installing Debian's chromium for the browser tests"
  if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium
fi

browser_want="$(stamp browser/package-lock.json)"
if [ "$(cat browser/node_modules/.installed 2>/dev/null)" != "$browser_want" ]; then
  echo "compat: installing playwright-core, auth0-spa-js, express-openid-connect and passport-auth0 into compat/browser/node_modules"
  (cd browser && npm ci --no-audit --no-fund --loglevel=error)
  echo "$browser_want" > browser/node_modules/.installed
fi
