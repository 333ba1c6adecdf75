#!/usr/bin/env python3
"""Local moto server for the PEC platform.

Usage: python3 infra/moto/server.py PORT [extra moto.server args]

Applies two fixes before moto creates anything (see shared/local-cloud.md):
  1. switches the Step Functions ASL interpreter on (it must be on before any
     state machine is created; the runtime switch races start-up);
  2. works around getmoto/moto#10077 (moto 5.2.1): start_execution deep-copies
     the state machine, which holds its live executions and the backend
     (thread locks), so every execution after the first fails with
     "cannot pickle '_thread.RLock' object".
Then runs moto's server bound to 127.0.0.1 on PORT.
"""
import sys

from moto.core.config import default_user_config

default_user_config["stepfunctions"]["execute_state_machine"] = True

import copy  # noqa: E402

import moto.server  # noqa: E402
from moto.stepfunctions.models import StateMachineInstance  # noqa: E402


def _state_machine_deepcopy(self, memo):
    cls = self.__class__
    clone = cls.__new__(cls)
    memo[id(self)] = clone
    for key, value in self.__dict__.items():
        if key == "backend":
            setattr(clone, key, value)  # shared, never copied (holds locks)
        elif key == "executions":
            setattr(clone, key, [])  # live executions belong to the original
        else:
            setattr(clone, key, copy.deepcopy(value, memo))
    return clone


StateMachineInstance.__deepcopy__ = _state_machine_deepcopy


def main(argv):
    if len(argv) < 1 or not argv[0].isdigit():
        sys.stderr.write("usage: server.py PORT [moto.server args]\n")
        return 2
    moto.server.main(["--host", "127.0.0.1", "--port", argv[0], *argv[1:]])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
