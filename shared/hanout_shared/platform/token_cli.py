"""`hanout-token`: mint a development JWT for an agent of a workspace."""

import argparse
import os

from hanout_shared.platform.auth import mint_dev_token
from hanout_shared.platform.settings import DEV_JWT_SECRET


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Mint a development bearer token (HS256).")
    parser.add_argument("--agent", default="agent-1", help="agent id (sub claim)")
    parser.add_argument("--name", default=None, help="display name (name claim)")
    parser.add_argument("--workspace", default="demo", help="workspace id (wid claim)")
    parser.add_argument("--role", action="append", choices=["agent", "admin"], dest="roles")
    parser.add_argument("--ttl", type=int, default=12 * 3600, help="lifetime in seconds")
    args = parser.parse_args(argv)
    secret = os.environ.get("AUTH_JWT_SECRET", DEV_JWT_SECRET)
    token = mint_dev_token(
        secret,
        agent_id=args.agent,
        workspace_id=args.workspace,
        name=args.name,
        roles=args.roles or ["agent"],
        ttl_s=args.ttl,
    )
    print(token)


if __name__ == "__main__":
    main()
