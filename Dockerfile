# One image for every service: `sinp up --services <name>` picks the service.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/root/go/pkg/mod \
    CGO_ENABLED=0 go build -trimpath -o /out/sinp ./cmd/sinp

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/sinp --create-home sinp \
    && install -d -o sinp -g sinp -m 0750 /var/lib/sinp/auth /var/lib/sinp/staging /var/lib/sinp/dropzones /var/lib/sinp/secrets
# (Named volumes mounted there start as these folders, owned by sinp: not
# root's, which the service could not write.)
COPY --from=build /out/sinp /usr/local/bin/sinp
USER sinp
WORKDIR /var/lib/sinp
ENV SINP_DATA_DIR=/var/lib/sinp \
    SINP_GRPC_ADDR=0.0.0.0:7400 \
    SINP_HTTP_ADDR=0.0.0.0:7401 \
    SINP_LOG_FORMAT=json
EXPOSE 7400 7401
HEALTHCHECK --interval=10s --timeout=5s --retries=6 CMD ["sinp", "health", "--addr", "127.0.0.1:7400", "--json"]
ENTRYPOINT ["sinp"]
CMD ["up"]
