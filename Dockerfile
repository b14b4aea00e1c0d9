# shardctl as one compiled binary in a slim image.
#   docker build -t shardctl .
#   docker run --rm -p 5001:5001 -e SHARDCTL_NAME=db1:5001 -e SHARDCTL_DB=mysql://user:pass@db:3306/expenses shardctl
# The instance listens on every address of the container (SHARDCTL_HOST=0.0.0.0), so it
# needs a node name (SHARDCTL_NAME or --name): the one the clients' --nodes give it.
# Stage 1 builds with the pinned Bun from npm (package.json), stage 2 only runs the binary.

FROM node:22-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json bunfig.toml ./
COPY scripts ./scripts
COPY src ./src
# The image has no .git: pass the commit for `shardctl --version`, e.g.
#   docker build --build-arg SHARDCTL_COMMIT=$(git rev-parse HEAD) -t shardctl .
ARG SHARDCTL_COMMIT=""
RUN node_modules/.bin/bun scripts/build.ts /out/shardctl && /out/shardctl --version

FROM debian:bookworm-slim
# curl answers the health checks (GET /readyz); nothing else is installed.
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --create-home --home-dir /var/lib/shardctl shardctl
COPY --from=build /out/shardctl /usr/local/bin/shardctl
USER shardctl
WORKDIR /var/lib/shardctl
ENV SHARDCTL_HOST=0.0.0.0 SHARDCTL_PORT=5001
EXPOSE 5000 5001
ENTRYPOINT ["shardctl"]
CMD ["serve"]
