"""Set-up for the whole test session."""

from __future__ import annotations

import signal
from types import FrameType


def _still_ignored(signum: int, frame: FrameType | None) -> None:
    """Stands for SIG_IGN in the test run itself (see below)."""


# Tests send SIGINT and SIGHUP to the ocr processes they start, as Ctrl-C or a closed terminal
# would. A test run started under nohup, or in the background by a shell without job control,
# ignores them, and ocr, which keeps a signal ignored when it starts so (`nohup ocr scan ...`),
# ignored them too: seven interrupt tests failed (exit 0, not 130). A handler that does nothing
# keeps them ignored here, while the processes the tests start get their default handling back
# (exec resets a handler to the default, not an ignored signal).
for _signal in (signal.SIGINT, signal.SIGHUP):
    if signal.getsignal(_signal) == signal.SIG_IGN:
        signal.signal(_signal, _still_ignored)
