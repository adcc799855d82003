# kcurl's image: one static binary on an empty base, run as a non-root user.
# Build: podman build --build-arg VERSION=v0.1.0 -t kcurl .
ARG GO_IMAGE=golang:1.26

FROM ${GO_IMAGE} AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOFLAGS=-buildvcs=false GOTOOLCHAIN=local
COPY go.mod go.sum ./
RUN go mod download
COPY main.go ./
COPY cmd ./cmd
COPY pkg ./pkg
ARG VERSION=dev
RUN go build -trimpath -ldflags "-s -w -X github.com/kcurl/kcurl/cmd.version=${VERSION}" -o /out/kcurl .

FROM scratch
COPY --from=build /out/kcurl /kcurl
USER 65532:65532
ENTRYPOINT ["/kcurl"]
