# Zoo KMS image: Debian's SoftHSM2 and Node.js 20; native addons build from source at npm ci.
FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends softhsm2 opensc python3 make g++ \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/zoo-kms
COPY package.json package-lock.json .npmrc ./
COPY native ./native
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY bin ./bin
RUN npm run build && npm prune --omit=dev
ENV KMS_DATA_DIR=/var/lib/zoo-kms KMS_HOST=0.0.0.0 KMS_PORT=8200 NODE_ENV=production
VOLUME /var/lib/zoo-kms
EXPOSE 8200
USER node
CMD ["node", "dist/main.js"]
