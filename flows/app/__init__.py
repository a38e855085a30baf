"""What people use: the ``jixiao`` command line and the quarantine review commands."""
