"""What the service never shows: secrets in logs, and paths or database details in error bodies.

- ``hide_secrets``: the value of every query parameter (or ``name=value`` pair) whose name looks
  like a secret (``api_key``, ``token``, ``access_token``, ``secret``, ``password``, ``auth``,
  ``signature``...), of an ``X-API-Key:`` or ``Authorization:`` header written out, and the
  password of a URL become ``[hidden]``. Run on the access line and, by the log filter, on
  every log line.
- ``public``: an error message made safe for a client: ``hide_secrets``, then every URL is cut
  to its scheme, an absolute file path to its last part (``…/register.db``), and a database
  host, user, role or IP address is hidden.
"""
from __future__ import annotations

import re
from urllib.parse import unquote_plus

HIDDEN = "[hidden]"
_SECRET_NAME = re.compile(r"key|token|secret|passw|pwd|auth|signature|sig$|credential|session|cookie", re.I)
_PAIR = re.compile(r"(?P<head>(?:^|[?&;\s,(\[{\"'])(?P<name>[^\s=&;?,\"'(){}\[\]]+)=)(?P<value>\[hidden\]|[^&;\s,\"')}\]]+)")
_HEADER = re.compile(r"(?i)\b(x-api-key|authorization|api-key)(\s*[:=]\s*)(?:bearer\s+|basic\s+)?[^\s,;]+")
_URL_PASSWORD = re.compile(r"(?P<scheme>\b[a-zA-Z][\w+.-]*://)(?P<user>[^\s:/@]*):[^\s@/]*@")

_URL = re.compile(r"\b(?P<scheme>[a-zA-Z][\w+.-]*)://(?:[^\s'\"<>)]*[^\s'\"<>):.,;])?")
_PART = r"[^\s/'\"(),;:<>\[\]{}]+"
_POSIX_PATH = re.compile(rf"(?<![\w.:/\]~-])(?:/{_PART})+/(?P<last>{_PART})?/?")
_WINDOWS_PATH = re.compile(r"\b[A-Za-z]:\\(?:[^\s\\'\"]+\\)*(?P<last>[^\s\\'\"]*)")
_DB_WORDS = re.compile(r"(?i)\b(user|role|host name|host|server at|hostaddr|dbname|database)(\s*=\s*|\s+)"
                       r"(\"[^\"]*\"|'[^']*'|[^\s,;)]+)")
_IPV4 = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b")
_API_PATH = ("/v1/", "/docs", "/redoc", "/openapi")


def hide_secrets(text: str) -> str:
    """``text`` with secret-looking parameter values, header values and URL passwords hidden."""
    def pair(m: re.Match) -> str:
        name = unquote_plus(m["name"]).rsplit(".", 1)[-1]
        return m["head"] + HIDDEN if _SECRET_NAME.search(name) else m.group(0)  # idempotent: [hidden] stays

    text = _PAIR.sub(pair, text)
    text = _HEADER.sub(lambda m: f"{m[1]}{m[2]}{HIDDEN}", text)
    return _URL_PASSWORD.sub(lambda m: f"{m['scheme']}{m['user']}:{HIDDEN}@", text)


def public(text: str) -> str:
    """An error message with no secret, no absolute path and no database host or user."""
    text = hide_secrets(text)
    text = _URL.sub(lambda m: f"{m['scheme']}://{HIDDEN}", text)

    def path(m: re.Match) -> str:
        whole = m.group(0)
        if whole.startswith(_API_PATH):
            return whole
        last = m["last"] or whole.rstrip("/").rsplit("/", 1)[-1]
        return f"…/{last}"

    text = _POSIX_PATH.sub(path, text)
    text = _WINDOWS_PATH.sub(lambda m: f"…\\{m['last']}", text)
    text = _DB_WORDS.sub(lambda m: f"{m[1]}{m[2]}{HIDDEN}", text)
    return _IPV4.sub(HIDDEN, text)
