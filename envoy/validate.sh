#!/usr/bin/env bash
# Validates every Envoy bootstrap envoy/*.yaml (a file with a top-level
# static_resources) with `envoy --mode validate`; the other YAML files, such
# as docker-compose.yaml, are checked by tests/deployment.rs.
#
# Usage: envoy/validate.sh ENVOY WASM
#
# Each file is copied to a scratch directory with /etc/envoy/ pointed at
# throwaway certificates and the given wasm. Validation parses the whole
# bootstrap, reads every certificate and key file, loads the wasm in V8 and
# runs the plugin's configuration check; it binds no port and contacts no
# backend. To prove the plugin check really runs, each file is validated a
# second time with a broken plugin configuration, which must fail. A file
# that loads the module by URL (vm_config.code.remote) is validated as it is,
# which checks its structure but fetches nothing, and then with the module
# read from the local wasm instead, so that its plugin configuration is
# checked (and its broken copy must fail) like the others'.
set -euo pipefail

envoy=${1:?usage: validate.sh ENVOY WASM}
wasm=${2:?usage: validate.sh ENVOY WASM}
here=$(cd "$(dirname "$0")" && pwd)

[[ -x $envoy ]] || { echo "validate.sh: $envoy is not an executable" >&2; exit 1; }
[[ -f $wasm ]] || { echo "validate.sh: $wasm not found (run make build)" >&2; exit 1; }
command -v openssl >/dev/null || { echo "validate.sh: needs the openssl command" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
etc=$work/etc
mkdir -p "$etc/certs"
cp "$wasm" "$etc/onerecord_tls_policy.wasm"

# Throwaway certificates: a server certificate and a client CA.
make_cert() { # name subject extensions
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
    -subj "$2" -addext "$3" -keyout "$etc/certs/$1.key" -out "$etc/certs/$1.pem" 2>/dev/null
}
make_cert server /CN=localhost "subjectAltName=DNS:localhost"
make_cert client-ca "/CN=Throwaway ONE Record Client CA" "basicConstraints=critical,CA:TRUE"

# validate FILE EXPECT LABEL: EXPECT is "ok" or "fail"; prints Envoy's output on surprise.
validate() {
  local file=$1 expect=$2 label=$3 out status=0
  out=$("$envoy" --mode validate --disable-hot-restart -c "$file" 2>&1) || status=$?
  if [[ $expect == ok && $status -ne 0 ]]; then
    printf '%s\n' "$out" | tail -20 >&2
    echo "validate.sh: FAILED: $label" >&2
    return 1
  fi
  if [[ $expect == fail && $status -eq 0 ]]; then
    echo "validate.sh: FAILED: $label passed with a broken plugin configuration;" \
      "validation does not check the plugin" >&2
    return 1
  fi
}

# local_code FILE: FILE with every `code:` block replaced by the local wasm.
local_code() {
  awk -v wasm="$etc/onerecord_tls_policy.wasm" '
    skip && match($0, /^ */) && RLENGTH > indent { next }
    { skip = 0 }
    /^ *code:$/ {
      match($0, /^ */); indent = RLENGTH
      print substr($0, 1, indent) "code: { local: { filename: " wasm " } }"
      skip = 1; next
    }
    { print }' "$1"
}

shopt -s nullglob
files=("$here"/*.yaml)
(( ${#files[@]} > 0 )) || { echo "validate.sh: no envoy/*.yaml found" >&2; exit 1; }
validated=0
for src in "${files[@]}"; do
  name=$(basename "$src")
  grep -q '^static_resources:' "$src" || continue
  sed "s#/etc/envoy/#$etc/#g" "$src" > "$work/$name"
  validate "$work/$name" ok "envoy/$name"
  if grep -q '^ *remote:$' "$work/$name"; then
    local_code "$work/$name" > "$work/local-$name"
    grep -q '^ *remote:$' "$work/local-$name" && { echo "validate.sh: envoy/$name: remote code left" >&2; exit 1; }
    mv "$work/local-$name" "$work/$name"
    validate "$work/$name" ok "envoy/$name (module read locally)"
  fi
  if grep -q '"mode": "enforce"' "$work/$name"; then
    sed 's/"mode": "enforce"/"mode": "block"/' "$work/$name" > "$work/broken-$name"
    validate "$work/broken-$name" fail "envoy/$name"
  fi
  echo "validated envoy/$name"
  validated=$((validated + 1))
done
(( validated > 0 )) || { echo "validate.sh: no Envoy bootstrap among envoy/*.yaml" >&2; exit 1; }
