#!/usr/bin/env bash
# Builds the container image's root file system for Jib's `scratch` base (sigil-cli, profile `image`):
#   /opt/java        a Java runtime jlinked from the build's JDK (every java.* module and the few jdk.*
#                    ones Sigil's libraries use)
#   /lib, /lib64     glibc, extracted from the Debian package `libc6` (apt-get download; no base image)
#   /etc             passwd and group with the unprivileged user 65532 the image runs as, nsswitch.conf
# Usage: build-root.sh OUTPUT_DIR JAVA_HOME. Needs a Debian or Ubuntu build host (apt-get, dpkg-deb) that
# can reach its package mirror; docs/deployment.md ("Container image") has the alternative base for others.
set -euo pipefail
out=$1
java_home=$2
for tool in apt-get dpkg-deb; do
  command -v "$tool" >/dev/null || { echo "build-root: $tool is missing; the image profile needs a Debian or Ubuntu build host" >&2; exit 1; }
done
rm -rf "$out"
mkdir -p "$out/opt" "$out/etc" "$out/tmp"

"$java_home/bin/jlink" --add-modules java.se,jdk.unsupported,jdk.crypto.ec,jdk.crypto.cryptoki,jdk.zipfs,jdk.naming.dns,jdk.net,jdk.management,jdk.charsets \
  --strip-debug --no-man-pages --no-header-files --output "$out/opt/java"

debs=$(mktemp -d)
trap 'rm -rf "$debs"' EXIT
(cd "$debs" && apt-get download -qq libc6)
for deb in "$debs"/*.deb; do
  dpkg-deb -x "$deb" "$out"
  echo "build-root: $(dpkg-deb -f "$deb" Package) $(dpkg-deb -f "$deb" Version) from $(basename "$deb")" >&2
done
rm -rf "$out/usr/share" "$out/usr/lib/x86_64-linux-gnu/gconv" "$out/etc/ld.so.conf.d" "$out/sbin" "$out/usr/bin" "$out/usr/sbin"

# Jib copies what a symlink points at, and would resolve an absolute link on this host: replace each link
# by a copy of its target inside the image root.
find "$out" -type l | while read -r link; do
  target=$(readlink "$link")
  case "$target" in /*) source="$out$target" ;; *) source="$(dirname "$link")/$target" ;; esac
  cp --remove-destination "$(readlink -f "$source")" "$link"
done

cat > "$out/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
PASSWD
cat > "$out/etc/group" <<'GROUP'
root:x:0:
nonroot:x:65532:
GROUP
echo 'hosts: files dns' > "$out/etc/nsswitch.conf"
