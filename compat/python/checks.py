"""What the compatibility scripts share: a failed check, the command line, and running the
checks in order so that one failure does not hide the others."""

from __future__ import annotations

import argparse
import os
import sys
import traceback


class CheckFailed(Exception):
    pass


def check(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


def arguments(description: str, options: list[tuple[str, str, str]]) -> argparse.Namespace:
    """Each of `options` is (flag, environment variable, help); every one is required, from
    the command line or from the environment."""
    parser = argparse.ArgumentParser(description=description)
    for name, env, help in options:
        parser.add_argument(name, default=os.environ.get(env), help=f"{help} (or ${env})")
    args = parser.parse_args()
    missing = [k for k, v in vars(args).items() if not v]
    if missing:
        parser.error("missing: " + ", ".join(missing))
    args.base = args.base.rstrip("/")
    return args


class Steps:
    """Runs the checks in order; a failed step is reported and the independent ones still
    run, while a step that later ones need (`needed=True`) stops the run. `explain` may turn
    an exception of the library under test into one line (None: report it as unexpected)."""

    def __init__(self, library: str, explain=None) -> None:
        self.library = library
        self.explain = explain or (lambda e: None)
        self.failed: list[str] = []

    def run(self, name: str, step, needed: bool = False):
        try:
            return step()
        except CheckFailed as e:
            print(f"FAIL {name}: {e}", flush=True)
        except Exception as e:
            explained = self.explain(e)
            if explained is not None:
                print(f"FAIL {name}: {explained}", flush=True)
            else:
                print(f"FAIL {name}: unexpected {type(e).__name__}: {e}", flush=True)
                traceback.print_exc(file=sys.stdout)
        self.failed.append(name)
        if needed:
            raise SystemExit(self.finish())
        return None

    def finish(self) -> int:
        if self.failed:
            print(f"{self.library}: {len(self.failed)} failed: {', '.join(self.failed)}")
            return 1
        print(f"{self.library}: all checks passed")
        return 0
