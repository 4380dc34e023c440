# One image for every process of docker-compose.yml; each service picks its Procfile command.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
RUN useradd --create-home --uid 1000 yakku

# Dependencies first, so a code change does not reinstall them.
COPY pyproject.toml README.md ./
RUN mkdir -p yakku api admission workers storefront events && pip install . && pip uninstall -y yakku

COPY . .
# Editable: the Procfile and static/ live beside the packages, where the code looks for them.
RUN pip install --no-deps -e . && mkdir -p /data/instance && chown -R yakku /data

USER yakku
ENV YAKKU_INSTANCE_PATH=/data/instance
EXPOSE 8000 8001 8003
CMD ["yakku", "--help"]
