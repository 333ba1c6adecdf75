#!/usr/bin/env python3
"""Self-check for infra/moto/server.py.

Usage: python3 infra/moto/selfcheck.py http://127.0.0.1:PORT

Creates a one-state (Pass) state machine and starts three executions in a row;
each must reach SUCCEEDED (with plain moto 5.2.1 the 2nd and 3rd fail with
HTTP 500, getmoto/moto#10077; without the interpreter switch the history is fake).
Exits 0 on success, 1 on failure.
"""
import json
import sys
import time
import uuid

import boto3
from botocore.config import Config


def main(argv):
    if len(argv) != 1:
        sys.stderr.write("usage: selfcheck.py ENDPOINT_URL\n")
        return 2
    sfn = boto3.client(
        "stepfunctions",
        endpoint_url=argv[0],
        region_name="eu-south-1",
        aws_access_key_id="ak",
        aws_secret_access_key="sk",
        config=Config(retries={"max_attempts": 1}),
    )
    definition = {
        "StartAt": "Echo",
        "States": {
            "Echo": {"Type": "Pass", "Result": {"ok": True}, "ResultPath": "$.check", "End": True}
        },
    }
    arn = sfn.create_state_machine(
        name="selfcheck-" + uuid.uuid4().hex[:8],
        definition=json.dumps(definition),
        roleArn="arn:aws:iam::123456789012:role/selfcheck",
    )["stateMachineArn"]
    failed = False
    for i in range(3):
        t0 = time.monotonic()
        exec_arn = sfn.start_execution(
            stateMachineArn=arn, name=f"run-{i}", input=json.dumps({"i": i})
        )["executionArn"]
        deadline = time.monotonic() + 15
        while True:
            d = sfn.describe_execution(executionArn=exec_arn)
            if d["status"] != "RUNNING" or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        out = json.loads(d.get("output") or "null")
        ok = d["status"] == "SUCCEEDED" and out == {"i": i, "check": {"ok": True}}
        failed |= not ok
        print(f"execution {i + 1}/3: {d['status']} output={d.get('output')} "
              f"{(time.monotonic() - t0) * 1000:.0f} ms {'ok' if ok else 'FAIL'}")
    print("selfcheck", "FAILED" if failed else "ok")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
