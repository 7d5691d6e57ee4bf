# Concord: one image for the web server, the Celery worker and Celery beat.
#   web:    docker run -p 8000:8000 --env-file concord.env concord
#   worker: docker run --env-file concord.env concord celery -A hub worker -Q default,inbound,match,outbound
#   beat:   docker run --env-file concord.env concord celery -A hub beat
#   migrate (once per release): docker run --env-file concord.env concord python manage.py migrate
# The image needs DATABASE_URL, REDIS_URL, SECRET_KEY and ALLOWED_HOSTS; it never starts embedded services.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY manage.py ./
COPY hub ./hub
COPY canonical ./canonical
COPY connectors ./connectors
COPY stewardship ./stewardship

# Static files are collected at build time; placeholder URLs only satisfy settings (nothing connects).
RUN DATABASE_URL=postgres://build@localhost/build REDIS_URL=redis://localhost:6379/0 SECRET_KEY=build-only \
    python manage.py collectstatic --noinput \
 && useradd --system --uid 10001 --home-dir /app concord \
 && chown -R concord /app

USER concord
EXPOSE 8000
CMD ["sh", "-c", "gunicorn hub.wsgi:application --bind 0.0.0.0:${PORT:-8000} --workers ${WEB_CONCURRENCY:-3} --access-logfile - --forwarded-allow-ips=${FORWARDED_ALLOW_IPS:-127.0.0.1}"]
