# Storj Registry: the Docker Desktop extension, for linux/amd64 and linux/arm64.
#
#   scripts/build-extension.sh        (or: make extension)
#
# A plain `docker build .` gives the meta stage (the compilers and both file
# systems, about 580 MB), not the extension image: the image is assembled
# by the script.
#
# This Dockerfile does the compiling; scripts/build-extension.sh turns its
# output into ONE multi-platform image (an OCI image index) without buildx:
#
#   1. `DOCKER_BUILDKIT=0 docker build --network host --target meta` runs the
#      `build` stage once, on the machine's own architecture, and compiles the
#      backend for every architecture in ARCHES: natively for its own, with
#      Debian's cross compiler (gcc-aarch64-linux-gnu on amd64,
#      gcc-x86-64-linux-gnu on arm64) and Debian's multiarch libraries
#      (libssl-dev:arm64, ...) for the other. Each architecture's complete
#      run-time file system ends up in /out/<arch>/rootfs.
#   2. The `meta` stage holds the image's labels and command; the script
#      reads them from that stage's config.
#   3. scripts/oci-image.sh, run in a container of the `meta` stage, packs
#      each rootfs as one layer, writes one image config per platform (the
#      labels, the command, `architecture`, `os`) and an image index over
#      both: build/storj-registry-extension-VERSION.oci.tar, an OCI image
#      layout that `docker load` takes (all platforms on the containerd image
#      store; the machine's own platform on the classic store, through the
#      Docker manifest.json in the same tar).
#
# --network host lets the build stage reach Debian's package mirror through
# the host's network (the test engine runs without a bridge). The base image
# is debian:bookworm-slim; where Docker Hub cannot be reached,
# tests/env/base-image.sh makes one with debootstrap.
#
# Each image is a file system FROM scratch: the backend, exactly the shared
# libraries it is linked against (libc and the loader, from Debian's packages
# of that architecture), the CA bundle for HTTPS to Storj, and the
# extension's files. The build checks in a chroot that the native binary
# starts with nothing else around it; tests/integration/test_extension_image.sh
# does the same for the other architecture under qemu-user-static.
#
# libcurl and libmicrohttpd are built from Debian's own patched sources
# (apt-get source: the same versions and security fixes as the packages) with
# only what the backend uses: libcurl with HTTP(S) over OpenSSL and Unix
# sockets, without LDAP, SSH, Kerberos, RTMP, IDN, PSL, HTTP/2, brotli and
# zstd; libmicrohttpd without HTTPS (the backend serves a Unix socket and
# loopback only). Every library but libc is linked statically, OpenSSL
# included, into a non-PIE binary: a dynamically loaded libcrypto alone costs
# about 3 MiB of resident pages (relocations) before it does anything, and
# Debian's shared libcurl drags in GnuTLS, Kerberos, LDAP and libssh2. The
# image is about 7 MB per platform. The first build takes a few minutes
# (the stage is cached afterwards).

ARG BASE_IMAGE=debian:bookworm-slim

