"""Mixed-precision training tests: one torch thread each (they check behaviour, not speed)."""

from torch_threads import one_thread  # noqa: F401 - autouse
