#!/bin/sh
# What the planner's PostgreSQL server needs, installed the same way by `make` (targets system, venv)
# and by Dockerfile.postgres. Idempotent: installed packages are skipped.
#
#   install.sh system [PACKAGE...]              the server's Debian packages, and any others named
#   install.sh packages PACKAGE...              only the Debian packages named
#   install.sh venv VENV PYPROJECT [EXTRA...]   a venv of Debian's python3.11 with pyproject's dependencies
#                                               and its optional-dependency groups EXTRA (make: test)
set -eu

# PostgreSQL 15 with what the schema loads: plpython3u, pg_cron, wal2json (Realtime's decoding),
# pgTAP (the policy matrix), plpgsql_check (`supabase db lint`). plpython3u embeds Debian's CPython
# 3.11, so the venv must be built from that interpreter: python3.11 and its venv module.
SERVER_PACKAGES="postgresql-15 postgresql-plpython3-15 postgresql-15-cron postgresql-15-wal2json
postgresql-15-pgtap postgresql-15-plpgsql-check python3.11 python3.11-venv"

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

install_packages() {
    missing=""
    for package in "$@"; do
        dpkg-query -W -f='${Status}\n' "$package" 2>/dev/null | grep -q 'install ok installed' \
            || missing="$missing $package"
    done
    [ -n "$missing" ] || return 0
    echo "installing Debian packages:$missing"
    as_root apt-get update -qq
    # shellcheck disable=SC2086  # one word per package
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing
}

install_venv() {
    venv=$1 pyproject=$2
    shift 2
    [ -x "$venv/bin/python" ] || as_root /usr/bin/python3.11 -m venv "$venv"
    requirements=$(mktemp)
    # Dependencies only: the package itself is staged for the server (receptor_planner.cluster)
    # or copied into the image, never installed into the venv.
    "$venv/bin/python" - "$pyproject" "$@" > "$requirements" <<'EOF'
import sys, tomllib
project = tomllib.load(open(sys.argv[1], "rb"))["project"]
extras = project.get("optional-dependencies", {})
for group in sys.argv[2:]:
    if group not in extras:
        sys.exit(f"{sys.argv[1]}: no optional-dependencies group {group!r}")
print("\n".join(project["dependencies"] + [r for group in sys.argv[2:] for r in extras[group]]))
EOF
    as_root "$venv/bin/pip" install -q --disable-pip-version-check -r "$requirements"
    rm -f "$requirements"
}

command=${1:-}
[ $# -gt 0 ] && shift
case "$command" in
    system)   install_packages $SERVER_PACKAGES "$@" ;;
    packages) install_packages "$@" ;;
    venv)     [ $# -ge 2 ] || { echo "usage: $0 venv VENV PYPROJECT [EXTRA...]" >&2; exit 2; }
              install_venv "$@" ;;
    *)        echo "usage: $0 system [PACKAGE...] | packages PACKAGE... | venv VENV PYPROJECT [EXTRA...]" >&2
              exit 2 ;;
esac
