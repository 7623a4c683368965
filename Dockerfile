# Multi-stage build: a static feedbackbot binary (pure Go: SQLite is
# modernc.org/sqlite, no cgo) with migrations embedded, run as a non-root user.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/feedbackbot ./cmd/feedbackbot && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/feedbackbot /feedbackbot
COPY --from=build --chown=65532:65532 /out/data /data
USER nonroot:nonroot
WORKDIR /data
# GOMEMLIMIT keeps the start-up peak (building the duplicate index) in bounds;
# raise it for boards far above 100,000 requests.
ENV DATABASE_URL=sqlite:/data/feedbackbot.db FEEDBACKBOT_HTTP_ADDR=:8080 GOMEMLIMIT=250MiB
EXPOSE 8080
ENTRYPOINT ["/feedbackbot"]
