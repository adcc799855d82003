# kcurl's image: one static binary on an empty base, run as a non-root user.
#   podman build --build-arg VERSION=v0.1.0 -t kcurl .
#   podman build --platform linux/arm64 -t kcurl:arm64 .   (any platform Go targets)
# The build stage runs on the builder's own platform and cross-compiles, so
# no emulation is needed: the final stage is scratch. (scripts/image.sh
# builds it where no registry is reachable, and `image.sh multiarch` makes
# the linux/amd64 + linux/arm64 manifest list.)
ARG GO_IMAGE=golang:1.26
# BuildKit sets it; podman 4.3's buildah needs --build-arg BUILDPLATFORM=…
# (scripts/image.sh passes it) and otherwise builds for its own platform.
ARG BUILDPLATFORM

FROM --platform=$BUILDPLATFORM ${GO_IMAGE} AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOFLAGS=-buildvcs=false GOTOOLCHAIN=local
COPY go.mod go.sum ./
RUN go mod download
COPY main.go ./
COPY cmd ./cmd
COPY pkg ./pkg
ARG VERSION=dev
ARG COMMIT=
ARG DATE=
# Set by podman/buildah and BuildKit from --platform; empty means the
# builder's own.
ARG TARGETOS
ARG TARGETARCH
RUN GOOS=${TARGETOS} GOARCH=${TARGETARCH} go build -tags urfave_cli_no_docs -trimpath -o /out/kcurl \
    -ldflags "-s -w -X github.com/kcurl/kcurl/cmd.version=${VERSION} -X github.com/kcurl/kcurl/cmd.commit=${COMMIT} -X github.com/kcurl/kcurl/cmd.date=${DATE}" .
# File capabilities for `kubectl debug --target` (docs/security.md): permitted
# only, no effective bit, so the binary starts under `drop: [ALL]` and kcurl
# raises them itself, on one thread, only to open another container's
# service-account files. Written by a tool of our own: no setcap here (it
# runs on the build platform and writes an xattr, whatever the binary's
# architecture).
COPY scripts/filecap ./scripts/filecap
RUN go run ./scripts/filecap /out/kcurl cap_sys_ptrace,cap_dac_override

FROM scratch
ARG VERSION=dev
LABEL org.opencontainers.image.title="kcurl" \
      org.opencontainers.image.description="curl for the Kubernetes API, from inside a Pod" \
      org.opencontainers.image.source="https://github.com/kcurl/kcurl" \
      org.opencontainers.image.version="${VERSION}"
COPY --from=build /out/kcurl /kcurl
# 65532 is "nonroot" in distroless images; any user works: kcurl writes
# nothing but its discovery cache, and skips it on a read-only filesystem.
USER 65532:65532
ENTRYPOINT ["/kcurl"]
