# Rebound's image: the web server (gunicorn), the Celery worker and beat all run from it;
# docker-compose.yml picks the command.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    REBOUND_VAR_DIR=/app/var

WORKDIR /app
RUN useradd --create-home --uid 10001 rebound

# Requirements first, so a code change does not reinstall them.
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# Static files are served by WhiteNoise from var/static. The beat schedule file lives in
# var/ too, so the unprivileged user must own it.
RUN python manage.py collectstatic --noinput \
    && mkdir -p /app/var \
    && chown -R rebound:rebound /app/var

USER rebound
EXPOSE 8000
CMD ["gunicorn", "backend.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
