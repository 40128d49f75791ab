#!/bin/sh
# make image: gluemetad's OCI image, built with no network but the Debian
# mirror, as root with podman:
#   1. a Debian 12 root filesystem (mmdebstrap --variant=minbase bookworm)
#      with the build dependencies, ca-certificates and tzdata, from the
#      mirrors this machine's apt uses (MIRROR= overrides them); kept in
#      build/oci/builder and made again only when the package list changes
#   2. gluemetad and gluemetactl built inside it, so that the libraries ldd
#      names there are the ones copied
#   3. the image's root: the two binaries (stripped), exactly the libraries
#      ldd names and the dynamic loader, the CA bundle, /usr/share/zoneinfo
#      (the daemon checks zones by path), passwd and group with the user
#      gluemetad (10001), /var/lib/gluemetad and /run/gluemetad owned by it
#   4. podman build FROM scratch (packaging/oci/Containerfile), tagged
#      gluemetad:VERSION, saved as build/gluemetad.oci.tar (oci-archive)
# Usage: packaging/oci/build.sh VERSION
set -eu
version=${1:?usage: packaging/oci/build.sh VERSION}
repo=$(pwd)
out=$repo/build/oci
builder=$out/builder
stage=$out/root
uid=10001
pkgs="gcc libc6-dev make pkg-config binutils libuv1-dev libcurl4-openssl-dev libyaml-dev libcjson-dev libssl-dev libsystemd-dev ca-certificates tzdata"
export CONTAINERS_CONF="$repo/packaging/oci/containers.conf"
t0=$(date +%s)

if [ "$(id -u)" -ne 0 ]; then
	echo "image: needs root (mmdebstrap, chroot, podman)" >&2
	exit 1
fi
mkdir -p "$out"

# 1. the builder, cached
if [ ! -f "$builder.stamp" ] || [ "$(cat "$builder.stamp")" != "$pkgs" ]; then
	if [ -n "${MIRROR:-}" ]; then
		set -- "$MIRROR"
	else
		set --
		for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
			/etc/apt/sources.list.d/*.sources; do
			[ -f "$f" ] && grep -q '^[[:space:]]*\(deb[[:space:]]\|URIs:\)' "$f" &&
				set -- "$@" "$f"
		done
	fi
	rm -rf "$builder" "$builder.stamp"
	echo "image: Debian 12 (minbase) with the build dependencies in $builder"
	mmdebstrap --quiet --variant=minbase --include="$(echo "$pkgs" | tr ' ' ,)" bookworm \
		"$builder" "$@"
	echo "$pkgs" >"$builder.stamp"
else
	echo "image: reusing $builder"
fi

# 2. the binaries, built in the builder from the working tree
rm -rf "$builder/src/gluemetad"
mkdir -p "$builder/src/gluemetad"
tar -C "$repo" -cf - Makefile src include | tar -C "$builder/src/gluemetad" -xf -
chroot "$builder" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	make -s -C /src/gluemetad -j2 BUILD=/src/gluemetad/build all

# 3. the image's root
rm -rf "$stage"
mkdir -p "$stage/usr/sbin" "$stage/usr/bin" "$stage/usr/lib" "$stage/usr/lib64" \
	"$stage/usr/share" "$stage/etc/ssl/certs" "$stage/etc/gluemetad" \
	"$stage/var/lib/gluemetad" "$stage/run/gluemetad" "$stage/tmp"
for d in bin sbin lib lib64; do ln -s "usr/$d" "$stage/$d"; done
cp "$builder/src/gluemetad/build/gluemetad" "$stage/usr/sbin/gluemetad"
cp "$builder/src/gluemetad/build/gluemetactl" "$stage/usr/bin/gluemetactl"
strip --strip-unneeded "$stage/usr/sbin/gluemetad" "$stage/usr/bin/gluemetactl"
# ldd's lines: "libx.so.1 => /lib/.../libx.so.1 (0x...)" and the loader's
# "/lib64/ld-linux-x86-64.so.2 (0x...)"; each copied to its real path
# (usr-merged) under the name ldd gives, the file behind any symlink
libs=$(chroot "$builder" ldd /src/gluemetad/build/gluemetad /src/gluemetad/build/gluemetactl |
	sed -n 's/.*=> \(\/[^ ]*\) (0x.*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (0x.*/\1/p' | sort -u)
n=0
for lib in $libs; do
	real_dir=$(chroot "$builder" readlink -f "$(dirname "$lib")")
	mkdir -p "$stage$real_dir"
	cp -L "$builder$lib" "$stage$real_dir/$(basename "$lib")"
	n=$((n + 1))
done
cp -L "$builder/etc/ssl/certs/ca-certificates.crt" "$stage/etc/ssl/certs/"
cp -a "$builder/usr/share/zoneinfo" "$stage/usr/share/zoneinfo"
# "right/" repeats every zone with leap seconds, which no schedule names
rm -rf "$stage/usr/share/zoneinfo/right"
cat >"$stage/etc/passwd" <<EOF
root:x:0:0:root:/root:/sbin/nologin
gluemetad:x:$uid:$uid:gluemetad:/var/lib/gluemetad:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
EOF
cat >"$stage/etc/group" <<EOF
root:x:0:
gluemetad:x:$uid:
nogroup:x:65534:
EOF
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$stage/etc/nsswitch.conf"
chown "$uid:$uid" "$stage/var/lib/gluemetad" "$stage/run/gluemetad"
chmod 0750 "$stage/var/lib/gluemetad" "$stage/run/gluemetad"
chmod 1777 "$stage/tmp"
tar -C "$stage" --numeric-owner -cf "$out/rootfs.tar" .
echo "image: $n libraries, root filesystem $(du -sk "$stage" | cut -f1) KiB"

# 4. the image; the one it replaces goes
old=$(podman image inspect --format '{{.Id}}' "gluemetad:$version" 2>/dev/null || true)
podman build --quiet --no-cache -f "$repo/packaging/oci/Containerfile" \
	--build-arg VERSION="$version" \
	--build-arg CREATED="$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
	--build-arg REVISION="$(git -C "$repo" rev-parse HEAD 2>/dev/null || echo unknown)" \
	-t "gluemetad:$version" "$out" >/dev/null
new=$(podman image inspect --format '{{.Id}}' "gluemetad:$version")
[ -z "$old" ] || [ "$old" = "$new" ] || podman rmi --force "$old" >/dev/null 2>&1 || true
rm -f "$repo/build/gluemetad.oci.tar"
podman save --quiet --format oci-archive -o "$repo/build/gluemetad.oci.tar" "gluemetad:$version"
size=$(podman image inspect --format '{{.Size}}' "gluemetad:$version")
echo "image: gluemetad:$version, $((size / 1024)) KiB uncompressed," \
	"build/gluemetad.oci.tar $(($(stat -c %s "$repo/build/gluemetad.oci.tar") / 1024)) KiB," \
	"$(($(date +%s) - t0)) s"
