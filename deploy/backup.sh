#!/usr/bin/env bash
# Dumps the assistant's PostgreSQL database (conversations, staff feedback, knowledge
# base) into $BACKUP_DIR and deletes the dumps older than $BACKUP_KEEP_DAYS days.
#
#   TRACKER_DB_URL=postgresql://... deploy/backup.sh      (assistant-backup.service)
#
# The password goes to pg_dump in its environment (PGPASSWORD), never on its command
# line (which `ps` shows to every local user); a password-less URL with PGPASSFILE works too.
# The dumps hold conversations: keep them on encrypted storage, readable by the
# assistant's account only (this script writes them with mode 600), and no longer than
# needed. A conversation deleted by the retention job or erased by its author survives
# in the dumps until they are deleted: at most BACKUP_KEEP_DAYS more days.
# Restore: docs/deploy.md ("Backups").
set -euo pipefail

: "${TRACKER_DB_URL:?set TRACKER_DB_URL (postgresql://user:password@host:port/database)}"
backup_dir="${BACKUP_DIR:-/var/backups/assistant}"
keep_days="${BACKUP_KEEP_DAYS:-7}"
# pg_dump wants a libpq URL without the password: drop SQLAlchemy's driver name
# (postgresql+psycopg2://) and move the (URL-decoded) password to PGPASSWORD.
split_url='
import os, sys
from urllib.parse import unquote, urlsplit
url = urlsplit(os.environ["TRACKER_DB_URL"])
scheme = "postgresql" if url.scheme.startswith("postgres") else url.scheme
netloc = url.netloc.rsplit("@", 1)
user = (netloc[0].split(":", 1)[0] + "@") if len(netloc) == 2 else ""
print(url._replace(scheme=scheme, netloc=user + netloc[-1]).geturl())
print(unquote(url.password or ""))'
{ read -r url; read -r password || true; } < <("${PYTHON:-python3}" -c "$split_url")
[ -z "$password" ] || export PGPASSWORD="$password"

umask 077
mkdir -p "$backup_dir"
file="$backup_dir/assistant-$(date -u +%Y%m%dT%H%M%SZ).dump"
pg_dump --format=custom --no-owner --no-privileges --dbname="$url" --file="$file.partial"
mv "$file.partial" "$file"
find "$backup_dir" -maxdepth 1 -name 'assistant-*.dump' -mmin +$((keep_days * 1440)) -delete
find "$backup_dir" -maxdepth 1 -name 'assistant-*.dump.partial' -mmin +1440 -delete
echo "backup: $file ($(du -h "$file" | cut -f1)); kept: $(find "$backup_dir" -maxdepth 1 -name 'assistant-*.dump' | wc -l) dump(s)"
