"""Scale-out: training across processes (Accelerate / torchrun, gloo on CPU, nccl on GPUs) and
streaming, sharded prediction over corpora that do not fit in memory (docs/scale.md)."""

from mner.distributed.context import ProcessContext, SingleProcess, process_context

__all__ = ["ProcessContext", "SingleProcess", "process_context"]
