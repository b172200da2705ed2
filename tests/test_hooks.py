"""The fork and exit hooks: none at import, registered once by the first logger; a
forked child starts fresh, and the exit hook flushes what was counted."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap


def test_a_forked_child_starts_fresh() -> None:
    script = textwrap.dedent(
        """
        import asyncio, json, os, httpx
        from ai_disclosure._logger import DisclosureLogger

        seen = []
        def handle(request):
            seen.append(os.getpid())
            return httpx.Response(202, json={"status": "stored"})

        logger = DisclosureLogger("demarches", "http://r.test", "t",
                                  transport=httpx.MockTransport(handle))
        args = ("assistant-dechets", "/a", "ai-originated", True, "fr")
        logger.record(*args)

        pid = os.fork()
        if pid == 0:
            fresh = logger.stats()["recorded"] == 0 and logger.aggregator.pending_keys == 0
            async def child():
                logger.record(*args)
                logger.record(*args)
                await logger.flush()
                await logger.aclose()
            asyncio.run(child())
            ok = fresh and logger.stats()["sent"] == 2 and seen == [os.getpid()]
            os._exit(0 if ok else 1)
        _, status = os.waitpid(pid, 0)
        parent = logger.stats()["recorded"]
        logger.close()
        print(json.dumps({"child": os.waitstatus_to_exitcode(status), "parent": parent,
                          "sent": logger.stats()["sent"]}))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(result.stdout) == {"child": 0, "parent": 1, "sent": 1}


def test_importing_registers_no_hook_and_the_first_logger_registers_them_once() -> None:
    script = textwrap.dedent(
        """
        import atexit, json, os, sys

        hooks = []
        def spy(register, kind):
            def wrapper(*args, **kwargs):
                for fn in (*args, *kwargs.values()):
                    if getattr(fn, "__module__", "").startswith("ai_disclosure"):
                        hooks.append(kind)
                return register(*args, **kwargs)
            return wrapper
        atexit.register = spy(atexit.register, "exit")
        os.register_at_fork = spy(os.register_at_fork, "fork")

        import httpx
        import ai_disclosure
        import ai_disclosure._logger
        from ai_disclosure import DisclosureLogger
        at_import = list(hooks)

        def handle(request):
            print("sent at exit", flush=True)
            return httpx.Response(202, json={"status": "stored"})

        loggers = [DisclosureLogger("demarches", "http://r.test", "t",
                                    transport=httpx.MockTransport(handle)) for _ in range(2)]
        loggers[0].record("assistant-dechets", "/a", "ai-originated", True, "fr")
        print(json.dumps({"import": at_import, "loggers": sorted(hooks)}), flush=True)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    first, *rest = result.stdout.splitlines()
    assert json.loads(first) == {"import": [], "loggers": ["exit", "fork"]}
    assert rest == ["sent at exit"]  # the exit hook flushes what was counted
