"""Run a stream of request tasks on a few threads, yielding results as they complete."""

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from itertools import islice
from typing import TypeVar

T = TypeVar("T")


def in_parallel(workers: int, tasks: Iterable[Callable[[], T]], name: str) -> Iterator[T]:
    """Run `tasks` on `workers` threads and yield each result as it completes, in any order.

    Each request a task sends still takes a slot of its key's shared limit, so clients sharing a key
    never exceed it together. At most two tasks per worker are taken from `tasks` ahead of the
    results, so a lazy source keeps memory bounded. A task's exception cancels the tasks not yet
    started and propagates.
    """
    source = iter(tasks)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name) as pool:
        pending: set[Future[T]] = set()
        try:
            while True:
                for task in islice(source, workers * 2 - len(pending)):
                    pending.add(pool.submit(task))
                if not pending:
                    return
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    yield future.result()
        finally:
            for future in pending:
                future.cancel()
