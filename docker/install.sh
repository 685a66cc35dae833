#!/bin/sh
# What the planner's PostgreSQL server needs, installed the same way by `make` (targets system, venv)
# and by Dockerfile.postgres. Idempotent: installed packages are skipped.
#
#   install.sh system [PACKAGE...]              the server's Debian packages, and any others named
#   install.sh packages PACKAGE...              only the Debian packages named
#   install.sh venv VENV PYPROJECT [EXTRA...]   a venv of Debian's python3.11 with pyproject's dependencies
#                                               and its optional-dependency groups EXTRA (make: test build;
#                                               "build" is what pyproject's [build-system] requires), at
#                                               the versions of requirements.lock beside pyproject
#   install.sh project VENV DIR                 the project in DIR itself into VENV, editable (its `planner`
#                                               command runs DIR's code), built without isolation by the
#                                               venv's build system (the group "build", installed first)
#   install.sh lock PYPROJECT                   write that requirements.lock: every package pyproject's
#                                               dependencies and all its groups bring, as pip resolves today
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

# pyproject's dependencies and the named optional groups ("all": every group), one per line. The group
# "build" is what its [build-system] requires: the project is built in the venv, without isolation.
requirements_of() {
    pyproject=$1
    shift
    /usr/bin/python3.11 - "$pyproject" "$@" <<'EOF'
import sys, tomllib
document = tomllib.load(open(sys.argv[1], "rb"))
project = document["project"]
extras = {**project.get("optional-dependencies", {}), "build": document["build-system"]["requires"]}
groups = list(extras) if sys.argv[2:] == ["all"] else sys.argv[2:]
for group in groups:
    if group not in extras:
        sys.exit(f"{sys.argv[1]}: no optional-dependencies group {group!r}")
print("\n".join(project["dependencies"] + [r for group in groups for r in extras[group]]))
EOF
}

install_venv() {
    venv=$1 pyproject=$2
    shift 2
    lock=$(dirname "$pyproject")/requirements.lock
    [ -x "$venv/bin/python" ] || as_root /usr/bin/python3.11 -m venv "$venv"
    requirements=$(mktemp)
    # Dependencies only: the core is staged for the server (receptor_planner_tools.cluster) or copied
    # into the image; make installs the project itself apart (install_project), the image never does.
    requirements_of "$pyproject" "$@" > "$requirements"
    # The lock as constraints: pyproject says which packages, the lock at which versions.
    as_root "$venv/bin/pip" install -q --disable-pip-version-check -r "$requirements" -c "$lock"
    rm -f "$requirements"
}

# The project's dependencies and build system first (nothing to do after `venv ... build`), then the
# project, built by the venv's own build system (--no-build-isolation: nothing fetched, the lock's
# versions). The server never imports this install: plpython reads no .pth file, and it imports the core
# from its staged copy.
install_project() {
    venv=$1 dir=$2
    install_venv "$venv" "$dir/pyproject.toml" build
    as_root "$venv/bin/pip" install -q --disable-pip-version-check --no-deps --no-build-isolation -e "$dir"
}

write_lock() {
    pyproject=$1
    lock=$(dirname "$pyproject")/requirements.lock
    scratch=$(mktemp -d)
    /usr/bin/python3.11 -m venv "$scratch/venv"
    requirements_of "$pyproject" all > "$scratch/requirements.txt"
    "$scratch/venv/bin/pip" install -q --disable-pip-version-check -r "$scratch/requirements.txt"
    {
        echo "# Written by \`make lock\` (docker/install.sh lock) from pyproject.toml: every package of the venv"
        echo "# at the version tested. make and Dockerfile.postgres install with it as pip constraints."
        # --all: setuptools and wheel too (the group "build"); pip is the venv's own
        "$scratch/venv/bin/pip" freeze --disable-pip-version-check --all --exclude pip
    } > "$lock"
    rm -rf "$scratch"
    echo "wrote $lock"
}

command=${1:-}
[ $# -gt 0 ] && shift
case "$command" in
    system)   install_packages $SERVER_PACKAGES "$@" ;;
    packages) install_packages "$@" ;;
    venv)     [ $# -ge 2 ] || { echo "usage: $0 venv VENV PYPROJECT [EXTRA...]" >&2; exit 2; }
              install_venv "$@" ;;
    project)  [ $# -eq 2 ] || { echo "usage: $0 project VENV DIR" >&2; exit 2; }
              install_project "$@" ;;
    lock)     [ $# -eq 1 ] || { echo "usage: $0 lock PYPROJECT" >&2; exit 2; }
              write_lock "$1" ;;
    *)        echo "usage: $0 system [PACKAGE...] | packages PACKAGE... | venv VENV PYPROJECT [EXTRA...]" \
                   "| project VENV DIR | lock PYPROJECT" >&2
              exit 2 ;;
esac
