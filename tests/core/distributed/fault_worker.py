"""Faulty jobs, run by test_faults.py and test_launcher.py (``mode`` is the first argument):

- ``raise``: a loop of collectives in which rank 1 raises at step 2;
- ``timeout``: rank 1 never joins rank 0's all_reduce (group timeout 2 s);
- ``exit``: rank 1 calls ``sys.exit(3)`` mid-job;
- ``env``: each rank prints the launcher's variables and its argv as one JSON line.
"""

import json
import os
import sys
import time
from datetime import timedelta

import ember
from ember import distributed as dist

LAUNCH_VARIABLES = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "GROUP_RANK", "MASTER_ADDR",
                    "MASTER_PORT", "OMP_NUM_THREADS")


def raise_at_step_2():
    dist.init_process_group()
    for step in range(5):
        if step == 2 and dist.get_rank() == 1:
            raise ValueError(f"rank 1 fails at step {step}")
        dist.all_reduce(ember.ones(1000))


def never_join():
    dist.init_process_group(timeout=timedelta(seconds=2))
    if dist.get_rank() == 1:
        time.sleep(120)
    dist.all_reduce(ember.ones(10))


def exit_mid_job():
    dist.init_process_group()
    dist.barrier()
    if dist.get_rank() == 1:
        sys.exit(3)
    dist.barrier()


def print_environment():
    print(json.dumps({"env": {name: os.environ.get(name) for name in LAUNCH_VARIABLES},
                      "argv": sys.argv, "name": __name__}), flush=True)


MODES = {"raise": raise_at_step_2, "timeout": never_join, "exit": exit_mid_job, "env": print_environment}

if __name__ == "__main__":
    MODES[sys.argv[1]]()
