"""``httpie-trulioo``: print a token for other tools, list the cached tokens, clear them.

Exit status: 0 done, 1 error (one line on stderr), 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from . import __version__
from .auth import TruliooAuth
from .cache import Entry, TokenCache, cache_folder, folder_problem
from .errors import TruliooError
from .logs import log_to_stderr
from .profiles import config_file
from .secret_sources import ask_on_terminal
from .settings import load_settings
from .token import jwt_claims
from .urls import without_userinfo

CLAIMS = ("scope", "aud", "client_id", "exp")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; return its exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    log_to_stderr()
    try:
        return int(args.run(args))
    except TruliooError as exc:
        print(f"httpie-trulioo: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="httpie-trulioo",
        description="Trulioo client-credentials tokens, as http --auth-type=trulioo caches them.",
        epilog="Settings come from TRULIOO_* variables and TRULIOO_PROFILE, as for the plugin.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")

    token = commands.add_parser(
        "token",
        help="print a valid bearer token (cached, or fetched)",
        description="Print a valid bearer token to stdout, from the cache or fetched, e.g. "
        'curl -H "Authorization: Bearer $(httpie-trulioo token)" ...',
    )
    token.add_argument(
        "--json", action="store_true", help="print the token with its expiry and settings as JSON"
    )
    token.set_defaults(run=_token)

    status = commands.add_parser(
        "status",
        help="list the cached tokens (never the tokens themselves)",
        description="List the cached tokens: client id, token URL, scope asked for and granted, "
        "audience and resource (when set), when obtained, when they expire.",
    )
    status.add_argument("--json", action="store_true", help="print JSON for scripts")
    status.add_argument("--claims", action="store_true", help="add the JWT claims scope, aud, client_id, exp")
    status.set_defaults(run=_status)

    clear = commands.add_parser(
        "clear",
        help="remove cached tokens",
        description="Remove every cached token, or only those of one client.",
    )
    clear.add_argument("--client-id", metavar="ID", help="remove only this client's tokens")
    clear.set_defaults(run=_clear)
    return parser


def _token(args: argparse.Namespace) -> int:
    auth = TruliooAuth(secret_prompt=ask_on_terminal)
    token = auth.token()
    if not args.json:
        print(token.access_token)
        return 0
    details: dict[str, Any] = {
        "token": token.access_token,
        "expires_at": _iso(token.expires_at),
        "expires_in": int(token.expires_at - time.time()) if token.expires_at is not None else None,
        **auth.describe(),
        "granted_scope": token.scope,  # as the server answered; None if it did not say
    }
    print(json.dumps(details, indent=2))
    return 0


def _cache() -> TokenCache:
    settings = load_settings(os.environ)
    return TokenCache(cache_folder(settings.cache_dir), lock_timeout=settings.timeout)


def _status(args: argparse.Namespace) -> int:
    cache = _cache()
    now = time.time()
    problem = folder_problem(cache.folder) if os.path.exists(cache.folder) else ""
    entries = [] if problem else [entry for _, entry in cache.entries()]
    rows = [_describe(entry, now, args.claims) for entry in entries]
    profiles = config_file(os.environ)
    if args.json:
        print(json.dumps({"cache_dir": cache.folder, "config_file": profiles, "tokens": rows}, indent=2))
        return 0
    print(f"cache folder:  {cache.folder}{_folder_state(cache.folder, problem)}")
    print(f"profiles file: {profiles}{'' if os.path.exists(profiles) else ' (none yet)'}")
    if not rows:
        print("no cached tokens")
        return 0
    # The audience and resource columns appear only when some entry has one.
    extra = [name for name in ("audience", "resource") if any(row[name] for row in rows)]
    table = [
        [
            "CLIENT ID",
            "TOKEN URL",
            "SCOPE",
            "GRANTED",
            *(name.upper() for name in extra),
            "OBTAINED AT",
            "EXPIRES IN",
            "STATE",
        ]
    ]
    for entry, row in zip(entries, rows, strict=True):
        table.append(
            [
                row["client_id"],
                row["token_url"],
                row["scope"] or "-",
                _printable(row["granted_scope"]) or "-",
                *(row[name] or "-" for name in extra),
                _local(entry.token.obtained_at),
                _in(row["expires_in"]),
                "expired" if row["expired"] else "valid",
            ]
        )
    widths = [max(len(line[column]) for line in table) for column in range(len(table[0]))]
    for line in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip())
    if args.claims:
        for row in rows:
            print(f"{row['client_id']} @ {row['token_url']}: claims {json.dumps(row['claims'])}")
    return 0


def _folder_state(folder: str, problem: str) -> str:
    if not os.path.exists(folder):
        return " (none yet)"
    if not os.path.isdir(folder):
        return " (not a folder: the cache cannot be used)"
    return f" (not used: {problem.replace(folder + ' ', '')})" if problem else ""


def _describe(entry: Entry, now: float, with_claims: bool) -> dict[str, Any]:
    token = entry.token
    expires_at = token.expires_at or 0.0
    row: dict[str, Any] = {
        "client_id": entry.client_id,
        "token_url": without_userinfo(entry.token_url),  # an older version may have kept one
        "scope": entry.scope,
        "granted_scope": token.scope,
        "audience": entry.audience,
        "resource": entry.resource,
        "obtained_at": _iso(token.obtained_at),
        "expires_at": _iso(expires_at),
        "expires_in": int(expires_at - now),
        "expired": now >= expires_at,
    }
    if with_claims:
        row["claims"] = _claims(token.access_token)
    return row


def _claims(access_token: str) -> dict[str, Any] | None:
    claims = jwt_claims(access_token)
    if claims is None:
        return None
    return {name: claims[name] for name in CLAIMS if name in claims}


def _clear(args: argparse.Namespace) -> int:
    cache = _cache()
    if not os.path.exists(cache.folder):
        print(f"removed 0 cached tokens from {cache.folder}")
        return 0
    problem = folder_problem(cache.folder)
    if problem:
        raise TruliooError(f"{problem}; nothing was removed.")
    chosen = [path for path, entry in cache.entries() if args.client_id in (None, entry.client_id)]
    leftovers = cache.leftovers() if args.client_id is None else []
    removed = 0
    for path in chosen + leftovers:
        try:
            os.unlink(path)
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise TruliooError(f"could not remove {path}: {exc.strerror}.") from None
        removed += path in chosen
    whose = f" of client {args.client_id!r}" if args.client_id is not None else ""
    print(f"removed {removed} cached token{'' if removed == 1 else 's'}{whose} from {cache.folder}")
    return 0


def _printable(text: str | None) -> str:
    """Server text for a table cell: no escapes, no line breaks."""
    return "".join(ch if ch.isprintable() else " " for ch in text or "")


def _iso(epoch: float | None) -> str | None:
    try:
        moment = datetime.fromtimestamp(epoch, UTC) if epoch is not None else None
    except (ValueError, OverflowError, OSError):
        return None  # a time no calendar date can show
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z") if moment else None


def _local(epoch: float) -> str:
    try:
        return datetime.fromtimestamp(epoch).strftime("%Y-%m-%d %H:%M:%S")
    except (ValueError, OverflowError, OSError):
        return "-"


def _in(seconds: int) -> str:
    if seconds <= 0:
        return "-"
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


if __name__ == "__main__":
    sys.exit(main())
