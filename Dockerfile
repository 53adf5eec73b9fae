# Concord: ONE image for every process; the first argument picks it (see deploy/README.md):
#   relation | leadership | meterstatus | multiwatcher   a standalone service (how Kubernetes runs them)
#   migrate [service...]                                  the migration Job
#   controller                                            the all-in-one controller (default)
#   token issue <identity>  |  health [host:port] [service]
# Concord runs its TypeScript from source with tsx, so there is no emit: the build stage installs, generates the
# protobuf code and prunes to production dependencies; the runtime stage is the slim Node image plus /app.
#
# The base is an ordinary name, so Docker pulls the official image; on machines without registry access
# deploy/scripts/build-image.sh makes a local stand-in with the same name (debootstrap + Node from npm).
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
# Behind a TLS-intercepting proxy, the proxy's CA bundle (mounted at build time) for npm; unset elsewhere.
ARG NODE_EXTRA_CA_CERTS
WORKDIR /src
ENV CI=true NPM_CONFIG_AUDIT=false NPM_CONFIG_FUND=false NPM_CONFIG_UPDATE_NOTIFIER=false
COPY . .
# 1. Install from the lock file; `prepare` runs buf + protoc-gen-es into packages/proto/src/gen.
# 2. Production dependencies only, plus tsx (a root devDependency, but it is what runs the TypeScript): it is made
#    a dependency at its locked version in this stage's copy of package.json before pruning.
# 3. Only what runs goes to /out.
RUN npm ci \
 && test -d packages/proto/src/gen \
 && tsx_version="$(node -p 'require("tsx/package.json").version')" \
 && npm pkg set "dependencies.tsx=${tsx_version}" && npm pkg delete devDependencies.tsx \
 && npm prune --omit=dev \
 && node --import tsx --input-type=module -e 'await import("@concord/runtime")' \
 && mkdir /out \
 && cp -a package.json package-lock.json node_modules packages services /out/ \
 && find /out/packages /out/services -name '*.test.ts' -delete

FROM ${NODE_IMAGE}
ENV NODE_ENV=production CONCORD_DATA=/data
WORKDIR /app
COPY --from=build /out /app
COPY deploy/image/concord.sh /usr/local/bin/concord
COPY deploy/image/health-check.mjs /app/deploy/image/health-check.mjs
# A fixed numeric non-root user, so Kubernetes' runAsNonRoot can verify it; /data is the all-in-one's data folder.
RUN chmod 0755 /usr/local/bin/concord && mkdir -p /data && chown 10001:10001 /data
USER 10001:10001
EXPOSE 17070 17100 17110 17120 17130
ENTRYPOINT ["concord"]
CMD ["controller"]
