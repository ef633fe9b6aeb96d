# One image for the api, worker and bot services (compose.yaml). Installed at build time, so
# `docker compose up --scale worker=3` starts three workers without three concurrent pip runs.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
# tzdata: crons run on Asia/Shanghai whatever the host's zone.
RUN apt-get update && apt-get install -y --no-install-recommends tzdata && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . /app
RUN pip install --no-cache-dir -e .
USER nobody
