# syntax=docker/dockerfile:1
# One image for every role: the command picks it (npm run scheduler | worker | dashboard), TRADELOOP_ROLE
# tells the health check which one to probe. No secret is baked in: everything comes from the environment.

# 1. Production dependencies only, from the lockfile.
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

# 2. Type-check the sources with the dev dependencies; a broken tree never becomes an image.
FROM node:20-bookworm-slim AS check
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json ./
COPY bin ./bin
COPY src ./src
RUN npx tsc --noEmit

# 3. The runtime: node, production modules, the sources (tsx runs them, no build step), a non-root user.
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    LOG_FORMAT=json \
    PORT=3000 \
    SCHEDULES_FILE=/app/schedules.yaml \
    RESULTS_DIR=/app/results \
    TRADELOOP_ROLE=dashboard
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=check /app/bin ./bin
COPY --from=check /app/src ./src
COPY package.json package-lock.json tsconfig.json schedules.yaml ./
RUN mkdir -p /app/results /app/var && chown -R node:node /app/results /app/var
# The image's own "node" user (uid 1000): never root.
USER node
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 CMD ["node", "bin/tradeloop.mjs", "health"]
CMD ["npm", "run", "dashboard"]
