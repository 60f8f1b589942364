#!/usr/bin/env bash
# The imports that must never exist (docs/ARCHITECTURE.md), checked on what
# `go list -deps` says each package pulls in, directly or not. Each rule is
# a package (a folder of the module, with its sub-folders when it ends in
# /...) and the packages it must not depend on; it fails with every
# violation named.
set -euo pipefail
cd "$(dirname "$0")/.."
mod=$(go list -m)

# package            | must not depend on (extended regex on paths inside the module)
rules=(
  # the menu language knows no runtime: only text encodings, numbers, references
  "menus/...         | ^(adapters|api|apikey|cases|chart|cmd|hotline|inbox|loadgen|metrics|outbox|postgres|sessions|smpp|staff|ussd)(/|$)"
  # the engine depends on menus and sessions only: never the case domain, a store or a channel
  "ussd              | ^(adapters|api|apikey|cases|chart|hotline|inbox|loadgen|metrics|outbox|postgres|sessions|smpp|staff)(/|$)"
  # a dialect speaks one operator's wire format: no other dialect, no other channel
  "ussd/africastalking | ^(ussd/(arkesel|generic|hubtel|madapi|nalo)|smpp|hotline|api|inbox)(/|$)"
  "ussd/arkesel      | ^(ussd/(africastalking|generic|hubtel|madapi|nalo)|smpp|hotline|api|inbox)(/|$)"
  "ussd/generic      | ^(ussd/(africastalking|arkesel|hubtel|madapi|nalo)|smpp|hotline|api|inbox)(/|$)"
  "ussd/hubtel       | ^(ussd/(africastalking|arkesel|generic|madapi|nalo)|smpp|hotline|api|inbox)(/|$)"
  "ussd/madapi       | ^(ussd/(africastalking|arkesel|generic|hubtel|nalo)|smpp|hotline|api|inbox)(/|$)"
  "ussd/nalo         | ^(ussd/(africastalking|arkesel|generic|hubtel|madapi)|smpp|hotline|api|inbox)(/|$)"
  # the stores and the domain depend on no channel
  "cases/...         | ^(ussd|smpp|hotline|api|inbox|postgres|adapters|metrics)(/|$)"
  "outbox            | ^(ussd|smpp|hotline|api|inbox|cases|postgres|adapters|metrics)(/|$)"
  "staff/...         | ^(ussd|smpp|hotline|api|inbox|cases|outbox|postgres|adapters|metrics)(/|$)"
  "apikey/...        | ^(ussd|smpp|hotline|api|inbox|cases|outbox|postgres|adapters|metrics)(/|$)"
  "sessions/...      | ^(ussd|smpp|hotline|api|inbox|cases|outbox|postgres|adapters|metrics)(/|$)"
  "postgres          | ^(ussd|smpp|hotline|api|inbox|adapters|metrics|outbox/delivery)(/|$)"
  # the ports to backends know the operation contract, not the stores
  "adapters/...      | ^(cases|postgres|outbox|hotline|smpp|api|inbox|staff|ussd|sessions|apikey|metrics)(/|$)"
  # SMS to citizens go through the outbox: the console never reaches SMPP
  "hotline/...       | ^(smpp|outbox/delivery|api|inbox|ussd/[a-z]+)(/|$)"
  # the web channel walks the engine and writes its codes to the outbox: no
  # SMPP, no store of its own, no other channel
  "web/...           | ^(smpp|outbox/delivery|hotline|api|inbox|cases|postgres|sessions|adapters|ussd/[a-z]+)(/|$)"
  "api               | ^(smpp|outbox/delivery|hotline|inbox|ussd)(/|$)"
  "inbox             | ^(hotline|api|outbox/delivery|ussd/[a-z]+)(/|$)"
  "smpp/...          | ^(hotline|api|inbox|outbox|cases|postgres|staff|sessions|apikey|metrics)(/|$)"
  # small leaves stay leaves
  "sms               | ^[a-z]"
  "phone             | ^[a-z]"
  "reference         | ^[a-z]"
  "chart             | ^[a-z]"
  "deadline          | ^[a-z]"
)

fail=0
for rule in "${rules[@]}"; do
  pkg=$(echo "${rule%%|*}" | xargs)
  forbidden=$(echo "${rule#*|}" | xargs)
  for p in $(go list "./$pkg"); do
    self=${p#"$mod"/}
    bad=$(go list -deps "$p" | grep "^$mod/" | sed "s#^$mod/##" | grep -v "^${self}$" | grep -E "$forbidden" || true)
    # a package's own sub-folders are its own (menus/xpdl is menus)
    bad=$(echo "$bad" | grep -v "^${self}/" || true)
    if [ -n "$bad" ]; then
      echo "check-imports: $self must not depend on: $(echo $bad)" >&2
      fail=1
    fi
  done
done
# Archived modules the project moved off, which must not come back: the
# YAML library's maintained successor is go.yaml.in/yaml/v3.
for gone in gopkg.in/yaml.v3 gopkg.in/yaml.v2; do
  if go list -deps -test ./... | grep -qx "$gone"; then
    echo "check-imports: $gone (archived) is imported again: use go.yaml.in/yaml/v3" >&2
    fail=1
  fi
done
if [ "$fail" -ne 0 ]; then
  echo "check-imports: see docs/ARCHITECTURE.md, 'Imports that must never exist'" >&2
  exit 1
fi
echo "check-imports: ok"