FROM ${BASE_IMAGE} AS build
# the image's platforms, as Debian architectures (linux/amd64, linux/arm64)
ARG ARCHES="amd64 arm64"
ENV DEBIAN_FRONTEND=noninteractive
# The tools, and the libraries of every architecture: the machine's own from
# the normal packages, the others as multiarch packages (pkg:arm64) next to a
# cross compiler. deb-src for `apt-get source` below.
RUN set -eu; \
    sed -i 's/^Types: deb$/Types: deb deb-src/' /etc/apt/sources.list.d/*.sources 2>/dev/null || true; \
    sed -n 's/^deb \(.*\)/deb-src \1/p' /etc/apt/sources.list > /etc/apt/sources.list.d/src.list 2>/dev/null || true; \
    native=$(dpkg --print-architecture); \
    pkgs="gcc libc6-dev make pkg-config binutils ca-certificates dpkg-dev autoconf automake libtool patch jq \
          libjansson-dev libssl-dev zlib1g-dev libsqlite3-dev libyaml-dev"; \
    for a in $ARCHES; do \
      [ "$a" != "$native" ] || continue; \
      case $a in amd64) t=x86-64-linux-gnu ;; arm64) t=aarch64-linux-gnu ;; \
        *) echo "unsupported architecture $a" >&2; exit 1 ;; esac; \
      dpkg --add-architecture "$a"; \
      pkgs="$pkgs gcc-$t binutils-$t libc6-dev:$a libjansson-dev:$a libssl-dev:$a zlib1g-dev:$a libsqlite3-dev:$a libyaml-dev:$a"; \
    done; \
    apt-get update; \
    apt-get install -y --no-install-recommends $pkgs; \
    rm -rf /var/lib/apt/lists/*
# cross.sh defines `cross ARCH`: sets TRIPLET, HOST (configure's --host,
# empty when native), CC, STRIP and PKG_CONFIG_LIBDIR for ARCH
RUN set -eu; \
    { echo 'cross() {'; \
      echo '  TRIPLET=$(dpkg-architecture -a"$1" -qDEB_HOST_MULTIARCH 2>/dev/null)'; \
      echo '  if [ "$1" = "$(dpkg --print-architecture)" ]; then HOST= CC=gcc STRIP=strip; unset PKG_CONFIG_LIBDIR;'; \
      echo '  else HOST=$TRIPLET CC=$TRIPLET-gcc STRIP=$TRIPLET-strip;'; \
      echo '    export PKG_CONFIG_LIBDIR=/usr/lib/$TRIPLET/pkgconfig:/usr/share/pkgconfig; fi'; \
      echo '  export CC'; \
      echo '}'; \
    } > /usr/local/lib/cross.sh; \
    . /usr/local/lib/cross.sh; \
    for a in $ARCHES; do cross "$a"; echo "$a: $TRIPLET, $CC, $($CC -dumpmachine)"; done
WORKDIR /deps
RUN set -eu; \
    apt-get update -q; \
    apt-get source -q curl libmicrohttpd >/dev/null 2>&1; \
    rm -rf /var/lib/apt/lists/*; \
    echo "building from Debian sources:" *.dsc; \
    cd /deps/curl-*/; \
    # Debian builds its OpenSSL flavour with the GnuTLS/NSS renaming patches
    # taken off again; so do we
    patch -R -s -p1 < debian/patches/99_nss.patch; \
    patch -R -s -p1 < debian/patches/90_gnutls.patch; \
    autoreconf -fi >/dev/null 2>&1; \
    . /usr/local/lib/cross.sh; \
    # the architectures side by side (configure runs on one core)
    pids=; \
    for a in $ARCHES; do \
      ( set -e; \
      cross "$a"; \
      echo "== curl and libmicrohttpd for $a"; \
      cp -a /deps/curl-*/ /deps/build-curl-$a; \
      cd /deps/build-curl-$a; \
      ./configure -q ${HOST:+--host=$HOST} --prefix=/opt/deps/$a --disable-shared --enable-static \
        --with-openssl --with-ca-bundle=/etc/ssl/certs/ca-certificates.crt --with-ca-path=/etc/ssl/certs \
        --enable-threaded-resolver --enable-ipv6 --enable-unix-sockets --enable-proxy \
        --disable-ldap --disable-ldaps --disable-rtsp --disable-dict --disable-telnet \
        --disable-tftp --disable-pop3 --disable-imap --disable-smb --disable-smtp \
        --disable-gopher --disable-mqtt --disable-ftp --disable-file --disable-manual \
        --without-libssh2 --without-libssh --without-librtmp --without-libpsl --without-brotli \
        --without-zstd --without-nghttp2 --without-gssapi --without-libidn2 >/dev/null; \
      make -j"$(nproc)" -s -C lib >/dev/null; \
      make -s -C lib install >/dev/null; \
      make -s -C include install >/dev/null; \
      make -s install-pkgconfigDATA >/dev/null; \
      cp -a /deps/libmicrohttpd-*/ /deps/build-mhd-$a; \
      cd /deps/build-mhd-$a; \
      ./configure -q ${HOST:+--host=$HOST} --prefix=/opt/deps/$a --disable-shared --enable-static --disable-https \
        --disable-curl --disable-doc --disable-examples >/dev/null; \
      make -j"$(nproc)" -s -C src/microhttpd >/dev/null; \
      make -s -C src/microhttpd install >/dev/null; \
      make -s -C src/include install >/dev/null; \
      make -s install-pkgconfigDATA >/dev/null; \
      cd /deps; rm -rf /deps/build-curl-$a /deps/build-mhd-$a; \
      PKG_CONFIG_PATH=/opt/deps/$a/lib/pkgconfig pkg-config --modversion libcurl libmicrohttpd; \
      ) > /deps/log-$a 2>&1 & pids="$pids $!"; \
    done; \
    fail=0; for p in $pids; do wait $p || fail=1; done; \
    for a in $ARCHES; do cat /deps/log-$a; done; \
    [ $fail = 0 ]; \
    rm -rf /deps/*
# The backend for each architecture, and its run-time file system: binary,
# its shared libraries (read from the ELF headers, so that it works for a
# foreign architecture too) at the paths the loader looks for, the CA bundle,
# and empty mount points.
COPY Makefile /src/
COPY backend/ /src/backend/
RUN set -eu; \
    . /usr/local/lib/cross.sh; \
    for a in $ARCHES; do \
      cross "$a"; \
      echo "== storj-registryd for $a"; \
      B=/build/$a; R=/out/$a/rootfs; \
      mkdir -p $B; cp -a /src/Makefile /src/backend $B/; \
      PKG_CONFIG_PATH=/opt/deps/$a/lib/pkgconfig make -j"$(nproc)" -s -C $B backend/storj-registryd LDFLAGS=-no-pie \
        LDLIBS="-L/opt/deps/$a/lib -Wl,-Bstatic -lcurl -lmicrohttpd -ljansson -lsqlite3 -lyaml -lssl -lcrypto -lz -lcrypt -Wl,-Bdynamic -pthread -ldl -lm"; \
      mkdir -p $R/etc/ssl/certs $R/tmp $R/data $R/run/guest-services $R/var; \
      ln -s /run $R/var/run; \
      chmod 1777 $R/tmp; \
      install -m 0755 $B/backend/storj-registryd $R/storj-registryd; \
      $STRIP --strip-unneeded $R/storj-registryd; \
      interp=$(readelf -l $R/storj-registryd | sed -n 's/.*program interpreter: \(.*\)\]$/\1/p'); \
      todo="$R/storj-registryd"; done_libs=; \
      cp -L --parents "$interp" $R/; \
      while [ -n "$todo" ]; do \
        set -- $todo; f=$1; shift; todo="$*"; \
        for lib in $(readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'); do \
          case " $done_libs " in *" $lib "*) continue ;; esac; \
          done_libs="$done_libs $lib"; \
          p=; for d in /lib/$TRIPLET /usr/lib/$TRIPLET; do [ -e $d/$lib ] && { p=$d/$lib; break; }; done; \
          [ -n "$p" ] || { echo "$a: $lib not found" >&2; exit 1; }; \
          [ -e "$R$p" ] || cp -L --parents "$p" $R/; \
          todo="$todo $R$p"; \
        done; \
      done; \
      cp /etc/ssl/certs/ca-certificates.crt $R/etc/ssl/certs/; \
      printf 'hosts: files dns\n' > $R/etc/nsswitch.conf; \
      printf 'root:x:0:0:root:/:/storj-registryd\n' > $R/etc/passwd; \
      printf 'root:x:0:\n' > $R/etc/group; \
      echo "$a: $(readelf -h $R/storj-registryd | sed -n 's/^ *Machine: *//p'), interpreter $interp, libraries$done_libs"; \
      if [ "$a" = "$(dpkg --print-architecture)" ]; then chroot $R /storj-registryd --version; fi; \
    done; \
    rm -rf /build
