"""Reading files and checking their forms: the entry point (``extract``) and the worker pool
that runs it in processes with a timeout per file (``pool``)."""
