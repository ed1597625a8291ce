# Storj Registry: the Docker Desktop extension image.
#
#   scripts/build-extension.sh        (or: make extension)
#   DOCKER_BUILDKIT=0 docker build --network host -t storj-registry-extension:0.1.0 .
#
# --network host lets the build stage reach Debian's package mirror through
# the host's network (the test engine runs without a bridge). The base image
# is debian:bookworm-slim; where Docker Hub cannot be reached,
# tests/env/base-image.sh makes one with debootstrap.
#
# The final image is FROM scratch: the backend, exactly the shared libraries
# it is linked against (from the build stage, so the versions match), the CA
# bundle for HTTPS to Storj, and the extension's files. The build checks in a
# chroot that the binary starts with nothing else around it.
#
# SLIM=1 (default) links libcurl and libmicrohttpd statically, built from
# Debian's own patched sources (apt-get source, same versions and security
# fixes as the packages) with only what the backend uses: libcurl with HTTP(S)
# over OpenSSL and Unix sockets, without LDAP, SSH, Kerberos, RTMP, IDN, PSL,
# HTTP/2, brotli and zstd; libmicrohttpd without HTTPS (the backend serves a
# Unix socket and loopback only). Debian's packages drag in GnuTLS, Kerberos,
# LDAP and libssh2 (about 10 MB of libraries the backend never calls); the
# image is about 9 MB instead of about 20 MB, and the first build takes
# about 2 minutes longer (the stage is cached afterwards).
# SLIM=0 uses Debian's shared libcurl and libmicrohttpd instead.

ARG BASE_IMAGE=debian:bookworm-slim

FROM ${BASE_IMAGE} AS build
ARG SLIM=1
ENV DEBIAN_FRONTEND=noninteractive
RUN set -eu; \
    if [ "$SLIM" = 1 ]; then \
      sed -i 's/^Types: deb$/Types: deb deb-src/' /etc/apt/sources.list.d/*.sources 2>/dev/null || true; \
      sed -n 's/^deb \(.*\)/deb-src \1/p' /etc/apt/sources.list > /etc/apt/sources.list.d/src.list 2>/dev/null || true; \
      extra="dpkg-dev autoconf automake libtool patch zlib1g-dev"; \
    else \
      extra="libmicrohttpd-dev libcurl4-openssl-dev"; \
    fi; \
    apt-get update; \
    apt-get install -y --no-install-recommends \
      gcc libc6-dev make pkg-config binutils ca-certificates libjansson-dev libssl-dev $extra; \
    rm -rf /var/lib/apt/lists/*
WORKDIR /deps
RUN set -eu; \
    [ "$SLIM" = 1 ] || exit 0; \
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
    ./configure -q --prefix=/opt/deps --disable-shared --enable-static \
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
    cd /deps/libmicrohttpd-*/; \
    ./configure -q --prefix=/opt/deps --disable-shared --enable-static --disable-https \
      --disable-curl --disable-doc --disable-examples >/dev/null; \
    make -j"$(nproc)" -s -C src/microhttpd >/dev/null; \
    make -s -C src/microhttpd install >/dev/null; \
    make -s -C src/include install >/dev/null; \
    make -s install-pkgconfigDATA >/dev/null; \
    rm -rf /deps/*; \
    PKG_CONFIG_PATH=/opt/deps/lib/pkgconfig pkg-config --modversion libcurl libmicrohttpd
ENV PKG_CONFIG_PATH=/opt/deps/lib/pkgconfig
WORKDIR /src
COPY Makefile ./
COPY backend/ backend/
# SLIM: every library but libc linked in statically, OpenSSL included: a
# dynamically loaded libcrypto alone costs about 3 MiB of resident pages
# (relocations) before it does anything
RUN set -eu; \
    if [ "$SLIM" = 1 ]; then \
      make backend/storj-registryd LDFLAGS=-no-pie LDLIBS="-L/opt/deps/lib -Wl,-Bstatic -lcurl -lmicrohttpd -ljansson -lssl -lcrypto -lz -Wl,-Bdynamic -pthread -ldl"; \
    else \
      make backend/storj-registryd; \
    fi
# The run-time file system: binary, its libraries at the paths the loader
# looks for, the CA bundle, and empty mount points.
RUN set -eu; \
    R=/rootfs; \
    mkdir -p $R/etc/ssl/certs $R/tmp $R/data $R/run/guest-services $R/var; \
    ln -s /run $R/var/run; \
    chmod 1777 $R/tmp; \
    install -m 0755 backend/storj-registryd $R/storj-registryd; \
    strip --strip-unneeded $R/storj-registryd; \
    for lib in $(ldd backend/storj-registryd | grep -o '/[^ ]*'); do \
      cp -L --parents "$lib" $R/; \
    done; \
    cp /etc/ssl/certs/ca-certificates.crt $R/etc/ssl/certs/; \
    printf 'hosts: files dns\n' > $R/etc/nsswitch.conf; \
    printf 'root:x:0:0:root:/:/storj-registryd\n' > $R/etc/passwd; \
    printf 'root:x:0:\n' > $R/etc/group; \
    chroot $R /storj-registryd --version

FROM scratch
ARG VERSION=0.1.0
# Where the project lives. Release builds pass the real address with
# --build-arg PROJECT_URL=...; the labels below are derived from it.
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
COPY --from=build /rootfs/ /
COPY metadata.json docker-compose.yaml icon.svg /
COPY ui/ /ui/
CMD ["/storj-registryd", "--socket", "/run/guest-services/backend.sock", "--state-dir", "/data", "--ui", "/ui"]
