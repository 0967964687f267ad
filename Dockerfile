# syntax=docker/dockerfile:1
# The pumpwatch consumer worker (ECS Fargate). Build context: the repository root (see .dockerignore).
# TypeScript runs through tsx at runtime (a production dependency), so there is no build step.
FROM node:20-slim

ENV NODE_ENV=production
WORKDIR /app

# Dependencies first, for layer caching.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force

COPY tsconfig.json ./
COPY bin ./bin
COPY shared ./shared
COPY services ./services
# CDK-free infra modules runtime code may import (metric names, archive layout, env names).
COPY infra/metrics.ts infra/archive-layout.ts infra/env.ts ./infra/

USER node

# SIGTERM goes to node directly (ECS runs an init process as PID 1, see the task definition), so the
# worker drains and checkpoints before the stop timeout.
ENTRYPOINT ["node", "bin/pumpwatch.js"]
CMD ["worker"]
