"""The core tensor ops: each module holds one kind, with its backward nodes."""
