# The gateway's image built from source, for machines that reach a
# container registry (docker build -t guichet . or podman build -t guichet .).
# Where none is reachable, `make image` builds the same image FROM scratch
# from a locally built binary (deploy/Containerfile). docs/OPERATIONS.md.

# The builder: the Go toolchain of go.mod, a static binary (CGO_ENABLED=0:
# no libc, so it runs on an image without one).
FROM docker.io/library/golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -buildvcs=false -trimpath -ldflags='-s -w' -o /out/guichet ./cmd/guichet

# The image: distroless "static" (CA certificates, tzdata, /tmp, no shell,
# no package manager), as its non-root user.
FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=dev
ARG REVISION=unknown
COPY --from=build /out/guichet /usr/local/bin/guichet
USER 65532:65532
EXPOSE 8080 9090
ENTRYPOINT ["/usr/local/bin/guichet"]
CMD ["serve", "--config", "/etc/guichet/guichet.yaml"]
LABEL org.opencontainers.image.title="guichet" \
      org.opencontainers.image.description="USSD/SMS gateway for public services" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
