"""User-facing messages, kept as constants so that tests compare them verbatim.

Each message is one line.  English text; the command line adds the Chinese
version where ``--lang zh`` is asked for (see :data:`ZH`).
"""
from __future__ import annotations

# --- reading files -------------------------------------------------------
FILE_NOT_FOUND = "{table}: file not found: {path}"
NO_ORDERS_FILE = "no orders file in {path}: expected orders.csv, orders.parquet or orders.xlsx"
UNSUPPORTED_FORMAT = "{path}: unsupported file type '{suffix}'; expected .csv, .parquet or .xlsx"
UNREADABLE_FILE = "{path}: cannot be read as {kind}: {error}"
UNKNOWN_ENCODING = "{path}: text encoding not recognised (tried UTF-8, UTF-8 with BOM, GB18030)"
MISSING_COLUMNS = "{path}: missing required column(s) {columns} for the {table} table; found {found}"
EMPTY_TABLE = "{path}: the {table} table has no rows"

# --- mapping profiles ----------------------------------------------------
PROFILE_NOT_FOUND = "mapping profile not found: {path}"
PROFILE_INVALID = "mapping profile {path}: {error}"
PROFILE_UNKNOWN_UNIT = "mapping profile {path}: unknown unit '{unit}' for {table}.{column}; known: {known}"
PROFILE_NEEDS_YEAR = "mapping profile {path}: {table}.{column} uses '{unit}' timestamps, which need 'year = YYYY' in the profile"

# --- row rejections (reason column of rejected_rows.csv) -----------------
REJECT_MISSING = "missing {column}"
REJECT_UNPARSEABLE_TIME = "unparseable time in {column}: '{value}'"
REJECT_UNPARSEABLE_NUMBER = "not a number in {column}: '{value}'"
REJECT_NEGATIVE = "negative {column}: {value}"
REJECT_DELIVERED_BEFORE_ACCEPTED = "delivered_at before accepted_at"
REJECT_PICKED_UP_OUTSIDE = "picked_up_at outside [accepted_at, delivered_at]"
REJECT_DUPLICATE_ORDER = "duplicate order_id {value} (first seen on line {first})"
REJECT_DISTANCE = "distance_km over {limit:g} km: {value}"
REJECT_LOGOUT_BEFORE_LOGIN = "logout_at before login_at"
REJECT_SESSION_TOO_LONG = "session over {limit:g} h: {value:.1f} h"
REJECT_BAD_CHOICE = "invalid {column} '{value}'; expected one of {choices}"
REJECT_PERIOD = "period_end before period_start"
REJECT_WARNING = "invalid warning '{value}'; expected type:level items with level blue, yellow, orange or red"
REJECT_DUPLICATE_KEY = "duplicate {table} row for {value} (first seen on line {first})"

# --- run -----------------------------------------------------------------
UNKNOWN_CHECK = "unknown check '{name}'; known checks: {known}"
NO_ROWS_LEFT = ("{path}: every row of the {table} table was rejected (line {line}: {reason}); "
                "gigaudit validate lists them all")
UNKNOWN_LANG = "unknown language '{lang}'; expected zh or en"
