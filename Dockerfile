# Multi-stage build: a static feedbackbot binary (pure Go: SQLite is
# modernc.org/sqlite, no cgo) with migrations embedded, run as a non-root user.
# VERSION is what `feedbackbot version` prints:
#   docker build --build-arg VERSION=$(git describe --tags --always --dirty) -t feedbackbot .
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.Version=${VERSION}" -o /out/feedbackbot ./cmd/feedbackbot && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/feedbackbot /feedbackbot
COPY --from=build --chown=65532:65532 /out/data /data
USER nonroot:nonroot
WORKDIR /data
# The SQLite file (DATABASE_URL below) lives here: keep it in a volume.
VOLUME /data
# The bot sets its own soft memory limit (250 MiB, or 1.6 x the live heap
# on a bigger board); a GOMEMLIMIT given to `docker run -e` overrides it.
ENV DATABASE_URL=sqlite:/data/feedbackbot.db FEEDBACKBOT_HTTP_ADDR=:8080
EXPOSE 8080
# distroless has no curl: the binary asks its own /readyz.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 CMD ["/feedbackbot", "healthcheck"]
ENTRYPOINT ["/feedbackbot"]
# `serve`: the chat adapters whose tokens are set, the board, the API and the
# delivery worker; never the terminal console (`docker run -it IMAGE console`).
CMD ["serve"]
