# Multi-stage build: a static binary in a minimal image, run as non-root.
# The builder's Go is the version of go.mod's go line (1.26.8).
FROM golang:1.26.8 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /newsletter ./cmd/newsletter

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /newsletter /newsletter
USER nonroot:nonroot
EXPOSE 8080
ENTRYPOINT ["/newsletter"]
