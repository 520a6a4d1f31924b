"""One lock for the work that runs inside the driving process: sequential tries and DAG callbacks.

Such work swaps process-global state while it runs (sys.stdout and sys.stderr, file descriptors
1 and 2, sys.path, import hooks), and a scheduler drives several DAGs at once, one thread each:
without the lock one thread's output lands in, or is restored to, another's closed log. Holding
it keeps the sequential executor's promise across those threads: one try at a time in the
process. Re-entrant, because a sub-DAG's tries run inside its parent's try.
"""

from __future__ import annotations

import threading

ONE_AT_A_TIME = threading.RLock()