COPY metadata.json docker-compose.yaml icon.svg /ext/
COPY ui/ /ext/ui/
COPY scripts/oci-image.sh /usr/local/bin/oci-image
RUN set -eu; \
    for a in $ARCHES; do cp -a /ext/. /out/$a/rootfs/; done; \
    du -sh /out/*/rootfs

# ---- the image's labels and command ------------------------------------------
# Nobody runs this stage: scripts/build-extension.sh reads .Config.Labels and
# .Config.Cmd from it and scripts/oci-image.sh writes them into the config of
# each platform's image.
FROM build AS meta
ARG VERSION=0.1.0
# Where the project lives. Release builds pass the real address with
# PROJECT_URL=... (a --build-arg); the labels below are derived from it.
ARG PROJECT_URL=https://github.com/storj-registry/storj-registry
LABEL org.opencontainers.image.title="Storj Registry" \
      org.opencontainers.image.description="A private Docker registry on localhost that keeps your images in a Storj bucket (end-to-end encrypted), any S3 bucket, or a local volume." \
      org.opencontainers.image.vendor="Storj Registry contributors" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="${PROJECT_URL}" \
      com.docker.desktop.extension.api.version=">= 0.3.3" \
      com.docker.desktop.extension.icon="${PROJECT_URL}/raw/main/icon.svg" \
      com.docker.extension.screenshots="[{\"alt\":\"Storj Registry, light theme\",\"url\":\"${PROJECT_URL}/raw/main/docs/screenshots/light.png\"},{\"alt\":\"Storj Registry, dark theme\",\"url\":\"${PROJECT_URL}/raw/main/docs/screenshots/dark.png\"}]" \
      com.docker.extension.detailed-description="<p>Run a Docker registry at <code>localhost:9999</code> and keep every image in your own storage: a Storj bucket through Storj's self-hosted S3 gateway (your access grant never leaves the machine and data is encrypted before it leaves), Storj's hosted gateway, any S3-compatible service, or a local volume.</p><ul><li>Paste an access grant and a bucket name, press Start, then <code>docker push localhost:9999/app</code>.</li><li>The access grant is read offline: satellite, permissions, buckets and expiry, with warnings before anything fails.</li><li>See the registry's state, what it stores, and its logs.</li></ul>" \
      com.docker.extension.publisher-url="${PROJECT_URL}" \
      com.docker.extension.additional-urls="[{\"title\":\"Documentation\",\"url\":\"${PROJECT_URL}#readme\"},{\"title\":\"Issues\",\"url\":\"${PROJECT_URL}/issues\"},{\"title\":\"Storj\",\"url\":\"https://www.storj.io\"}]" \
      com.docker.extension.changelog="<ul><li>${VERSION}: first release: Storj (self-hosted gateway), Storj hosted gateway, S3 and local storage; offline access-grant inspection; status, contents and logs in the tab.</li></ul>" \
      com.docker.extension.categories="image-registry"
CMD ["/storj-registryd", "--socket", "/run/guest-services/backend.sock", "--state-dir", "/data", "--ui", "/ui"]
